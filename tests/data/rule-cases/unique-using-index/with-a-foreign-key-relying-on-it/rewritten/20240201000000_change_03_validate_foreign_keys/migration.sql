-- migrate-safe: from migration "20240201000000_change": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "Profile" VALIDATE CONSTRAINT "Profile_userName_fkey";
