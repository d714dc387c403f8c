-- migrate-safe: from migration "20240201000000_change": attaches constraints to the indexes built before (metadata only), and what needs them
ALTER TABLE "Post" ADD CONSTRAINT "Post_title_key" UNIQUE USING INDEX "Post_title_key";
