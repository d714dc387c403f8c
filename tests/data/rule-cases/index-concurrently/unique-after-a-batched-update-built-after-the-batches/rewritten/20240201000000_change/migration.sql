-- migrate-safe: until the batched backfill of line 1 is done, a row the application writes gets the
-- same change, so none escapes it (the batches skip this trigger).
CREATE OR REPLACE FUNCTION "migrate_safe_backfill_User_000001"() RETURNS trigger LANGUAGE plpgsql AS $migrate_safe$
DECLARE
  value_1 "User"."name"%TYPE;
BEGIN
  IF current_setting('migrate_safe.backfill', true) = 'on' THEN
    RETURN NEW;
  END IF;
  SELECT NULL INTO value_1 FROM (SELECT (NEW).*) AS "User" LIMIT 1;
  IF FOUND THEN
    NEW."name" := value_1;
  END IF;
  RETURN NEW;
END
$migrate_safe$;
DROP TRIGGER IF EXISTS "migrate_safe_backfill_User_000001" ON "User";
CREATE TRIGGER "migrate_safe_backfill_User_000001" BEFORE INSERT OR UPDATE ON "User"
    FOR EACH ROW EXECUTE FUNCTION "migrate_safe_backfill_User_000001"();
