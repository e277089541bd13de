-- ops: c, u, d, tombstones, primary-key changes, headers, skipped.operations
SELECT 'init' FROM pg_create_logical_replication_slot('ops', 'ferry');
CREATE TABLE t (id int PRIMARY KEY, v text, n int NOT NULL DEFAULT 7, w text NOT NULL);
INSERT INTO t VALUES (1, 'x', 1, 'w1');
UPDATE t SET v = 'y' WHERE id = 1;
UPDATE t SET id = 2 WHERE id = 1;
DELETE FROM t WHERE id = 2;
-- full records: schemas, headers, envelope
SELECT * FROM ferry_test.get('ops');

-- the same as payloads
BEGIN;
INSERT INTO t VALUES (10, 'a', 1, 'w'), (11, NULL, 2, 'w');
UPDATE t SET v = 'b' WHERE id = 10;
COMMIT;
UPDATE t SET id = 12 WHERE id = 11;
DELETE FROM t;
SELECT * FROM ferry_test.pl('ops');

-- tombstones off, skipped operations
INSERT INTO t VALUES (20, 'a', 1, 'w');
UPDATE t SET v = 'b';
DELETE FROM t;
SELECT * FROM ferry_test.pl('ops', 'tombstones.on.delete', 'false');
INSERT INTO t VALUES (21, 'a', 1, 'w');
UPDATE t SET v = 'b';
UPDATE t SET id = 22;
DELETE FROM t;
SELECT * FROM ferry_test.pl('ops', 'skipped.operations', 'c,u');
INSERT INTO t VALUES (23, 'a', 1, 'w');
DELETE FROM t;
SELECT * FROM ferry_test.get('ops', 'skipped.operations', 'none', 'schemas.enable', 'false');

-- multi-column key in index order, text key with escapes in the header
CREATE TABLE mk (b text, a int, v int, PRIMARY KEY (a, b));
INSERT INTO mk VALUES (E'q"\\', 1, 1);
UPDATE mk SET b = 'z' WHERE a = 1;
SELECT * FROM ferry_test.get('ops', 'schemas.enable', 'false');

-- topic prefix and sanitising of topics and schema names
CREATE SCHEMA "Sch-ema";
CREATE TABLE "Sch-ema"."tab le$ü" (id int PRIMARY KEY);
INSERT INTO "Sch-ema"."tab le$ü" VALUES (1);
SELECT data->>'topic', data->'key'->'schema'->>'name', data->'value'->'payload'->'source'->>'schema',
	data->'value'->'payload'->'source'->>'table', data->'value'->'payload'->'source'->>'name'
FROM ferry_test.get('ops', 'topic.prefix', 'my server') AS data;
SELECT 'stop' FROM pg_drop_replication_slot('ops');
-- names that need escaping in JSON keys, topics and headers
SELECT 'init' FROM pg_create_logical_replication_slot('ops2', 'ferry');
CREATE TABLE "we""ird" ("k""ey" text PRIMARY KEY, "col\umn" int, "tab	col" int, "ünï" text);
INSERT INTO "we""ird" VALUES (E'a\\b"c', 1, 2, 'ü');
UPDATE "we""ird" SET "k""ey" = 'x';
SELECT data->>'topic', data->'key', data->'value'->'schema'->'fields'->1->'fields', data->'headers'
FROM ferry_test.get('ops2', 'extended.headers.enabled', 'false') AS data;
SELECT 'stop' FROM pg_drop_replication_slot('ops2');
