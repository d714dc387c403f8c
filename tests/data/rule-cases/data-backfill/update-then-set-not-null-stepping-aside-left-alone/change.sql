-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;

UPDATE "Post" SET "slug" = 'post-' || "id";

-- AlterTable
ALTER TABLE "Post" ALTER COLUMN "slug" SET NOT NULL;

-- AlterTable
ALTER TABLE "User" DROP COLUMN "name";
