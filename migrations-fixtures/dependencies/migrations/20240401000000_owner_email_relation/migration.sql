-- AlterTable
ALTER TABLE "Team" ADD COLUMN     "ownerEmail" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "Team_slug_idx" ON "Team"("slug");

-- AddForeignKey
ALTER TABLE "Team" ADD CONSTRAINT "Team_ownerEmail_fkey" FOREIGN KEY ("ownerEmail") REFERENCES "User"("email") ON DELETE SET NULL ON UPDATE CASCADE;

-- RenameIndex
ALTER INDEX "Team_slug_idx" RENAME TO "Team_slug_lookup_idx";

-- Hand-written backfill: relies on the unique index on "User"("email").
INSERT INTO "User" ("id", "email") VALUES ('system', 'system@example.com') ON CONFLICT ("email") DO NOTHING;
