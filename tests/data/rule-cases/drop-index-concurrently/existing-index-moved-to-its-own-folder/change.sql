-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

-- DropIndex
DROP INDEX "Post_authorId_idx";
