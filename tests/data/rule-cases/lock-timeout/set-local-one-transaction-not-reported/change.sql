SET LOCAL lock_timeout = '2s';

-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

-- AlterTable
ALTER TABLE "Post" ADD COLUMN "body" TEXT;
