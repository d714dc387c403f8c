-- migrate-safe: from migration "20240201000000_change": builds a constraint's unique index on "User" without blocking writes (must stay alone in this file)
-- AlterTable
CREATE UNIQUE INDEX CONCURRENTLY "User_name_key" ON "User"("name");
