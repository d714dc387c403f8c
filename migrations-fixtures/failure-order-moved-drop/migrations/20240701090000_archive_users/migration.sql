-- Archiving moves from users to their posts (hand-written)
CREATE INDEX "archived" ON "Post"("archived");

-- AlterTable
ALTER TABLE "User" DROP COLUMN "archived";

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
