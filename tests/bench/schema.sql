-- Benchmark schema: the original setup's two tables (sql/commerce.sql) plus a wide table of
-- mixed types. All REPLICA IDENTITY FULL.
\set ON_ERROR_STOP on
CREATE SCHEMA IF NOT EXISTS commerce;
CREATE TABLE IF NOT EXISTS commerce.products (
  id SERIAL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  description TEXT,
  price REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS commerce.users (
  id SERIAL PRIMARY KEY,
  username VARCHAR(255) NOT NULL,
  password VARCHAR(255) NOT NULL
);
CREATE TABLE IF NOT EXISTS commerce.wide (
  id SERIAL PRIMARY KEY,
  i2 int2, i4 int4, i8 int8, num numeric(12,3), f4 real, f8 double precision, flag boolean,
  ts timestamp, tstz timestamptz, d date, tm time, uid uuid, js json, jsb jsonb, txt text,
  vc varchar(64), bin bytea, iarr int4[], iv interval
);
ALTER TABLE commerce.products REPLICA IDENTITY FULL;
ALTER TABLE commerce.users REPLICA IDENTITY FULL;
ALTER TABLE commerce.wide REPLICA IDENTITY FULL;
