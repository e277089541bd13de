-- snapshot: ferry.snapshot_table encodes rows as op "r" with the plugin's
-- encoder, snapshot markers per §3.2, in relay or json format
CREATE TABLE snap1 (id int PRIMARY KEY, v text, n numeric(5,2) DEFAULT 1);
CREATE TABLE snap2 (id int PRIMARY KEY);
CREATE TABLE snap3 (a int);
CREATE TABLE snap_empty (id int PRIMARY KEY);
INSERT INTO snap1 VALUES (1, 'a', 1.5), (2, 'b', NULL), (3, NULL, 3);
INSERT INTO snap2 VALUES (1), (2);
INSERT INTO snap3 VALUES (7);

-- the relay's sequence: one transaction, markers from first/last table
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT ferry_test.mask(s)::json FROM ferry.snapshot_table_json('snap1',
	'{snapshot.first.table=true,snapshot.lsn=0/16B3748,snapshot.txid=777,snapshot.ts.us=1600000000000001,test.fixed.ts=1700000000123456,run.id=r,schemas.enable=false}') AS s;
SELECT s::json->'value'->'source'->>'snapshot' FROM ferry.snapshot_table_json('snap2', '{schemas.enable=false}') AS s;
SELECT s::json->'value'->'source'->>'snapshot', s::json->'key' FROM ferry.snapshot_table_json('snap3', '{snapshot.last.table=true,schemas.enable=false}') AS s;
SELECT count(*) FROM ferry.snapshot_table_json('snap_empty');
COMMIT;
SELECT s::json->'value'->'source'->>'snapshot' FROM ferry.snapshot_table_json('snap1', '{snapshot.first.table=on,snapshot.last.table=on,schemas.enable=false}') AS s;
-- default source fields: the caller's transaction start, insert LSN, xid
BEGIN;
SELECT (s::json->'value'->'payload'->'source'->>'ts_us')::bigint =
	(extract(epoch from transaction_timestamp()) * 1000000)::bigint,
	(s::json->'value'->'payload'->'source'->>'txId')::bigint = txid_current(),
	(s::json->'value'->'payload'->'source'->>'lsn')::bigint > 0,
	s::json->'value'->'payload'->'source'->>'sequence' ~ '^\[null,"[0-9]+"\]$'
FROM ferry.snapshot_table_json('snap2') AS s;
COMMIT;
-- full record with schemas and headers equals what the stream would carry
SELECT ferry_test.mask(s)::json FROM ferry.snapshot_table_json('snap2',
	'{test.fixed.ts=1700000000123456,run.id=r,snapshot.ts.us=1600000000000001}') AS s LIMIT 1;
-- relay frames: 'S' then 'R' per row, payloads only
SELECT chr(get_byte(f, 0)) AS type, substr(f, 2, 4) AS schema_id, length(f) > 20 AS has_body
FROM ferry.snapshot_table('snap1', '{format=relay}') AS f;
SELECT convert_from(substr(f, 8, get_byte(f, 6)), 'UTF8') AS topic
FROM ferry.snapshot_table('snap1', '{format=relay}') AS f LIMIT 1;
-- errors
SELECT * FROM ferry.snapshot_table('snap1', '{nosuch=1}');
SELECT * FROM ferry.snapshot_table('snap1', '{format}');
SELECT * FROM ferry.snapshot_table('snap1', '{format=json,format=relay}');
SELECT * FROM ferry.snapshot_table('pg_class');
CREATE VIEW snapv AS SELECT 1 AS x;
SELECT * FROM ferry.snapshot_table('snapv');
CREATE ROLE ferry_snap_nobody;
SET ROLE ferry_snap_nobody;
SELECT * FROM ferry.snapshot_table('snap1');
RESET ROLE;
DROP ROLE ferry_snap_nobody;
-- filtered-out tables yield nothing
SELECT count(*) FROM ferry.snapshot_table('snap1', '{schema.include.list=other}');
-- one row per call: a cursor streams, and closing it early ends the scan
BEGIN ISOLATION LEVEL REPEATABLE READ;
DECLARE c NO SCROLL CURSOR FOR SELECT chr(get_byte(f, 0)) FROM ferry.snapshot_table('snap1', '{format=relay}') AS f;
FETCH 2 FROM c;
FETCH 10 FROM c;
CLOSE c;
DECLARE c2 NO SCROLL CURSOR FOR SELECT length(f) > 0 FROM ferry.snapshot_table('snap1') AS f;
FETCH 1 FROM c2;
CLOSE c2;
COMMIT;
