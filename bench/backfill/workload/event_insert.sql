-- write (weight 1): an insert into an unrelated table, "Event".
INSERT INTO "Event" ("kind") VALUES ('load');
