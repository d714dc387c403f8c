-- migrate-safe: from migration "20240501090000_task_assignees": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "tasks" VALIDATE CONSTRAINT "tasks_assignee_id_fkey";
