-- AlterTable
ALTER TABLE "User" ADD CONSTRAINT "User_name_key" UNIQUE NULLS NOT DISTINCT ("name");
