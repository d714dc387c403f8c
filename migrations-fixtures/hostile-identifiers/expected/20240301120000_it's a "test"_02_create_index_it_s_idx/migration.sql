-- migrate-safe: from migration "20240301120000_it's a ""test""": builds "it""s_idx" on "T" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "it""s_idx" ON "T"("it""s");
