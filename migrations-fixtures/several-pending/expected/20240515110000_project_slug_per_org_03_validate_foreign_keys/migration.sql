-- migrate-safe: from migration "20240515110000_project_slug_per_org": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "projects" VALIDATE CONSTRAINT "projects_lead_id_fkey";
