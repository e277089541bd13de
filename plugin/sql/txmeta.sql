-- txmeta: provide.transaction.metadata: BEGIN/END records on
-- <prefix>.transaction and the transaction block of each event
SELECT 'init' FROM pg_create_logical_replication_slot('txm', 'ferry');
CREATE TABLE s1a (id int PRIMARY KEY);
CREATE TABLE s2a (id int PRIMARY KEY);
CREATE TABLE ignored (id int PRIMARY KEY);
BEGIN;
INSERT INTO s1a VALUES (1);
INSERT INTO s2a VALUES (1), (2);
UPDATE s1a SET id = 2;
COMMIT;
-- each transactional message is its own data collection (not reproducible:
-- Debezium names it by a JVM identity hash)
SELECT 'x' FROM pg_logical_emit_message(true, 'p', 'm');
INSERT INTO ignored VALUES (1);
SELECT * FROM ferry_test.pl('txm', 'provide.transaction.metadata', 'true', 'table.exclude.list', 'public.ignored');
BEGIN;
INSERT INTO s1a VALUES (10);
COMMIT;
SELECT * FROM ferry_test.get('txm', 'provide.transaction.metadata', 'true', 'extended.headers.enabled', 'false') AS r
WHERE r->>'topic' = 'ferry.transaction';
SELECT 'stop' FROM pg_drop_replication_slot('txm');
