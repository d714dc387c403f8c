-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT,
ADD CONSTRAINT "User_name_not_null" CHECK ("name" IS NOT NULL) NOT VALID;
