-- ddl: ALTER TABLE mid-stream changes the schema from the next change on
SELECT 'init' FROM pg_create_logical_replication_slot('ddl', 'ferry');
CREATE TABLE d (id int PRIMARY KEY, a int, b text);
INSERT INTO d VALUES (1, 1, 'x');
ALTER TABLE d ADD COLUMN c numeric(5,2) DEFAULT 1.25 NOT NULL;
INSERT INTO d VALUES (2, 2, 'y');
BEGIN;
INSERT INTO d VALUES (3, 3, 'z', 3.5);
ALTER TABLE d DROP COLUMN b;
INSERT INTO d VALUES (4, 4, 4.5);
ALTER TABLE d ALTER COLUMN a TYPE text;
INSERT INTO d VALUES (5, 'five', 5.5);
COMMIT;
ALTER TABLE d RENAME COLUMN a TO aa;
UPDATE d SET aa = 'six' WHERE id = 5;
ALTER TABLE d ALTER COLUMN c DROP NOT NULL, ALTER COLUMN c DROP DEFAULT;
INSERT INTO d VALUES (7, 'seven', NULL);
ALTER TABLE d RENAME TO d2;
INSERT INTO d2 VALUES (8, 'eight', 8);
SELECT data->>'topic', data->'value'->'schema'->'fields'->1->'fields', data->'value'->'payload'->'after'
FROM ferry_test.get('ddl', 'extended.headers.enabled', 'false') AS data;
-- a new enum label and a new primary key show up in the schemas
CREATE TYPE color AS ENUM ('red');
CREATE TABLE e (id int, c color);
INSERT INTO e VALUES (1, 'red');
ALTER TYPE color ADD VALUE 'blue';
ALTER TABLE e ADD PRIMARY KEY (id);
INSERT INTO e VALUES (2, 'blue');
SELECT data->'key', data->'value'->'schema'->'fields'->1->'fields'->1, data->'value'->'payload'->'after'
FROM ferry_test.get('ddl', 'extended.headers.enabled', 'false') AS data;
SELECT 'stop' FROM pg_drop_replication_slot('ddl');
