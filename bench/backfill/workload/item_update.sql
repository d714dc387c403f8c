-- write (weight 3): the old application edits an existing Item (it does not know "slug").
-- :rows is the seeded row count (ids 1..rows): run.sh substitutes it (load-gap.sh passes no -D);
-- by hand: pgbench -D rows=N -f item_update.sql@3 -f event_insert.sql@1 ...
\set id random(1, :rows)
UPDATE "Item" SET "qty" = "qty" + 1 WHERE "id" = :id;
