-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "User_name_key" ON "User"("name");
