-- AlterTable
ALTER TABLE "Post" ADD COLUMN "publishedAt" TIMESTAMP(3);

UPDATE "Post" SET "publishedAt" = CURRENT_TIMESTAMP;
