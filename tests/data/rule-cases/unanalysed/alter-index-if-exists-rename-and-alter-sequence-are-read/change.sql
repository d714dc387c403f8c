-- RenameIndex
ALTER INDEX IF EXISTS "Post_authorId_idx" RENAME TO "Post_author_idx";

-- AlterSequence
ALTER SEQUENCE IF EXISTS "Post_id_seq" RESTART WITH 10;
