UPDATE "User" SET "name" = NULL WHERE "name" IN (SELECT "name" FROM "User" GROUP BY "name" HAVING count(*) > 1);
