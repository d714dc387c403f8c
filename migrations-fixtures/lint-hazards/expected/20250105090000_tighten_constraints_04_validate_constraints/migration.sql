-- migrate-safe: from migration "20250105090000_tighten_constraints": validates the constraints added NOT VALID (scans without blocking writes)
ALTER TABLE "User" VALIDATE CONSTRAINT "User_name_not_null";
