-- migrate-safe: lock-timeout
SET lock_timeout = '2s';

-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

BEGIN;
ALTER TABLE "Post" ADD COLUMN "body" TEXT;
COMMIT;

-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;

-- migrate-safe: lock-timeout ends with the migration
RESET lock_timeout;
