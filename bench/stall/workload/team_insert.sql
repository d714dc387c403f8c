-- write: a new Team (unique slug, so the new Team_slug_key unique index can be built)
INSERT INTO "Team" ("id", "name", "slug", "updatedAt") VALUES (gen_random_uuid()::text, 'load team', 'load-' || gen_random_uuid()::text, CURRENT_TIMESTAMP);
