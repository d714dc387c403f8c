-- migrate-safe: from migration "20240501090000_task_assignees": builds "tasks_assignee_id_idx" on "tasks" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "tasks_assignee_id_idx" ON "tasks"("assignee_id");
