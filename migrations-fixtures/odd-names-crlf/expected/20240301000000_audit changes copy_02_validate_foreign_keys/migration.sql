-- migrate-safe: from migration "20240301000000_audit changes copy": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "AuditEvent" VALIDATE CONSTRAINT "AuditEvent_actorId_fkey";
