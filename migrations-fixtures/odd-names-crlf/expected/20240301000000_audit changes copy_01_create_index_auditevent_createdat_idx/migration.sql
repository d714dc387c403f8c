-- migrate-safe: from migration "20240301000000_audit changes copy": builds "AuditEvent_createdAt_idx" on "AuditEvent" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "AuditEvent_createdAt_idx" ON "AuditEvent"("createdAt" DESC); -- newest first
