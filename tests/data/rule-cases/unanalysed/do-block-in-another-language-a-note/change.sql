-- Backfill
DO LANGUAGE plpython3u $$
plpy.execute("UPDATE \"User\" SET name = 'x'")
$$;
