-- write: a new Membership (a random user joins a random team; an existing pair is a no-op)
\set u random(1, :nusers)
\set t random(1, :nteams)
INSERT INTO "Membership" ("id", "userId", "teamId") VALUES (gen_random_uuid()::text, 'u' || :u, 't' || :t) ON CONFLICT DO NOTHING;
