-- commerce.sql: the source schema of the original CDC tutorial, which Ferry's
-- defaults reproduce (topics debezium.commerce.products / debezium.commerce.users).
--
--   psql -d postgres -v ON_ERROR_STOP=1 -f sql/commerce.sql
--
-- REPLICA IDENTITY FULL makes UPDATE and DELETE events carry the whole old row
-- ("before"), as in the original setup.

CREATE SCHEMA IF NOT EXISTS commerce;

CREATE TABLE IF NOT EXISTS commerce.products (
	id			SERIAL PRIMARY KEY,
	name		VARCHAR(255) NOT NULL,
	description	TEXT,
	price		REAL NOT NULL
);
ALTER TABLE commerce.products REPLICA IDENTITY FULL;

CREATE TABLE IF NOT EXISTS commerce.users (
	id			SERIAL PRIMARY KEY,
	username	VARCHAR(255) NOT NULL,
	password	VARCHAR(255) NOT NULL
);
ALTER TABLE commerce.users REPLICA IDENTITY FULL;
