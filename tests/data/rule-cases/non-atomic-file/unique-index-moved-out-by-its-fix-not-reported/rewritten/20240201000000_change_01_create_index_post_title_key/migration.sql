-- migrate-safe: from migration "20240201000000_change": builds "Post_title_key" on "Post" without blocking writes (must stay alone in this file)
CREATE UNIQUE INDEX CONCURRENTLY "Post_title_key" ON "Post"("title");
