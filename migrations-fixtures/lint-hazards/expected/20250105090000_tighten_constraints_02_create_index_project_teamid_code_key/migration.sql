-- migrate-safe: from migration "20250105090000_tighten_constraints": builds "Project_teamId_code_key" on "Project" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE UNIQUE INDEX CONCURRENTLY "Project_teamId_code_key" ON "Project"("teamId", "code");
