-- migrate-safe: from migration "20240201000000_change": validates the constraints added NOT VALID (scans without blocking writes)
ALTER TABLE "Post" VALIDATE CONSTRAINT "Post_publicId_not_null";
