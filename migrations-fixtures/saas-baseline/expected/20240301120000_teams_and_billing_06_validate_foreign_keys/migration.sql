-- migrate-safe: from migration "20240301120000_teams_and_billing": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "Document" VALIDATE CONSTRAINT "Document_authorId_fkey";
