-- migrate-safe: from migration "20240501090000_task_assignees": builds "tasks_project_id_status_idx" on "tasks" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "tasks_project_id_status_idx" ON "tasks"("project_id", "status");
