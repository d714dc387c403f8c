-- migrate-safe: from migration "20240401000000_owner_email_relation": builds "Team_slug_idx" on "Team" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "Team_slug_idx" ON "Team"("slug");
