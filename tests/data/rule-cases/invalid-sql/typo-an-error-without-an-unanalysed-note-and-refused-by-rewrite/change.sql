-- AlterTable
ALTER TABLE "Post" ADD COLUMN "subtitle" TEXT;

-- CreateIndex
CREAT INDEX "Post_subtitle_idx" ON "Post"("subtitle");
