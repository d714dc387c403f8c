-- migrate-safe: from migration "20240508143000_comment_authors": builds "comments_task_id_created_at_idx" on "comments" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "comments_task_id_created_at_idx" ON "comments"("task_id", "created_at");
