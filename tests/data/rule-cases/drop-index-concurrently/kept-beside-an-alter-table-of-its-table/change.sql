-- AlterTable
ALTER TABLE "Post" ADD COLUMN "body" TEXT;

-- DropIndex
DROP INDEX "Post_authorId_idx";
