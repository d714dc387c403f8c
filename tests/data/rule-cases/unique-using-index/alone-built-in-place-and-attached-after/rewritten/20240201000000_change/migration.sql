-- AlterTable
CREATE UNIQUE INDEX CONCURRENTLY "User_name_key" ON "User"("name");
