-- AlterTable
ALTER TABLE "User" ADD COLUMN "age" INTEGER NOT NULL;

-- CreateEnum
CREATE TYPE "Status" AS ENUM ('DRAFT', 'LIVE');

-- CreateTable
CREATE TABLE "Tag" (
    "id" TEXT NOT NULL,
    "postId" TEXT NOT NULL,
    "status" "Status" NOT NULL DEFAULT 'DRAFT',

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);
