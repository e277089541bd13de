-- toast: unchanged TOASTed values become __debezium_unavailable_value in
-- each type's encoding (§7); FULL identity copies them from the old row
SELECT 'init' FROM pg_create_logical_replication_slot('toast', 'ferry');
CREATE TYPE tmood AS ENUM ('a', 'b');
CREATE TABLE tt (id int PRIMARY KEY, n int, t text, v varchar, j jsonb, b bytea, ta text[],
	ia int[], la int8[], ba bytea[], ua uuid[], na numeric[], nu numeric, fa float8[], x xml);
ALTER TABLE tt ALTER COLUMN t SET STORAGE EXTERNAL, ALTER COLUMN v SET STORAGE EXTERNAL,
	ALTER COLUMN j SET STORAGE EXTERNAL, ALTER COLUMN b SET STORAGE EXTERNAL,
	ALTER COLUMN ta SET STORAGE EXTERNAL, ALTER COLUMN ia SET STORAGE EXTERNAL,
	ALTER COLUMN la SET STORAGE EXTERNAL, ALTER COLUMN ba SET STORAGE EXTERNAL,
	ALTER COLUMN ua SET STORAGE EXTERNAL, ALTER COLUMN na SET STORAGE EXTERNAL,
	ALTER COLUMN nu SET STORAGE EXTERNAL, ALTER COLUMN fa SET STORAGE EXTERNAL,
	ALTER COLUMN x SET STORAGE EXTERNAL;
INSERT INTO tt SELECT 1, 1, repeat('x', 3000), repeat('y', 3000),
	('{"k": "' || repeat('z', 3000) || '"}')::jsonb, convert_to(repeat('b', 3000), 'UTF8'),
	ARRAY[repeat('t', 3000)], array_fill(7, ARRAY[1000]), array_fill(8::int8, ARRAY[1000]),
	ARRAY[convert_to(repeat('c', 3000), 'UTF8')],
	array_fill('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, ARRAY[300]),
	array_fill(1.5::numeric, ARRAY[1000]), repeat('9', 8000)::numeric,
	array_fill(2.5::float8, ARRAY[1000]), ('<a>' || repeat('q', 3000) || '</a>')::xml;
SELECT length(r::text) > 20000 FROM ferry_test.rows('toast') AS r;
-- DEFAULT identity: placeholders
UPDATE tt SET n = 2;
SELECT * FROM ferry_test.rows('toast');
UPDATE tt SET n = 3;
SELECT * FROM ferry_test.rows('toast', 'binary.handling.mode', 'hex');
UPDATE tt SET n = 31;
SELECT r->'b', r->'ba' FROM ferry_test.rows('toast', 'binary.handling.mode', 'base64') AS r;
-- unavailable.value.placeholder, also as hex: (the uuid[] marker is the
-- name-based UUID of its bytes)
UPDATE tt SET n = 32;
SELECT r->'t', r->'b', r->'ia', r->'ua' FROM ferry_test.rows('toast', 'unavailable.value.placeholder', 'N/A') AS r;
UPDATE tt SET n = 33;
SELECT r->'t', r->'b', r->'ua' FROM ferry_test.rows('toast', 'unavailable.value.placeholder', 'hex:5f5f646562657a69756d5f756e617661696c61626c655f76616c7565') AS r;
-- a changed TOASTed column is sent in full
UPDATE tt SET t = 'short', n = 4;
SELECT r->'t', r->'v' FROM ferry_test.rows('toast') AS r;
-- FULL identity: values copied from the old row, no placeholder
ALTER TABLE tt REPLICA IDENTITY FULL;
UPDATE tt SET n = 5;
SELECT r->'value'->'after'->'n', length(r->'value'->'after'->>'v'), length(r->'value'->'before'->>'v'),
	r::text LIKE '%__debezium_unavailable_value%'
FROM ferry_test.pl('toast') AS r;
SELECT 'stop' FROM pg_drop_replication_slot('toast');
