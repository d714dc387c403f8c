-- AlterTable
ALTER TABLE "Post" DROP COLUMN "title";

-- AlterTable
ALTER TABLE "User" ADD CONSTRAINT "User_name_not_null" CHECK ("name" IS NOT NULL) NOT VALID;
