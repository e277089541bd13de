-- filters: schema/table/column include and exclude lists (whole-name,
-- case-insensitive regular expressions, as Debezium)
SELECT 'init' FROM pg_create_logical_replication_slot('filt', 'ferry');
CREATE SCHEMA commerce;
CREATE SCHEMA other;
CREATE TABLE commerce.products (id int PRIMARY KEY, name text, secret text);
CREATE TABLE commerce.users (id int PRIMARY KEY, name text);
CREATE TABLE other.things (id int PRIMARY KEY);
CREATE TABLE public.commerce_like (id int PRIMARY KEY);
CREATE FUNCTION ins() RETURNS void LANGUAGE sql AS $$
	INSERT INTO commerce.products VALUES (1, 'p', 's');
	INSERT INTO commerce.users VALUES (1, 'u');
	INSERT INTO other.things VALUES (1);
	INSERT INTO public.commerce_like VALUES (1);
	DELETE FROM commerce.products; DELETE FROM commerce.users; DELETE FROM other.things;
	DELETE FROM public.commerce_like;
$$;
SELECT ins();
SELECT DISTINCT data->>'topic' FROM ferry_test.pl('filt', 'schema.include.list', 'commerce') AS data ORDER BY 1;
SELECT ins();
SELECT DISTINCT data->>'topic' FROM ferry_test.pl('filt', 'schema.include.list', 'COMM.*, other') AS data ORDER BY 1;
SELECT ins();
SELECT DISTINCT data->>'topic' FROM ferry_test.pl('filt', 'schema.exclude.list', 'commerce') AS data ORDER BY 1;
SELECT ins();
SELECT DISTINCT data->>'topic' FROM ferry_test.pl('filt', 'table.include.list', 'commerce\.u.*,public.commerce_like') AS data ORDER BY 1;
SELECT ins();
SELECT DISTINCT data->>'topic' FROM ferry_test.pl('filt', 'table.include.list', 'users') AS data ORDER BY 1;
SELECT ins();
SELECT DISTINCT data->>'topic' FROM ferry_test.pl('filt', 'table.exclude.list', '.*\.products,other\..*') AS data ORDER BY 1;
INSERT INTO commerce.products VALUES (2, 'p', 's');
SELECT data->'value'->'schema'->'fields'->1->'fields', data->'value'->'payload'->'after'
FROM ferry_test.get('filt', 'column.exclude.list', 'commerce.products.secret,.*\.ID', 'extended.headers.enabled', 'false') AS data;
INSERT INTO commerce.products VALUES (3, 'p', 's');
SELECT data->'key'->'payload', data->'value'->'payload'->'after'
FROM ferry_test.get('filt', 'column.exclude.list', 'commerce.products.id', 'extended.headers.enabled', 'false') AS data;
INSERT INTO commerce.products VALUES (4, 'p', 's');
INSERT INTO commerce.users VALUES (4, 'u');
SELECT data->'key'->'payload', data->'value'->'payload'->'after'
FROM ferry_test.get('filt', 'column.include.list', 'commerce\.products\.(id|name)', 'extended.headers.enabled', 'false') AS data;
SELECT count(*) FROM pg_logical_slot_peek_changes('filt', NULL, NULL, 'column.include.list', 'a', 'column.exclude.list', 'b');
SELECT 'stop' FROM pg_drop_replication_slot('filt');
