-- migrate-safe: from migration "20240515110000_project_slug_per_org": builds "projects_organization_id_slug_key" on "projects" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE UNIQUE INDEX CONCURRENTLY "projects_organization_id_slug_key" ON "projects"("organization_id", "slug");
