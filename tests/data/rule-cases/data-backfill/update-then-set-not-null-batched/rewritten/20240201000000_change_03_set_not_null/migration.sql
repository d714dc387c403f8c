-- migrate-safe: from migration "20240201000000_change": SET NOT NULL without a scan (the validated check proves it), then drops the check
ALTER TABLE "User" ALTER COLUMN "displayName" SET NOT NULL;
ALTER TABLE "User" DROP CONSTRAINT "User_displayName_not_null";
DROP TRIGGER IF EXISTS "migrate_safe_backfill_User_000004" ON "User";
DROP FUNCTION IF EXISTS "migrate_safe_backfill_User_000004"();
