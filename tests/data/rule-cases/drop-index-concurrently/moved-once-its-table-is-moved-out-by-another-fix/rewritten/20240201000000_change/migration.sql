-- AlterTable
CREATE UNIQUE INDEX CONCURRENTLY "Post_title_key" ON "Post"("title");
