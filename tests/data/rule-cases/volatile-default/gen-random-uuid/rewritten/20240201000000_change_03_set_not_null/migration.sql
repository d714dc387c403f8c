-- migrate-safe: from migration "20240201000000_change": SET NOT NULL without a scan (the validated check proves it), then drops the check
ALTER TABLE "Post" ALTER COLUMN "publicId" SET NOT NULL;
ALTER TABLE "Post" DROP CONSTRAINT "Post_publicId_not_null";
DROP TRIGGER IF EXISTS "migrate_safe_backfill_Post_000002" ON "Post";
DROP FUNCTION IF EXISTS "migrate_safe_backfill_Post_000002"();
