-- migrate-safe: from migration "20240301120000_it's a ""test""": builds "evil\u{000A}DROP TABLE canary;\u{000A}--" on "T" without blocking writes (must stay alone in this file)
-- CreateIndex
CREATE INDEX CONCURRENTLY "evil
DROP TABLE canary;
--" ON "T"("a");
