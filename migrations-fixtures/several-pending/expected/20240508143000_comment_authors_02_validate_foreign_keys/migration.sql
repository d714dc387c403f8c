-- migrate-safe: from migration "20240508143000_comment_authors": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "comments" VALIDATE CONSTRAINT "comments_author_id_fkey";
