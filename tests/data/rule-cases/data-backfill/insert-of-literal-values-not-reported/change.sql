INSERT INTO "User" ("id", "email") VALUES ('system', 'system@example.com');
