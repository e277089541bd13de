-- messages: pg_logical_emit_message as op "m" on <prefix>.message
SELECT 'init' FROM pg_create_logical_replication_slot('msg', 'ferry');
CREATE TABLE mt (id int PRIMARY KEY);
SELECT 'x' FROM pg_logical_emit_message(true, 'foo', 'bar');
SELECT 'x' FROM pg_logical_emit_message(false, 'nontx', E'\\x00ff'::bytea);
BEGIN;
INSERT INTO mt VALUES (1);
SELECT 'x' FROM pg_logical_emit_message(true, 'in"tx', 'caf' || chr(233));
COMMIT;
SELECT * FROM ferry_test.get('msg', 'extended.headers.enabled', 'false');
SELECT 'x' FROM pg_logical_emit_message(true, 'foo', 'bar');
SELECT 'x' FROM pg_logical_emit_message(true, 'keep', 'bar');
SELECT * FROM ferry_test.pl('msg', 'binary.handling.mode', 'hex', 'message.prefix.include.list', 'ke.*');
SELECT 'x' FROM pg_logical_emit_message(true, 'foo', 'bar');
SELECT 'x' FROM pg_logical_emit_message(true, 'keep', 'bar');
SELECT * FROM ferry_test.pl('msg', 'binary.handling.mode', 'base64', 'message.prefix.exclude.list', 'FOO');
SELECT 'x' FROM pg_logical_emit_message(true, 'foo', 'bar');
SELECT data->'value'->'schema' FROM ferry_test.get('msg', 'binary.handling.mode', 'hex') AS data;
SELECT 'stop' FROM pg_drop_replication_slot('msg');
