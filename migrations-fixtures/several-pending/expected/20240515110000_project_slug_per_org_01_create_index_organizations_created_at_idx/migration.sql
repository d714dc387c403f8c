-- migrate-safe: from migration "20240515110000_project_slug_per_org": builds "organizations_created_at_idx" on "organizations" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "organizations_created_at_idx" ON "organizations"("created_at" DESC);
