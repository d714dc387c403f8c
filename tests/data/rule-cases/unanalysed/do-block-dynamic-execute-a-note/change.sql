-- Backfill
DO $$
BEGIN
  EXECUTE format('UPDATE %I SET "name" = %L WHERE "name" IS NULL', 'User', 'x');
END $$;
