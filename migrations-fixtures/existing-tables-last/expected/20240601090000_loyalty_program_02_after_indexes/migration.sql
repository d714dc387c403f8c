-- migrate-safe: from migration "20240601090000_loyalty_program": statements that need the indexes built before
-- AddForeignKey
ALTER TABLE "LoyaltyCard" ADD CONSTRAINT "LoyaltyCard_accountCode_fkey" FOREIGN KEY ("accountCode") REFERENCES "Account"("loyaltyCode") ON DELETE RESTRICT ON UPDATE CASCADE NOT VALID;
