ALTER TABLE "Post" DROP CONSTRAINT "Post_pkey", ADD CONSTRAINT "Post_pkey" PRIMARY KEY ("id", "authorId");
