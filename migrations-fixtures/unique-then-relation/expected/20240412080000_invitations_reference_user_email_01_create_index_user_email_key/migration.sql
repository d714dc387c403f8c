-- migrate-safe: from migration "20240412080000_invitations_reference_user_email": builds "User_email_key" on "User" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE UNIQUE INDEX CONCURRENTLY "User_email_key" ON "User"("email");
