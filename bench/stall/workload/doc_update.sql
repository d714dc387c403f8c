-- write: edit an existing Document
\set d random(1, :ndocs)
UPDATE "Document" SET "title" = 'edited during the benchmark', "updatedAt" = CURRENT_TIMESTAMP WHERE "id" = 'd' || :d;
