-- write: a new Document (only columns that exist before the migration)
\set t random(1, :nteams)
INSERT INTO "Document" ("id", "title", "content", "teamId", "updatedAt") VALUES (gen_random_uuid()::text, 'load document', 'written during the benchmark', 't' || :t, CURRENT_TIMESTAMP);
