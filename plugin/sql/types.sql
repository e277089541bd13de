-- types: Debezium's type mapping (§6), schemas and payloads
SET extra_float_digits = 0;
CREATE EXTENSION hstore;
CREATE EXTENSION citext;
CREATE EXTENSION ltree;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
SELECT 'init' FROM pg_create_logical_replication_slot('types', 'ferry');

-- integers, booleans, floats
CREATE TABLE t_num (id int PRIMARY KEY, b bool, s int2, i int4, l int8, o oid,
	r real, d double precision, ss smallserial, bs bigserial);
INSERT INTO t_num VALUES
	(1, true, 32767, 2147483647, 9223372036854775807, 4000000000, 3.3, 4.44),
	(2, false, -32768, -2147483648, -9223372036854775808, 0, 3, 4),
	(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(4, NULL, 0, 0, 0, 0, 'NaN', 'NaN'),
	(5, NULL, 0, 0, 0, 0, 'Infinity', '-Infinity'),
	(6, NULL, 0, 0, 0, 0, '-0', '-0'),
	(7, NULL, 0, 0, 0, 0, 1e10, 1e10),
	(8, NULL, 0, 0, 0, 0, 1e-5, 1e-5),
	(9, NULL, 0, 0, 0, 0, 0.001, 0.001),
	(10, NULL, 0, 0, 0, 0, 9999999, 9999999.5),
	(11, NULL, 0, 0, 0, 0, 10000000, 10000000),
	(12, NULL, 0, 0, 0, 0, 3.0e10, 1e23),
	(13, NULL, 0, 0, 0, 0, 1.4e-45, 4.9e-324),
	(14, NULL, 0, 0, 0, 0, 3.4028235e38, 1.7976931348623157e308),
	(15, NULL, 0, 0, 0, 0, 0.1, 0.1),
	(16, NULL, 0, 0, 0, 0, 123456.78, 123456.789012345),
	(17, NULL, 0, 0, 0, 0, 5.0331648e7, 2.2250738585072014e-308);
SELECT row_schema FROM ferry_test.schema('types');
SELECT * FROM ferry_test.rows('types');

-- decimals and money
CREATE TABLE t_dec (id int PRIMARY KEY, n32 numeric(3,2), n64 numeric(6,4), n4 numeric(4),
	n102 numeric(10,2) DEFAULT 1.5, nv numeric, nvd numeric DEFAULT 7, m money);
INSERT INTO t_dec VALUES
	(1, 1.1, 22.22, 10, -123.45, 10.1111, 1, '1234.11'),
	(2, 3.30, -22.2222, 0, 0, 22.2222, 2, '-1234.11'),
	(3, -1.28, 0.0001, -1, 1.27, 10, 3, 0),
	(4, NULL, NULL, NULL, NULL, 10.10, NULL, NULL),
	(5, 0, 1, 9999, 99999999.99, 100, 0, '92233720368547758.07'),
	(6, NULL, NULL, NULL, NULL, 0, NULL, '-92233720368547758.08'),
	(7, NULL, NULL, NULL, NULL, 'NaN', NULL, NULL),
	(8, NULL, NULL, NULL, NULL, -0.000000000000000000000000000001, NULL, NULL),
	(9, NULL, NULL, NULL, NULL, 123456789012345678901234567890.5, NULL, NULL),
	(10, NULL, NULL, NULL, NULL, 'Infinity', NULL, NULL);
SELECT row_schema FROM ferry_test.schema('types');
INSERT INTO t_dec VALUES (11, 1.1, 22.22, 10, -123.45, 10.1111, 1, '1234.11'),
	(12, NULL, NULL, NULL, NULL, 'NaN', NULL, NULL);
SELECT * FROM ferry_test.rows('types');
INSERT INTO t_dec VALUES (21, 1.1, 22.22, 10, -123.45, 10.1111, 1, '1234.11'),
	(22, NULL, NULL, NULL, NULL, 'NaN', NULL, NULL);
SELECT * FROM ferry_test.rows('types', 'decimal.handling.mode', 'double');
INSERT INTO t_dec VALUES (31, 1.1, 22.22, 10, -123.45, 10.1111, 1, '1234.11'),
	(32, NULL, NULL, NULL, NULL, '-Infinity', NULL, NULL);
SELECT * FROM ferry_test.rows('types', 'decimal.handling.mode', 'string');
INSERT INTO t_dec VALUES (13, 1.1, 22.22, 10, -123.45, 10.1111, 1, '1234.11');
SELECT row_schema FROM ferry_test.schema('types', 'decimal.handling.mode', 'string');
SELECT * FROM ferry_test.rows('types', 'decimal.handling.mode', 'string');
INSERT INTO t_dec VALUES (14, 1.1, 22.22, 10, -123.45, 10.1111, 1, '1234.11');
SELECT row_schema FROM ferry_test.schema('types', 'decimal.handling.mode', 'double');
SELECT * FROM ferry_test.rows('types', 'decimal.handling.mode', 'double');

-- strings, binary, json, xml, uuid, enums, network, ranges, misc
CREATE TABLE t_str (id int PRIMARY KEY, t text, vc varchar(10), c char(10), nm name,
	ch "char", by bytea, j json, jb jsonb, x xml, u uuid, e mood, ci citext, lt ltree,
	h hstore, ip inet, cd cidr, mac macaddr, mac8 macaddr8, i4r int4range, nr numrange,
	tsr tsrange, dr daterange, tv tsvector, pt point, dm posint);
INSERT INTO t_str VALUES
	(1, 'some text', 'žš', 'cone', 'nm', 'x', '\x010203', '{"bar": "baz"}', '{"b": 1, "a": [1, 2]}',
	 '<foo>bar</foo><foo>bar</foo>', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'happy', 'CiText',
	 'Top.Collections.Pictures', '"key1"=>"val1", "key2"=>NULL, "key3"=>"v\"3"',
	 '192.168.2.0/12', '192.168.100.128/25', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
	 '[1000,6000)', '[5.3,6.3)', '["2019-03-31 15:30:00",infinity)', '[2019-03-31,2019-04-30)',
	 'a fat cat sat on a mat', '(1,1)', 5),
	(2, E'quote" back\\ slash/ nl\n tab\t cr\r bs\b ff\f \x01 \x1f \x7f é 😀 €', '', '', '',
	 NULL, '\x', '[]', 'null', '<a/>', '00000000-0000-0000-0000-000000000000', 'sad', '', '',
	 '', '::1', '::/0', '00:00:00:00:00:00', '00:00:00:00:00:00:00:00', 'empty', '(,)', NULL,
	 NULL, '', '(-1.5,1e300)', 1),
	(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(4, 'x', 'y', 'z', 'w', 'q', '\xfffefd00', '"s"', '{"key5": null, "key4": "val4", "a": {"b": 1}}',
	 '<x>&amp;</x>', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'ok', 'x', 'a', '"key_#1"=>"a", "key 2"=>"b"',
	 '10.0.0.1', '10.0.0.0/8', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff', '(1,3]',
	 '[1.5,)', '(,"2020-01-01 00:00:00")', '[2020-01-01,)', '''x'':1A ''y'':2B', '(0,0)', 7);
SELECT row_schema FROM ferry_test.schema('types');
INSERT INTO t_str (id, t, by) VALUES (5, 'a', '\x00ff10');
SELECT * FROM ferry_test.rows('types');
INSERT INTO t_str (id, t, by) VALUES (6, 'a', '\xfbff');
SELECT * FROM ferry_test.rows('types', 'binary.handling.mode', 'base64');
INSERT INTO t_str (id, t, by) VALUES (7, 'a', '\xfbff');
SELECT * FROM ferry_test.rows('types', 'binary.handling.mode', 'base64-url-safe');
INSERT INTO t_str (id, t, by) VALUES (8, 'a', '\xfbff');
SELECT * FROM ferry_test.rows('types', 'binary.handling.mode', 'hex');
INSERT INTO t_str (id, t, by) VALUES (9, 'a', '\xfbff');
SELECT data->'value'->'schema'->'fields'->1->'fields'->6 FROM ferry_test.get('types', 'binary.handling.mode', 'hex') AS data;

-- hstore.handling.mode=map: a Connect map, keys in Java HashMap order
INSERT INTO t_str (id, h) VALUES (10, '"key1"=>"val1", "key2"=>NULL, "key3"=>"v\"3"');
SELECT data->'value'->'schema'->'fields'->1->'fields'->14, data->'value'->'payload'->'after'->'h'
FROM ferry_test.get('types', 'hstore.handling.mode', 'map') AS data;

-- bits
CREATE TABLE t_bit (id int PRIMARY KEY, b1 bit, b1n bit(1), b2 bit(2), b7 bit(7), b24 bit(24),
	vb1 varbit(1), vb varbit(8), vbu varbit, b64 bit(64));
INSERT INTO t_bit VALUES
	(1, '1', '0', '11', '1000000', '000000110000001000000001', '1', '101',
	 '111011010001000110000001000000001', B'0000000000000000000000000000000000000000000000000000000010000000'),
	(2, '0', '1', '00', '0000000', '000000000000000000000000', '0', '', '', B'1' || repeat('0', 63)::bit(63));
SELECT row_schema FROM ferry_test.schema('types');
INSERT INTO t_bit VALUES
	(1, '1', '0', '11', '1000000', '000000110000001000000001', '1', '101',
	 '111011010001000110000001000000001', B'0000000000000000000000000000000000000000000000000000000010000000'),
	(2, '0', '1', '00', '0000000', '000000000000000000000000', '0', '', '', B'1' || repeat('0', 63)::bit(63))
	ON CONFLICT (id) DO UPDATE SET b1 = excluded.b1;
SELECT * FROM ferry_test.rows('types');

-- temporal types, time.precision.mode
CREATE TABLE t_time (id int PRIMARY KEY, d date, t time, t3 time(3), t0 time(0),
	ts timestamp, ts3 timestamp(3), ts0 timestamp(0), tz timestamptz, tz3 timestamptz(3),
	tz0 timestamptz(0), ttz timetz, ttz3 timetz(3), iv interval);
INSERT INTO t_time VALUES
	(1, '2016-11-04', '13:51:30', '13:51:30.123', '13:51:30', '2016-11-04 13:51:30.123456',
	 '2016-11-04 13:51:30.123456', '2016-11-04 13:51:30.5', '2016-11-04 13:51:30.123456+02',
	 '2016-11-04 13:51:30.123456+02', '2016-11-04 13:51:30+02', '13:51:30.123789+02',
	 '13:51:30.123+02', '1 year 2 months 3 days 4 hours 5 minutes 6.78 seconds'),
	(2, '1970-01-01', '24:00:00', '00:00:00', '23:59:59', '1970-01-01 00:00:00',
	 '1969-12-31 23:59:59.999', '1900-01-01', '2016-11-04 06:51:30+00', '2016-11-04 06:51:30.1+00',
	 '2016-11-04 06:51:30.5+00', '24:00:00+00', '00:00:00-01', '-1 year -2 months +3 days -04:05:06.78'),
	(3, 'infinity', NULL, NULL, NULL, 'infinity', 'infinity', '-infinity', 'infinity', '-infinity',
	 NULL, NULL, NULL, '0'),
	(4, '-infinity', NULL, NULL, NULL, '-infinity', '-infinity', NULL, '21016-11-04 06:51:30.123456+00',
	 '4714-11-24 00:00:00+00 BC', NULL, NULL, NULL, '-178000000 years'),
	(5, '0001-01-01 BC', NULL, NULL, NULL, '4713-01-01 00:00:00 BC', NULL, NULL,
	 '294276-12-31 23:59:59.999999+00', '0001-01-01 00:00:00+00', NULL, NULL, NULL, '1 mon -1 day 00:00:00.000001'),
	(6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '1.5 seconds');
SELECT row_schema FROM ferry_test.schema('types');
SELECT * FROM ferry_test.rows('types');
UPDATE t_time SET iv = iv WHERE id <= 2;
SELECT * FROM ferry_test.rows('types', 'time.precision.mode', 'connect');
UPDATE t_time SET iv = iv WHERE id <= 2;
SELECT * FROM ferry_test.rows('types', 'time.precision.mode', 'adaptive_time_microseconds', 'interval.handling.mode', 'string');
INSERT INTO t_time (id) VALUES (7);
SELECT row_schema FROM ferry_test.schema('types', 'time.precision.mode', 'connect', 'interval.handling.mode', 'string');
SELECT * FROM ferry_test.rows('types', 'time.precision.mode', 'connect', 'interval.handling.mode', 'string');

-- arrays
CREATE TABLE t_arr (id int PRIMARY KEY, ia int4[], sa int2[], la int8[], ta text[], ca char(3)[],
	na numeric(10,2)[], nua numeric[], fa float8[], ra real[], ba bool[], da date[], tma time[],
	tsa timestamp(3)[], tza timestamptz[], ua uuid[], ja jsonb[], bya bytea[], ea mood[],
	ipa inet[], ha hstore[], m2 int[][], mna money[], iva interval[], xa xml[], pa point[],
	vba varbit[], nma name[], bta bit(3)[]);
INSERT INTO t_arr VALUES
	(1, '{1,2,3}', '{-1}', '{1550166368505037572}', '{one,two,"thr ee",NULL}', '{a,bc}',
	 '{1.2,3.4,5.6}', '{1.10,2,NULL}', '{1.5,NaN}', '{3.3}', '{t,f}', '{2016-11-04,1970-01-01}',
	 '{00:01:02,01:02:03}', '{"2016-11-04 13:51:30.123"}', '{"2020-04-01 11:51:02+00"}',
	 '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', ARRAY['{"bar": "baz"}'::jsonb], '{"\\x0001"}',
	 '{sad,happy}', '{192.168.0.1/24}', ARRAY['"a"=>"b"'::hstore], '{{1,2},{3,4}}', '{1}', '{1 day}',
	 ARRAY['<a/>'::xml], '{"(1,2)"}', '{101}', '{n}', '{101}'),
	(2, '{}', NULL, '{}', '{}', NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT row_schema FROM ferry_test.schema('types');
UPDATE t_arr SET id = id;
SELECT * FROM ferry_test.rows('types');

-- unknown types are dropped unless include.unknown.datatypes (then the
-- text, geometric types as pgjdbc prints them, per binary.handling.mode);
-- name has a schema but only a value as unknown data
CREATE TABLE t_unk (id int PRIMARY KEY, bx box, ci circle, ln pg_lsn, tq tsquery, nm name,
	pa path, pg polygon, ls lseg, li line);
INSERT INTO t_unk VALUES (1, '(1,1),(0,0)', '<(10,20),10>', '0/16B3748', 'a & b', 'n', '[(0,0),(1.5,-2)]',
	'((0,0),(1,1),(1,0))', '[(0,0),(1e20,1)]', '{1,-1,0}');
SELECT data->'value'->'schema'->'fields'->1, data->'value'->'payload'->'after' FROM ferry_test.get('types') AS data;
INSERT INTO t_unk VALUES (2, '(1,1),(0,0)', '<(10,20),10>', '0/16B3748', 'a & b', 'n', '[(0,0),(1.5,-2)]',
	'((0,0),(1,1),(1,0))', '[(0,0),(1e20,1)]', '{1,-1,0}');
SELECT data->'value'->'schema'->'fields'->1, data->'value'->'payload'->'after' FROM ferry_test.get('types', 'include.unknown.datatypes', 'true') AS data;
INSERT INTO t_unk VALUES (3, '(1,1),(0,0)', '<(10,20),10>', '0/16B3748', 'a & b', 'n', '[(0,0),(1.5,-2)]',
	'((0,0),(1,1),(1,0))', '[(0,0),(1e20,1)]', '{1,-1,0}');
SELECT k, v, CASE WHEN k NOT IN ('id', 'nm') THEN convert_from(decode(v, 'hex'), 'UTF8') END
FROM ferry_test.get('types', 'include.unknown.datatypes', 'true', 'binary.handling.mode', 'hex') AS data,
	json_each_text(data->'value'->'payload'->'after') AS j(k, v);

-- defaults (§6.4): literals, functions, serials, and null -> default substitution
CREATE TABLE t_def (id serial PRIMARY KEY, i int DEFAULT 42, bi bigint DEFAULT '9223372036854775807',
	s text DEFAULT 'new', vc varchar(5) DEFAULT 'ab''c', b bool DEFAULT true, f real DEFAULT 1.5,
	n numeric(5,2) DEFAULT 1.5, nu numeric DEFAULT 3, j jsonb DEFAULT '{}', u uuid DEFAULT gen_random_uuid(),
	d date DEFAULT '2020-01-02', dn date DEFAULT now(), ts timestamp DEFAULT now(),
	ts3 timestamp(3) DEFAULT '2020-01-01 00:00:00.5', tz timestamptz DEFAULT now(),
	tz2 timestamptz(2) DEFAULT CURRENT_TIMESTAMP, tm time DEFAULT '01:00', iv interval DEFAULT '1 day',
	e mood DEFAULT 'ok', bt bit(3) DEFAULT '101', by bytea DEFAULT '\x01', ttz timetz DEFAULT now(),
	idn int GENERATED ALWAYS AS IDENTITY, gen int GENERATED ALWAYS AS (i * 2) STORED,
	nn text NOT NULL DEFAULT 'x', ex int DEFAULT (1 + 1), dm posint DEFAULT 3, neg int DEFAULT -5);
INSERT INTO t_def (i, s, b, j, u, nn) VALUES (NULL, NULL, NULL, NULL, NULL, 'given');
SELECT data->'value'->'schema'->'fields'->1 FROM ferry_test.get('types') AS data;
-- nulls of columns with a default are written as the default (JsonConverter)
INSERT INTO t_def (i, s, b, j, u, nn, d, dn, ts, tz, tz2, ttz)
	VALUES (NULL, NULL, NULL, NULL, NULL, 'given', NULL, NULL, NULL, NULL, NULL, NULL);
SELECT * FROM ferry_test.rows('types');
-- tstzrange is written in UTC whatever the session's TimeZone
CREATE TABLE t_tzr (id int PRIMARY KEY, r tstzrange);
INSERT INTO t_tzr VALUES (1, '[2017-06-05 11:29:12.549426+00,)'),
	(2, '(2017-06-05 11:29:12+05,2018-01-01 00:00:00.5-03:30]'), (3, 'empty'),
	(4, '[-infinity,infinity]'), (5, '[0044-03-15 00:00:00+00 BC,2020-01-01 00:00:00+00)');
SET timezone = 'Asia/Kolkata';
SELECT * FROM ferry_test.rows('types');
RESET timezone;
SELECT 'stop' FROM pg_drop_replication_slot('types');
