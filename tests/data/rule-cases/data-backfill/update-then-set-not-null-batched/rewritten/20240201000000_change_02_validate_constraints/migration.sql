-- migrate-safe: from migration "20240201000000_change": validates the constraints added NOT VALID (scans without blocking writes)
ALTER TABLE "User" VALIDATE CONSTRAINT "User_displayName_not_null";
