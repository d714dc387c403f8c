-- migrate-safe: from migration "20240305160000_api_keys_and_audit_actor": builds "AuditEvent_occurredAt_idx" on "audit"."AuditEvent" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "AuditEvent_occurredAt_idx" ON "audit"."AuditEvent"("occurredAt" DESC);
