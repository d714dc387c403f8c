-- AlterTable
ALTER TABLE "User" ADD COLUMN "displayName" TEXT;

UPDATE "User" SET "displayName" = coalesce("name", split_part("email", '@', 1)) WHERE "displayName" IS NULL;

-- AlterTable
ALTER TABLE "User" ALTER COLUMN "displayName" SET NOT NULL;
