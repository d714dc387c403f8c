DO $$ BEGIN UPDATE "User" SET "name" = 'x' WHERE "name" IS NULL; END $$;
