-- truncate: skipped by default (skipped.operations=t), else op "t" with a
-- null key, one record per table
SELECT 'init' FROM pg_create_logical_replication_slot('trunc', 'ferry');
CREATE TABLE tr1 (id int PRIMARY KEY, v text);
CREATE TABLE tr2 (id int PRIMARY KEY);
CREATE TABLE tr_excl (id int PRIMARY KEY);
INSERT INTO tr1 VALUES (1, 'a');
TRUNCATE tr1;
SELECT * FROM ferry_test.pl('trunc');
INSERT INTO tr1 VALUES (1, 'a');
TRUNCATE tr1, tr2, tr_excl;
SELECT * FROM ferry_test.pl('trunc', 'skipped.operations', 'none', 'table.exclude.list', 'public\.tr_excl');
TRUNCATE tr1;
SELECT * FROM ferry_test.get('trunc', 'skipped.operations', 'c');
SELECT 'stop' FROM pg_drop_replication_slot('trunc');
