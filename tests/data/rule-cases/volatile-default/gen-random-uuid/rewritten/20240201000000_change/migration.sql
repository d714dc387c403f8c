-- AlterTable
ALTER TABLE "Post" ADD COLUMN "publicId" UUID;

-- migrate-safe: new rows get the default; existing ones are filled in batches after this migration.
ALTER TABLE "Post" ALTER COLUMN "publicId" SET DEFAULT gen_random_uuid();
-- migrate-safe: until the batched backfill of line 2 is done, a row the application writes gets the
-- same change, so none escapes it (the batches skip this trigger).
CREATE OR REPLACE FUNCTION "migrate_safe_backfill_Post_000002"() RETURNS trigger LANGUAGE plpgsql AS $migrate_safe$
DECLARE
  value_1 "Post"."publicId"%TYPE;
BEGIN
  IF current_setting('migrate_safe.backfill', true) = 'on' THEN
    RETURN NEW;
  END IF;
  SELECT gen_random_uuid() INTO value_1 FROM (SELECT (NEW).*) AS "Post" WHERE "publicId" IS NULL LIMIT 1;
  IF FOUND THEN
    NEW."publicId" := value_1;
  END IF;
  RETURN NEW;
END
$migrate_safe$;
DROP TRIGGER IF EXISTS "migrate_safe_backfill_Post_000002" ON "Post";
CREATE TRIGGER "migrate_safe_backfill_Post_000002" BEFORE INSERT OR UPDATE ON "Post"
    FOR EACH ROW EXECUTE FUNCTION "migrate_safe_backfill_Post_000002"();
ALTER TABLE "Post" ADD CONSTRAINT "Post_publicId_not_null" CHECK ("publicId" IS NOT NULL) NOT VALID;
