-- relay: the binary frame format of docs/wire-format.md (B/S/R/C)
CREATE FUNCTION ferry_test.u32(b bytea, o int) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
	SELECT (get_byte(b, o)::bigint << 24) | (get_byte(b, o + 1) << 16) | (get_byte(b, o + 2) << 8) | get_byte(b, o + 3)
$$;
-- one frame in words; payload texts masked
CREATE FUNCTION ferry_test.frame(f bytea) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	t text := chr(get_byte(f, 0));
	o int;
	l bigint;
	res text;
	n int;
	i int;
BEGIN
	IF t IN ('B', 'C') THEN
		RETURN t || ' length ' || length(f);
	END IF;
	IF t = 'S' THEN
		o := 5;
		l := (get_byte(f, o) << 8) | get_byte(f, o + 1);
		res := 'S id=' || ferry_test.u32(f, 1) || ' topic=' || convert_from(substr(f, o + 3, l::int), 'UTF8');
		o := o + 2 + l::int;
		l := ferry_test.u32(f, o);
		IF l = 4294967295 THEN res := res || ' key_schema=NULL'; o := o + 4;
		ELSE res := res || ' key_schema=' || convert_from(substr(f, o + 5, l::int), 'UTF8'); o := o + 4 + l::int;
		END IF;
		l := ferry_test.u32(f, o);
		IF l = 4294967295 THEN res := res || ' value_schema=NULL';
		ELSE res := res || ' value_schema_len=' || l;
		END IF;
		RETURN res;
	END IF;
	-- 'R'
	res := 'R id=' || ferry_test.u32(f, 1);
	o := 5;
	IF ferry_test.u32(f, 1) = 0 THEN
		l := (get_byte(f, o) << 8) | get_byte(f, o + 1);
		res := res || ' topic=' || convert_from(substr(f, o + 3, l::int), 'UTF8');
		o := o + 2 + l::int;
	END IF;
	FOR i IN 1..2 LOOP
		l := ferry_test.u32(f, o);
		IF l = 4294967295 THEN res := res || CASE i WHEN 1 THEN ' key=NULL' ELSE ' value=NULL' END; o := o + 4;
		ELSE
			res := res || CASE i WHEN 1 THEN ' key=' ELSE ' value=' END ||
				left(ferry_test.mask(convert_from(substr(f, o + 5, l::int), 'UTF8'))::json::text, 120);
			o := o + 4 + l::int;
		END IF;
	END LOOP;
	n := (get_byte(f, o) << 8) | get_byte(f, o + 1);
	res := res || ' headers=' || n;
	o := o + 2;
	FOR i IN 1..n LOOP
		l := (get_byte(f, o) << 8) | get_byte(f, o + 1);
		res := res || ' ' || convert_from(substr(f, o + 3, l::int), 'UTF8');
		o := o + 2 + l::int;
		l := ferry_test.u32(f, o);
		res := res || '=' || convert_from(substr(f, o + 5, l::int), 'UTF8');
		o := o + 4 + l::int;
	END LOOP;
	IF o <> length(f) THEN
		res := res || ' TRAILING BYTES';
	END IF;
	RETURN res;
END
$$;
SELECT 'init' FROM pg_create_logical_replication_slot('relay', 'ferry');
CREATE TABLE rl (id int PRIMARY KEY, v text);
CREATE TABLE rl_nokey (v text);
ALTER TABLE rl_nokey REPLICA IDENTITY FULL;
INSERT INTO rl VALUES (1, 'a');
INSERT INTO rl VALUES (2, 'b');
UPDATE rl SET id = 3 WHERE id = 1;
INSERT INTO rl_nokey VALUES ('x');
DELETE FROM rl_nokey;
ALTER TABLE rl ADD COLUMN w int;
INSERT INTO rl VALUES (4, 'c', 4);
SELECT 'x' FROM pg_logical_emit_message(true, 'pfx', 'hello');
-- frames of the data transactions (DDL-only transactions give B and C only)
CREATE TEMP TABLE data_xids AS
	SELECT DISTINCT xid FROM pg_logical_slot_peek_binary_changes('relay', NULL, NULL, 'format', 'relay')
	WHERE get_byte(data, 0) = ascii('R');
SELECT ferry_test.frame(data) FROM pg_logical_slot_get_binary_changes('relay', NULL, NULL,
	'format', 'relay', 'wire-version', '1', 'run.id', 'R', 'test.fixed.ts', '1700000000123456',
	'provide.transaction.metadata', 'true')
WHERE xid IN (SELECT xid FROM data_xids);
INSERT INTO rl VALUES (5, 'd', 5);
-- an invalidation that changes nothing visible keeps the schema id
ANALYZE rl;
INSERT INTO rl VALUES (55, 'dd', 55);
SELECT ferry_test.frame(data) FROM pg_logical_slot_get_binary_changes('relay', NULL, NULL,
	'format', 'relay', 'schemas.enable', 'false', 'extended.headers.enabled', 'false', 'test.fixed.ts', '1');
-- B and C carry the xid and LSNs of the transaction
BEGIN;
INSERT INTO rl VALUES (6, 'e', 6);
SELECT txid_current() AS insert_xid \gset
COMMIT;
SELECT chr(get_byte(data, 0)),
	CASE chr(get_byte(data, 0)) WHEN 'B' THEN (ferry_test.u32(data, 5) << 32 | ferry_test.u32(data, 9)) > 0
		WHEN 'C' THEN (ferry_test.u32(data, 13) << 32 | ferry_test.u32(data, 17))::text::bigint = (lsn - '0/0'::pg_lsn)::bigint
		ELSE true END
FROM pg_logical_slot_get_binary_changes('relay', NULL, NULL, 'format', 'relay', 'skipped.operations', 'c')
WHERE xid = :'insert_xid'::xid AND ferry_test.u32(data, 1)::text::xid = xid;
SELECT 'stop' FROM pg_drop_replication_slot('relay');
