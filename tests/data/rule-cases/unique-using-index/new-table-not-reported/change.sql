-- CreateTable
CREATE TABLE "Tag" (
    "id" TEXT NOT NULL,
    "postId" TEXT NOT NULL,
    "label" VARCHAR(50),
    "note" TEXT
);

-- AlterTable
ALTER TABLE "Tag" ADD CONSTRAINT "Tag_label_key" UNIQUE ("label");
