-- options: strict parsing in startup, errors name the option
SELECT 'init' FROM pg_create_logical_replication_slot('opts', 'ferry');
CREATE TABLE o (id int PRIMARY KEY);
INSERT INTO o VALUES (1);
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'nosuch', 'x');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'topic.prefix', 'a', 'topic.prefix', 'b');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'topic.prefix', '');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'format', 'xml');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'wire-version', '2');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'wire-version', 'one');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'schemas.enable', 'maybe');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'decimal.handling.mode', 'exact');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'time.precision.mode', 'isostring');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'binary.handling.mode', 'base32');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'interval.handling.mode', 'x');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'skipped.operations', 'c,x');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'tombstones.on.delete', '2');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'test.fixed.ts', '12x');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'offset.lsn.commit', 'Z/1');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'table.include.list', 'a(');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'schema.include.list', 'a', 'schema.exclude.list', 'b');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'table.include.list', 'a', 'table.exclude.list', 'b');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'hstore.handling.mode', 'xml');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'unavailable.value.placeholder', 'hex:zz');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'snapshot.lsn', '0/1');
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'topic.prefix');
-- valid spellings
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'format', 'json', 'wire-version', '1',
	'schemas.enable', 'off', 'tombstones.on.delete', 'yes', 'skipped.operations', 'none',
	'decimal.handling.mode', 'string', 'time.precision.mode', 'connect', 'binary.handling.mode', 'hex',
	'interval.handling.mode', 'string', 'include.unknown.datatypes', 'true',
	'provide.transaction.metadata', 'true', 'extended.headers.enabled', 'false',
	'offset.lsn.commit', '0/16B3748', 'run.id', 'x', 'topic.prefix', 'p');
-- offset.lsn.commit: sequence[0] before the first commit of the session
SELECT regexp_replace((c.data::json)->'value'->'source'->>'sequence', ',"[0-9]+"', ',"L"')
FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'schemas.enable', 'false',
	'offset.lsn.commit', '0/16B3748') AS c;
SELECT regexp_replace((c.data::json)->'value'->'source'->>'sequence', ',"[0-9]+"', ',"L"')
FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'schemas.enable', 'false',
	'offset.lsn.commit', '1234') AS c;
SELECT regexp_replace((c.data::json)->'value'->'source'->>'sequence', ',"[0-9]+"', ',"L"')
FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'schemas.enable', 'false') AS c;
-- a generated run id is a version 4 UUID
SELECT (c.data::json)->'headers'->>'__debezium.context.runId' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
FROM pg_logical_slot_peek_changes('opts', NULL, NULL) AS c;
-- relay format needs the binary interface
SELECT count(*) FROM pg_logical_slot_peek_changes('opts', NULL, NULL, 'format', 'relay');
SELECT 'stop' FROM pg_drop_replication_slot('opts');
-- a database that is not UTF8 is refused at slot creation
CREATE DATABASE ferry_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c ferry_latin1
SELECT 'init' FROM pg_create_logical_replication_slot('latin1', 'ferry');
\c contrib_regression
DROP DATABASE ferry_latin1;
