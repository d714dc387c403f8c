-- migrate-safe: from migration "20240305160000_api_keys_and_audit_actor": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "audit"."AuditEvent" VALIDATE CONSTRAINT "AuditEvent_actorId_fkey";
