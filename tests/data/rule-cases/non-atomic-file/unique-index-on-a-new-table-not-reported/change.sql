-- CreateTable
CREATE TABLE "Tag" (
    "id" TEXT NOT NULL,
    "postId" TEXT NOT NULL,
    "label" VARCHAR(50),
    "note" TEXT
);

CREATE UNIQUE INDEX "Tag_label_key" ON "Tag"("label");
