-- AlterTable
ALTER TABLE "User" ADD COLUMN "displayName" TEXT;

-- migrate-safe: until the batched backfill of line 4 is done, a row the application writes gets the
-- same change, so none escapes it (the batches skip this trigger).
CREATE OR REPLACE FUNCTION "migrate_safe_backfill_User_000004"() RETURNS trigger LANGUAGE plpgsql AS $migrate_safe$
DECLARE
  value_1 "User"."displayName"%TYPE;
BEGIN
  IF current_setting('migrate_safe.backfill', true) = 'on' THEN
    RETURN NEW;
  END IF;
  SELECT coalesce("name", split_part("email", '@', 1)) INTO value_1 FROM (SELECT (NEW).*) AS "User" WHERE "displayName" IS NULL LIMIT 1;
  IF FOUND THEN
    NEW."displayName" := value_1;
  END IF;
  RETURN NEW;
END
$migrate_safe$;
DROP TRIGGER IF EXISTS "migrate_safe_backfill_User_000004" ON "User";
CREATE TRIGGER "migrate_safe_backfill_User_000004" BEFORE INSERT OR UPDATE ON "User"
    FOR EACH ROW EXECUTE FUNCTION "migrate_safe_backfill_User_000004"();

-- AlterTable
ALTER TABLE "User" ADD CONSTRAINT "User_displayName_not_null" CHECK ("displayName" IS NOT NULL) NOT VALID;
