-- CreateTable
CREATE TABLE "Tag" (
    "id" TEXT NOT NULL,
    "postId" TEXT NOT NULL,
    "label" VARCHAR(50),
    "note" TEXT
);

ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") NOT VALID;
