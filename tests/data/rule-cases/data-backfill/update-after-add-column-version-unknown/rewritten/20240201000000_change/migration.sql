-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;

-- migrate-safe: until the batched backfill of line 4 is done, a row the application writes gets the
-- same change, so none escapes it (the batches skip this trigger).
CREATE OR REPLACE FUNCTION "migrate_safe_backfill_Post_000004"() RETURNS trigger LANGUAGE plpgsql AS $migrate_safe$
DECLARE
  value_1 "Post"."slug"%TYPE;
BEGIN
  IF current_setting('migrate_safe.backfill', true) = 'on' THEN
    RETURN NEW;
  END IF;
  SELECT lower("title") || '-' || "id" INTO value_1 FROM (SELECT (NEW).*) AS "Post" LIMIT 1;
  IF FOUND THEN
    NEW."slug" := value_1;
  END IF;
  RETURN NEW;
END
$migrate_safe$;
DROP TRIGGER IF EXISTS "migrate_safe_backfill_Post_000004" ON "Post";
CREATE TRIGGER "migrate_safe_backfill_Post_000004" BEFORE INSERT OR UPDATE ON "Post"
    FOR EACH ROW EXECUTE FUNCTION "migrate_safe_backfill_Post_000004"();
