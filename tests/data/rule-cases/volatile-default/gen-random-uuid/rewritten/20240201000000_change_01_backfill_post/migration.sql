-- migrate-safe: from migration "20240201000000_change": fills "publicId" of the existing rows of "Post" (the column line 2 added) in batches of 1000 rows, committing after each (must stay alone in this file; rerun after a failure, it finishes the rest)
DO $migrate_safe$
DECLARE
  batch_start "Post"."id"%TYPE;
  batch_end "Post"."id"%TYPE;
  batch_rows bigint;
  changed bigint;
  done bigint := 0;
  walked bigint := 0;
  estimate bigint;
  batch_size bigint := coalesce(nullif(current_setting('migrate_safe.batch_rows', true), '')::bigint, 1000);
  batch_pause float8 := coalesce(nullif(current_setting('migrate_safe.batch_pause', true), '')::float8, 0);
  attempt int;
BEGIN
  SELECT greatest(reltuples, 0)::bigint INTO estimate FROM pg_class WHERE oid = '"Post"'::regclass;
  SELECT min("id") INTO batch_start FROM "Post";
  WHILE batch_start IS NOT NULL LOOP
    SELECT max(batch_key), count(*) INTO batch_end, batch_rows FROM (SELECT "id" AS batch_key FROM "Post" WHERE "id" >= batch_start ORDER BY "id" LIMIT batch_size) AS batch;
    walked := walked + batch_rows;
    attempt := 1;
    LOOP
      BEGIN
        PERFORM set_config('lock_timeout', '100ms', true);
        PERFORM set_config('migrate_safe.backfill', 'on', true);
        UPDATE "Post" SET "publicId" = gen_random_uuid()
        WHERE "Post"."id" >= batch_start AND "Post"."id" <= batch_end AND ("publicId" IS NULL) AND "Post"."publicId" IS DISTINCT FROM (gen_random_uuid());
        GET DIAGNOSTICS changed = ROW_COUNT;
        EXIT;
      EXCEPTION WHEN lock_not_available THEN
        -- An application transaction holds some of these rows: let it finish, try again.
        IF attempt >= 50 THEN
          RAISE;
        END IF;
        attempt := attempt + 1;
        PERFORM pg_sleep(least(0.01 * attempt, 0.5));
      END;
    END LOOP;
    COMMIT;
    done := done + changed;
    IF batch_pause > 0 THEN
      PERFORM pg_sleep(batch_pause);
    END IF;
    RAISE NOTICE 'migrate-safe backfill of line 2 on "Post": % of ~% rows walked, % changed', walked, estimate, done;
    SELECT min("id") INTO batch_start FROM "Post" WHERE "id" > batch_end;
  END LOOP;
END
$migrate_safe$;
