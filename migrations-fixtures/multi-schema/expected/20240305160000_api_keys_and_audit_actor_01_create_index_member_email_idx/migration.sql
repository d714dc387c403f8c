-- migrate-safe: from migration "20240305160000_api_keys_and_audit_actor": builds "Member_email_idx" on "app"."Member" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "Member_email_idx" ON "app"."Member"("email");
