-- migrate-safe: from migration "20240401000000_owner_email_relation": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "Team" VALIDATE CONSTRAINT "Team_ownerEmail_fkey";
