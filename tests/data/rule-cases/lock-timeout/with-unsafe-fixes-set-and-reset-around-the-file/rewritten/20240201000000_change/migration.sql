-- migrate-safe: lock-timeout
SET lock_timeout = '5s';

-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

-- AlterTable
ALTER TABLE "Post" ADD COLUMN "body" TEXT;

-- migrate-safe: lock-timeout ends with the migration
RESET lock_timeout;
