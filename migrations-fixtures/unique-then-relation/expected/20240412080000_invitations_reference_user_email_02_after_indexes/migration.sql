-- migrate-safe: from migration "20240412080000_invitations_reference_user_email": statements that need the indexes built before
-- AddForeignKey
ALTER TABLE "Invitation" ADD CONSTRAINT "Invitation_invitedByEmail_fkey" FOREIGN KEY ("invitedByEmail") REFERENCES "User"("email") ON DELETE RESTRICT ON UPDATE CASCADE NOT VALID;

-- AddForeignKey
ALTER TABLE "NotificationSetting" ADD CONSTRAINT "NotificationSetting_userEmail_fkey" FOREIGN KEY ("userEmail") REFERENCES "User"("email") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;
