-- migrate-safe: from migration "20240701090000_archive_users": builds "User_email_key" on "User" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE UNIQUE INDEX CONCURRENTLY "User_email_key" ON "User"("email");
