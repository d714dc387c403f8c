-- migrate-safe: from migration "20240601090000_loyalty_program": validates the foreign keys added NOT VALID (scans without blocking writes)
ALTER TABLE "LoyaltyCard" VALIDATE CONSTRAINT "LoyaltyCard_accountCode_fkey";
