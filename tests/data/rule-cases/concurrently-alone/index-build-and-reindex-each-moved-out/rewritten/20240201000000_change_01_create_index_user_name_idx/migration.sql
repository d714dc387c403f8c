-- migrate-safe: from migration "20240201000000_change": builds "User_name_idx" on "User" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "User_name_idx" ON "User"("name");
