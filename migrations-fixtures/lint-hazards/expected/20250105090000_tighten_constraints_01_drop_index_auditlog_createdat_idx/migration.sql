-- migrate-safe: from migration "20250105090000_tighten_constraints": drops "AuditLog_createdAt_idx" without blocking reads or writes (must stay alone in this file)
-- DropIndex
DROP INDEX CONCURRENTLY "AuditLog_createdAt_idx";
