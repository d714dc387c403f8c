-- migrate-safe: from migration "20240201000000_change": attaches constraints to the indexes built before (metadata only), and what needs them
ALTER TABLE "User" ADD CONSTRAINT "User_name_key" UNIQUE USING INDEX "User_name_key";
-- AddForeignKey
ALTER TABLE "Profile" ADD CONSTRAINT "Profile_userName_fkey" FOREIGN KEY ("userName") REFERENCES "User"("name") NOT VALID;
