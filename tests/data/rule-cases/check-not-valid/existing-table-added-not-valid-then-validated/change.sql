-- AlterTable
ALTER TABLE "Post" ADD CONSTRAINT "Post_title_check" CHECK (length("title") > 0 AND ("title" <> 'a;b'));
