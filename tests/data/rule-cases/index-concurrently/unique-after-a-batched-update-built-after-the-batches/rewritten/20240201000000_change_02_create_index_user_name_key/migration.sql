-- migrate-safe: from migration "20240201000000_change": builds "User_name_key" on "User" without blocking writes (must stay alone in this file)
CREATE UNIQUE INDEX CONCURRENTLY "User_name_key" ON "User"("name");
