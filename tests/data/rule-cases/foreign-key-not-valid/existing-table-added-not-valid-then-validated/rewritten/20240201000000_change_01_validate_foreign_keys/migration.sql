-- migrate-safe: from migration "20240201000000_change": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "Post" VALIDATE CONSTRAINT "Post_authorId_fkey";
