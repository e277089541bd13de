-- setup: the extension, test helpers, readiness
CREATE EXTENSION ferry;
SELECT extname, extversion FROM pg_extension WHERE extname = 'ferry';

-- Helpers shared by all tests.  Every record is cast to json, so PostgreSQL's
-- own parser validates it; LSNs, xids and the sequence are masked because
-- they differ between runs; clocks and the run id are fixed by options.
CREATE SCHEMA ferry_test;
CREATE FUNCTION ferry_test.mask(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(t,
		'"lsn":[0-9]+', '"lsn":1', 'g'),
		'"txId":[0-9]+', '"txId":1', 'g'),
		'"sequence":"\[(null|\\"[0-9]+\\"),\\"[0-9]+\\"\]"', '"sequence":"[L]"', 'g'),
		'"id":"[0-9]+:[0-9]+"', '"id":"X:L"', 'g'),
		'"origin_lsn":[0-9]+', '"origin_lsn":1', 'g'),
		'LogicalDecodingMessageId@[0-9a-f]+', 'LogicalDecodingMessageId@H', 'g')
$$;
-- full records
CREATE FUNCTION ferry_test.get(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS SETOF json LANGUAGE sql AS $$
	SELECT ferry_test.mask(data)::json
	FROM pg_logical_slot_get_changes(slot, NULL, NULL,
		VARIADIC ARRAY['test.fixed.ts', '1700000000123456',
					   'run.id', '00000000-0000-4000-8000-000000000000'] || opts)
$$;
-- payloads only: no schemas, no context headers
CREATE FUNCTION ferry_test.pl(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS SETOF json LANGUAGE sql AS $$
	SELECT * FROM ferry_test.get(slot, VARIADIC ARRAY['schemas.enable', 'false',
		'extended.headers.enabled', 'false'] || opts)
$$;
-- only the row images (after, or before when after is null)
CREATE FUNCTION ferry_test.rows(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS SETOF json LANGUAGE sql AS $$
	SELECT CASE WHEN r->'value'->>'after' IS NOT NULL THEN r->'value'->'after'
				ELSE r->'value'->'before' END
	FROM ferry_test.pl(slot, VARIADIC opts) AS r
	WHERE r->>'value' IS NOT NULL
$$;

-- the row schema (the "after" field) and the key schema of the first
-- pending record, without consuming it
CREATE FUNCTION ferry_test.schema(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS TABLE (row_schema json, key_schema json) LANGUAGE sql AS $$
	SELECT (r->'value'->'schema'->'fields'->1), (r->'key'->'schema')
	FROM (SELECT ferry_test.mask(data)::json AS r
		  FROM pg_logical_slot_peek_changes(slot, NULL, NULL,
			VARIADIC ARRAY['test.fixed.ts', '1700000000123456'] || opts)) AS s
	WHERE r->>'value' IS NOT NULL
	LIMIT 1
$$;

-- the temporary instance is ready; a superuser has every privilege
SELECT * FROM ferry.check_readiness();
CREATE TABLE nopk (a int);
CREATE TABLE nothing (a int PRIMARY KEY);
ALTER TABLE nothing REPLICA IDENTITY NOTHING;
SELECT * FROM ferry.check_readiness();
SELECT * FROM ferry.check_readiness('{schema.include.list=other}');
SELECT * FROM ferry.captured_tables();
SELECT * FROM ferry.captured_tables('{table.include.list=public\.no.*}');
SELECT * FROM ferry.captured_tables('{table.exclude.list=PUBLIC.NOPK}');
CREATE ROLE ferry_nobody LOGIN;
SET ROLE ferry_nobody;
SELECT * FROM ferry.check_readiness();
RESET ROLE;
DROP ROLE ferry_nobody;
DROP TABLE nopk, nothing;
