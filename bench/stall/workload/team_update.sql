-- write: rename an existing Team
\set t random(1, :nteams)
UPDATE "Team" SET "name" = 'renamed during the benchmark', "updatedAt" = CURRENT_TIMESTAMP WHERE "id" = 't' || :t;
