-- migrate-safe: from migration "20240301120000_teams_and_billing": builds "Document_createdAt_idx" on "Document" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "Document_createdAt_idx" ON "Document"("createdAt" DESC);
