-- CreateIndex
CREATE INDEX IF NOT EXISTS "User_name_idx" ON "User"("name");
