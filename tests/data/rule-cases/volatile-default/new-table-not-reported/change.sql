-- CreateTable
CREATE TABLE "Tag" (
    "id" TEXT NOT NULL,
    "postId" TEXT NOT NULL,
    "label" VARCHAR(50),
    "note" TEXT
);

-- AlterTable
ALTER TABLE "Tag" ADD COLUMN "publicId" UUID NOT NULL DEFAULT gen_random_uuid();
