-- AlterTable
ALTER TABLE "Post" ADD COLUMN "publicId" UUID NOT NULL DEFAULT gen_random_uuid();
