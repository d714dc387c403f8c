-- migrate-safe: from migration "20250105090000_tighten_constraints": builds "Team_slug_key" on "Team" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE UNIQUE INDEX CONCURRENTLY "Team_slug_key" ON "Team"("slug");
