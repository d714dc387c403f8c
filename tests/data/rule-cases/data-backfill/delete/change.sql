DELETE FROM "Post" WHERE "title" = '';
