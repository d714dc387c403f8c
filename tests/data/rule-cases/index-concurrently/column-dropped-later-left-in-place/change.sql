-- CreateIndex
CREATE INDEX "Post_title_idx" ON "Post"("title");

-- AlterTable
ALTER TABLE "Post" DROP COLUMN "title";
