-- migrate-safe: from migration "20240401000000_owner_email_relation": statements that need the indexes built before
-- AddForeignKey
ALTER TABLE "Team" ADD CONSTRAINT "Team_ownerEmail_fkey" FOREIGN KEY ("ownerEmail") REFERENCES "User"("email") ON DELETE SET NULL ON UPDATE CASCADE NOT VALID;

-- RenameIndex
ALTER INDEX "Team_slug_idx" RENAME TO "Team_slug_lookup_idx";

-- Hand-written backfill: relies on the unique index on "User"("email").
INSERT INTO "User" ("id", "email") VALUES ('system', 'system@example.com') ON CONFLICT ("email") DO NOTHING;
