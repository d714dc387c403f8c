-- migrate-safe: from migration "20240318141500_drop_on_hold_status": builds "Ticket_status_priority_idx" on "Ticket" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "Ticket_status_priority_idx" ON "Ticket"("status", "priority");
