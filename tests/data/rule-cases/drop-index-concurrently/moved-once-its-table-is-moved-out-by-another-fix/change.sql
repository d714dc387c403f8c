-- AlterTable
ALTER TABLE "Post" ADD CONSTRAINT "Post_title_key" UNIQUE ("title");

-- DropIndex
DROP INDEX "Post_authorId_idx";
