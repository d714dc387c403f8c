-- migrate-safe: from migration "20240301120000_teams_and_billing": builds "Team_slug_key" on "Team" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE UNIQUE INDEX CONCURRENTLY "Team_slug_key" ON "Team"("slug");
