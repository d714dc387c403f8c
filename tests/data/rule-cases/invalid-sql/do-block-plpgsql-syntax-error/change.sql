-- Backfill
DO $$
BEGIN
  UPDAT "User" SET "name" = 'x' WHERE "name" IS NULL;
END $$;
