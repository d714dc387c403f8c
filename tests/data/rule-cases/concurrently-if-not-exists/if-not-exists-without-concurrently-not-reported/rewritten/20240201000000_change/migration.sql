-- CreateIndex
CREATE INDEX CONCURRENTLY IF NOT EXISTS "User_name_idx" ON "User"("name");
