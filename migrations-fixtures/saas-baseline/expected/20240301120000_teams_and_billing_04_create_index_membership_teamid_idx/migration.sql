-- migrate-safe: from migration "20240301120000_teams_and_billing": builds "Membership_teamId_idx" on "Membership" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "Membership_teamId_idx" ON "Membership"("teamId");
