-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;

UPDATE "Post" SET "slug" = lower("title") || '-' || "id";
