-- CreateEnum
CREATE TYPE "Tier" AS ENUM ('BRONZE', 'SILVER', 'GOLD');

-- CreateTable
CREATE TABLE "LoyaltyCard" (
    "id" TEXT NOT NULL,
    "accountCode" TEXT NOT NULL,
    "tier" "Tier" NOT NULL,
    "perks" JSONB NOT NULL DEFAULT '{}',
    "issuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LoyaltyCard_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PointsLedger" (
    "id" TEXT NOT NULL,
    "cardId" TEXT NOT NULL,
    "orderId" TEXT,
    "delta" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PointsLedger_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "LoyaltyCard_accountCode_key" ON "LoyaltyCard"("accountCode");

-- CreateIndex
CREATE INDEX "LoyaltyCard_perks_idx" ON "LoyaltyCard" USING GIN ("perks");

-- CreateIndex
CREATE INDEX "PointsLedger_cardId_createdAt_idx" ON "PointsLedger"("cardId", "createdAt" DESC);

-- AddForeignKey
ALTER TABLE "PointsLedger" ADD CONSTRAINT "PointsLedger_cardId_fkey" FOREIGN KEY ("cardId") REFERENCES "LoyaltyCard"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "pointsEarned" INTEGER NOT NULL DEFAULT 0;

-- AddForeignKey
ALTER TABLE "PointsLedger" ADD CONSTRAINT "PointsLedger_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AlterTable
ALTER TABLE "Account" ADD COLUMN     "loyaltyCode" TEXT,
ADD COLUMN     "tier" "Tier" NOT NULL DEFAULT 'BRONZE';

-- Hand-written: what the tiers mean, for the support team's database browser
COMMENT ON COLUMN "Account"."tier" IS 'loyalty tier: BRONZE < SILVER < GOLD';

-- CreateTable
CREATE TABLE "Reward" (
    "id" TEXT NOT NULL,
    "productId" TEXT NOT NULL,
    "tier" "Tier" NOT NULL,
    "pointsCost" INTEGER NOT NULL,

    CONSTRAINT "Reward_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Reward_tier_pointsCost_idx" ON "Reward"("tier", "pointsCost");

-- AlterTable
ALTER TABLE "Product" ADD COLUMN     "loyaltyMultiplier" DOUBLE PRECISION NOT NULL DEFAULT 1;

-- AddForeignKey
ALTER TABLE "Reward" ADD CONSTRAINT "Reward_productId_fkey" FOREIGN KEY ("productId") REFERENCES "Product"("id") ON DELETE CASCADE ON UPDATE CASCADE;
