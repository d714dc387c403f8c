-- migrate-safe: from migration "20240601090000_loyalty_program": builds "Account_loyaltyCode_key" on "Account" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE UNIQUE INDEX CONCURRENTLY "Account_loyaltyCode_key" ON "Account"("loyaltyCode");
