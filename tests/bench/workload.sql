-- Benchmark workload for tests/bench (not a test). Variables (psql -v):
--   n_rows  rows inserted per table unit (users/products get n_rows, wide gets n_rows/2)
--   chunk   rows per transaction
-- Changes produced: inserts 2.5*n_rows, updates 1.25*n_rows (half of each table), deletes
-- 0.25*n_rows (a tenth of each table) => 4*n_rows changes in total.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SET bench.n_rows = :'n_rows';
SET bench.chunk = :'chunk';

DO $$
DECLARE
  n int := current_setting('bench.n_rows')::int;
  c int := current_setting('bench.chunk')::int;
  i int;
BEGIN
  -- inserts, c rows of each table per transaction
  i := 0;
  WHILE i < n LOOP
    INSERT INTO commerce.users (username, password)
      SELECT 'user_' || g, md5(g::text) FROM generate_series(i + 1, least(i + c, n)) g;
    INSERT INTO commerce.products (name, description, price)
      SELECT 'product ' || g, 'A fine product number ' || g || ' with a description of moderate length.',
             (g % 1000) + 0.99
      FROM generate_series(i + 1, least(i + c, n)) g;
    INSERT INTO commerce.wide (i2, i4, i8, num, f4, f8, flag, ts, tstz, d, tm, uid, js, jsb, txt, vc, bin, iarr, iv)
        SELECT (g % 30000)::int2, g, g::int8 * 1000003, (g * 1.25)::numeric(12,3), g / 7.0, g / 3.0, g % 2 = 0,
               timestamp '2024-01-01' + g * interval '1 second', timestamptz '2024-01-01 00:00+00' + g * interval '1 minute',
               date '2024-01-01' + (g % 365), time '00:00' + g * interval '1 second', md5(g::text)::uuid,
               json_build_object('k', g, 's', 'v' || g), jsonb_build_object('a', g, 'b', array[g, g + 1]),
               repeat('x', 40) || g, 'vc' || g, decode(md5(g::text), 'hex'), array[g, g + 1, g + 2], g * interval '1 minute'
        FROM generate_series(i / 2 + 1, least(i + c, n) / 2) g;
    COMMIT;
    i := i + c;
  END LOOP;
  -- updates: half of each table
  i := 0;
  WHILE i < n / 2 LOOP
    UPDATE commerce.users SET password = md5(password) WHERE id > i AND id <= least(i + c, n / 2);
    UPDATE commerce.products SET price = price + 1 WHERE id > i AND id <= least(i + c, n / 2);
    UPDATE commerce.wide SET f8 = f8 + 1, txt = txt || 'u' WHERE id > i / 2 AND id <= least(i + c, n / 2) / 2;
    COMMIT;
    i := i + c;
  END LOOP;
  -- deletes: a tenth of each table
  i := 0;
  WHILE i < n / 10 LOOP
    DELETE FROM commerce.users WHERE id > n - n / 10 + i AND id <= n - n / 10 + least(i + c, n / 10);
    DELETE FROM commerce.products WHERE id > n - n / 10 + i AND id <= n - n / 10 + least(i + c, n / 10);
    DELETE FROM commerce.wide WHERE id > (n - n / 10 + i) / 2 AND id <= (n - n / 10 + least(i + c, n / 10)) / 2;
    COMMIT;
    i := i + c;
  END LOOP;
END $$;
