-- AlterTable
ALTER TABLE "Team" ADD COLUMN "plan" TEXT;

-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

-- CreateTable
CREATE TABLE "Note" (
    "id" TEXT NOT NULL
);
