-- migrate-safe: from migration "20240412080000_invitations_reference_user_email": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "Invitation" VALIDATE CONSTRAINT "Invitation_invitedByEmail_fkey";
ALTER TABLE "NotificationSetting" VALIDATE CONSTRAINT "NotificationSetting_userEmail_fkey";
