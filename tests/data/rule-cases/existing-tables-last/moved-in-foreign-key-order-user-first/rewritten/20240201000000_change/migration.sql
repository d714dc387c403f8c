
-- CreateTable
CREATE TABLE "Note" (
    "id" TEXT NOT NULL
);

-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

-- AlterTable
ALTER TABLE "Team" ADD COLUMN "plan" TEXT;
