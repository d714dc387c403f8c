-- migrate-safe: from migration "20240701090000_archive_users": statements that need the indexes built before
-- AlterTable
ALTER TABLE "User" DROP COLUMN "archived";
