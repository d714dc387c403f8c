-- AlterTable
ALTER TABLE "Item" ADD COLUMN "slug" TEXT;

UPDATE "Item" SET "slug" = 'item-' || "id" WHERE "slug" IS NULL;

-- AlterTable
ALTER TABLE "Item" ALTER COLUMN "slug" SET NOT NULL;
