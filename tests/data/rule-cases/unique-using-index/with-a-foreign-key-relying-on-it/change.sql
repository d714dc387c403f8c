-- AlterTable
ALTER TABLE "User" ADD CONSTRAINT "User_name_key" UNIQUE ("name");

-- CreateTable
CREATE TABLE "Profile" ("id" TEXT NOT NULL, "userName" TEXT NOT NULL);

-- AddForeignKey
ALTER TABLE "Profile" ADD CONSTRAINT "Profile_userName_fkey" FOREIGN KEY ("userName") REFERENCES "User"("name");
