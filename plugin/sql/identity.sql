-- identity: REPLICA IDENTITY DEFAULT, FULL, USING INDEX, NOTHING; keys from
-- the primary key, else the first unique index; keyless tables
SELECT 'init' FROM pg_create_logical_replication_slot('ident', 'ferry');
CREATE TABLE r_def (id int PRIMARY KEY, a text NOT NULL, b int, c bool NOT NULL, d timestamptz NOT NULL,
	e numeric(5,2) NOT NULL, f int[] NOT NULL, g text NOT NULL DEFAULT 'dflt');
CREATE TABLE r_full (id int PRIMARY KEY, a text NOT NULL, b int);
ALTER TABLE r_full REPLICA IDENTITY FULL;
CREATE TABLE r_idx (id int PRIMARY KEY, u int NOT NULL, a text);
CREATE UNIQUE INDEX r_idx_u ON r_idx (u);
ALTER TABLE r_idx REPLICA IDENTITY USING INDEX r_idx_u;
CREATE TABLE r_nothing (id int PRIMARY KEY, a text);
ALTER TABLE r_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE r_nokey (a int, b text);
ALTER TABLE r_nokey REPLICA IDENTITY FULL;
CREATE TABLE r_uniq (a int, u2 int, u1 int NOT NULL, b text);
CREATE UNIQUE INDEX r_uniq_b ON r_uniq (u2);
CREATE UNIQUE INDEX r_uniq_a ON r_uniq (u1);
CREATE UNIQUE INDEX r_uniq_0 ON r_uniq ((a + 1));
ALTER TABLE r_uniq REPLICA IDENTITY FULL;

INSERT INTO r_def VALUES (1, 'a', 1, true, '2020-01-01', 1.5, '{1}');
UPDATE r_def SET b = 2;
UPDATE r_def SET id = 2;
DELETE FROM r_def;
SELECT * FROM ferry_test.pl('ident');

INSERT INTO r_full VALUES (1, 'a', 1);
UPDATE r_full SET b = 2;
UPDATE r_full SET id = 2;
DELETE FROM r_full;
SELECT * FROM ferry_test.pl('ident');

-- skip.messages.without.change (FULL identity): updates that change no
-- captured column are dropped
INSERT INTO r_full VALUES (5, 'a', 1);
UPDATE r_full SET b = 1;
UPDATE r_full SET a = 'b';
DELETE FROM r_full;
SELECT r->'value'->>'op', r->'value'->'after' FROM ferry_test.pl('ident', 'skip.messages.without.change', 'true',
	'column.exclude.list', 'public.r_full.a') AS r;

INSERT INTO r_idx VALUES (1, 10, 'a');
UPDATE r_idx SET a = 'b';
UPDATE r_idx SET u = 11;
UPDATE r_idx SET id = 2;
DELETE FROM r_idx;
SELECT * FROM ferry_test.pl('ident');

INSERT INTO r_nothing VALUES (1, 'a');
UPDATE r_nothing SET a = 'b';
DELETE FROM r_nothing;
SELECT * FROM ferry_test.pl('ident');

INSERT INTO r_nokey VALUES (1, 'a');
UPDATE r_nokey SET b = 'b';
DELETE FROM r_nokey;
SELECT * FROM ferry_test.get('ident', 'schemas.enable', 'true', 'extended.headers.enabled', 'false');

INSERT INTO r_uniq VALUES (1, NULL, 5, 'a');
UPDATE r_uniq SET u1 = 6;
DELETE FROM r_uniq;
SELECT data->'key' FROM ferry_test.get('ident', 'extended.headers.enabled', 'false') AS data;
SELECT 'stop' FROM pg_drop_replication_slot('ident');
