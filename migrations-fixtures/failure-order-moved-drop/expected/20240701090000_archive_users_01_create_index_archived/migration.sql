-- migrate-safe: from migration "20240701090000_archive_users": builds "archived" on "Post" without blocking writes (must stay alone in this file)
-- Archiving moves from users to their posts (hand-written)
CREATE INDEX CONCURRENTLY "archived" ON "Post"("archived");
