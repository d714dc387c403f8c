-- AlterTable
ALTER TABLE "User" ADD CONSTRAINT "User_name_key" UNIQUE ("name");
