-- migrate-safe: from migration "20240201000000_change": SET NOT NULL without a scan (the validated check proves it), then drops the check
ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;
ALTER TABLE "User" DROP CONSTRAINT "User_name_not_null";
