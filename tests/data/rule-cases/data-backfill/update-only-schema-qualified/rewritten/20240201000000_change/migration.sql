-- migrate-safe: until the batched backfill of line 1 is done, a row the application writes gets the
-- same change, so none escapes it (the batches skip this trigger).
CREATE OR REPLACE FUNCTION "public"."migrate_safe_backfill_Post_000001"() RETURNS trigger LANGUAGE plpgsql AS $migrate_safe$
DECLARE
  value_1 "public"."Post"."title"%TYPE;
BEGIN
  IF current_setting('migrate_safe.backfill', true) = 'on' THEN
    RETURN NEW;
  END IF;
  SELECT 'x' INTO value_1 FROM (SELECT (NEW).*) AS "Post" LIMIT 1;
  IF FOUND THEN
    NEW."title" := value_1;
  END IF;
  RETURN NEW;
END
$migrate_safe$;
DROP TRIGGER IF EXISTS "migrate_safe_backfill_Post_000001" ON "public"."Post";
CREATE TRIGGER "migrate_safe_backfill_Post_000001" BEFORE INSERT OR UPDATE ON "public"."Post"
    FOR EACH ROW EXECUTE FUNCTION "public"."migrate_safe_backfill_Post_000001"();
