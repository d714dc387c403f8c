-- Seed the saas-baseline schema (after 0_init) with real volume.
-- psql variables: docs, users, teams, memberships (memberships <= 2 * users, teams >= 10).
-- Every NOT NULL column gets a value and every foreign key points at an existing row; the FK
-- triggers are skipped during the bulk load (session_replication_role = replica) for speed only.
\set ON_ERROR_STOP 1
SET session_replication_role = replica;
INSERT INTO "User" ("id", "email", "name", "createdAt", "updatedAt")
SELECT 'u' || i, 'user' || i || '@example.test', 'User ' || i,
       now() - i * interval '1 minute', now() - i * interval '1 second'
FROM generate_series(1, :users) AS i;

INSERT INTO "Team" ("id", "name", "slug", "createdAt", "updatedAt")
SELECT 't' || i, 'Team ' || i, 'team-' || i,
       now() - i * interval '1 hour', now() - i * interval '1 minute'
FROM generate_series(1, :teams) AS i;

-- (userId, teamId) is unique: row i -> user (i-1) % users + 1, team ((i-1) % teams + 7 * pass) % teams + 1
-- with pass = (i-1) / users in {0, 1}.
INSERT INTO "Membership" ("id", "role", "userId", "teamId", "createdAt")
SELECT 'm' || i,
       (CASE i % 10 WHEN 0 THEN 'OWNER' WHEN 1 THEN 'ADMIN' ELSE 'MEMBER' END)::"Role",
       'u' || ((i - 1) % :users + 1),
       't' || ((((i - 1) % :teams) + 7 * ((i - 1) / :users)) % :teams + 1),
       now() - i * interval '1 second'
FROM generate_series(1, :memberships) AS i;

INSERT INTO "Document" ("id", "title", "content", "teamId", "createdAt", "updatedAt")
SELECT 'd' || i, 'Document ' || i, md5(i::text) || ' ' || md5((i * 7)::text),
       't' || ((i - 1) % :teams + 1),
       now() - i * interval '1 second', now() - (i % 86400) * interval '1 second'
FROM generate_series(1, :docs) AS i;
RESET session_replication_role;
