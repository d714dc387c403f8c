-- migrate-safe: from migration "20240305160000_api_keys_and_audit_actor": builds "AuditEvent_entityType_entityId_idx" on "audit"."AuditEvent" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "AuditEvent_entityType_entityId_idx" ON "audit"."AuditEvent"("entityType", "entityId");
