ALTER TABLE "Post" ADD CHECK (length("title") > 0);
