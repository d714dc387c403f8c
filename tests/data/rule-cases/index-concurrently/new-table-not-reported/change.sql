-- CreateTable
CREATE TABLE "Tag" (
    "id" TEXT NOT NULL,
    "postId" TEXT NOT NULL,
    "label" VARCHAR(50),
    "note" TEXT
);

-- CreateIndex
CREATE INDEX "Tag_label_idx" ON "Tag"("label");
