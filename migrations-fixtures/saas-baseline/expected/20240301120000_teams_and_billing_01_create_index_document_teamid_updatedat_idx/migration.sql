-- migrate-safe: from migration "20240301120000_teams_and_billing": builds "Document_teamId_updatedAt_idx" on "Document" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "Document_teamId_updatedAt_idx" ON "Document"("teamId", "updatedAt");
