-- CreateTable
CREATE TABLE "Tag" (
    "id" TEXT NOT NULL,
    "postId" TEXT NOT NULL,
    "label" VARCHAR(50),
    "note" TEXT
);

-- AddForeignKey
ALTER TABLE "Tag" ADD CONSTRAINT "Tag_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
