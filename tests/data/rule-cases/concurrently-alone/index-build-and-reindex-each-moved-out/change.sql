-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

-- CreateIndex
CREATE INDEX CONCURRENTLY "User_name_idx" ON "User"("name");

REINDEX INDEX CONCURRENTLY "User_email_key";
