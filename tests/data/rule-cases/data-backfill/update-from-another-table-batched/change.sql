-- AlterTable
ALTER TABLE "Post" ADD COLUMN "authorEmail" TEXT;

UPDATE "Post" AS p SET "authorEmail" = u."email" FROM "User" u WHERE u."id" = p."authorId";
