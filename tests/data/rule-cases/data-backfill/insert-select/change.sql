INSERT INTO "Post" ("id", "authorId", "title") SELECT "id", "id", "email" FROM "User";
