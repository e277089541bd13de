-- setup-postgres.sql: what a PostgreSQL 15 server needs before ferry-relay can
-- capture changes from it.  Run once, as a superuser, in the captured database:
--
--   psql -d postgres -v ON_ERROR_STOP=1 -v relay_password="'secret'" -f sql/setup-postgres.sql
--
-- then restart the server (wal_level and output_plugin_libraries take effect at
-- start).  The plugin itself is installed with `make install-plugin` (PGXS).

-- 1. Server settings (postgresql.auto.conf; a restart is needed).
--    wal_level = logical        logical decoding
--    max_replication_slots >= 1 one slot per relay (default 10)
--    max_wal_senders >= 1       one walsender per relay (default 10)
--    output_plugin_libraries    only on servers built with this setting (the
--                               patched 15.20 of Ferry's test machines): the
--                               output plugins that may be loaded, a list that
--                               must contain ferry.  A stock PostgreSQL has no
--                               such setting and loads any installed plugin.
ALTER SYSTEM SET wal_level = logical;
SELECT EXISTS (SELECT FROM pg_settings WHERE name = 'output_plugin_libraries') AS has_plugin_list \gset
\if :has_plugin_list
ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding, ferry;
\endif

-- 2. The extension (its snapshot function).
CREATE EXTENSION IF NOT EXISTS ferry;

-- 3. A role for the relay with the least privileges it needs:
--    LOGIN REPLICATION        to open a replication connection and a slot
--    USAGE + SELECT           on the captured schema and tables, for snapshots
--    EXECUTE on ferry.*       the snapshot function
--    It is not a superuser and owns nothing.
--    pg_hba.conf must allow it both "replication" and the database, e.g.
--      host  postgres     ferry  10.0.0.0/8  scram-sha-256
--      host  replication  ferry  10.0.0.0/8  scram-sha-256
\if :{?relay_password}
\else
\set relay_password NULL
\endif
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ferry') THEN
		CREATE ROLE ferry LOGIN REPLICATION;
	END IF;
END
$$;
ALTER ROLE ferry PASSWORD :relay_password;
GRANT USAGE ON SCHEMA commerce TO ferry;
GRANT SELECT ON ALL TABLES IN SCHEMA commerce TO ferry;
ALTER DEFAULT PRIVILEGES IN SCHEMA commerce GRANT SELECT ON TABLES TO ferry;
-- the extension's functions (snapshot), whichever schema it put them in
DO $$
DECLARE
	s name;
BEGIN
	SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	WHERE e.extname = 'ferry';
	IF s IS NOT NULL THEN
		EXECUTE format('GRANT USAGE ON SCHEMA %I TO ferry', s);
		EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO ferry', s);
	END IF;
	IF EXISTS (SELECT FROM pg_namespace WHERE nspname = 'ferry') THEN
		GRANT USAGE ON SCHEMA ferry TO ferry;
		GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ferry TO ferry;
	END IF;
END
$$;
