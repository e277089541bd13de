/* plugin/ferry--0.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION ferry" to load this file. \quit

--
-- Snapshot reads (op "r") encoded by the plugin's own encoder.
-- options: the plugin options as 'name=value', plus snapshot.first.table,
-- snapshot.last.table, snapshot.lsn, snapshot.txid, snapshot.ts.us.
--
CREATE FUNCTION snapshot_table(rel regclass, options text[] DEFAULT '{}')
RETURNS SETOF bytea
AS 'MODULE_PATHNAME', 'ferry_snapshot_table'
LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION snapshot_table(regclass, text[]) IS
'Debezium snapshot records of a table in the caller''s snapshot (relay frames or JSON)';

-- The same in format json, as text
CREATE FUNCTION snapshot_table_json(rel regclass, options text[] DEFAULT '{}')
RETURNS SETOF text
LANGUAGE sql VOLATILE STRICT
AS $$
	SELECT convert_from(f, 'UTF8')
	FROM @extschema@.snapshot_table($1, array_append($2, 'format=json')) AS f
$$;

-- Value of option 'name' in a 'name=value' array, or NULL
CREATE FUNCTION _option(options text[], name text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$
	SELECT substr(o, length($2) + 2)
	FROM unnest($1) AS o
	WHERE o LIKE $2 || '=%'
	LIMIT 1
$$;

-- Debezium list matching: comma-separated regexes, whole name, case-insensitive
CREATE FUNCTION _matches(name text, list text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT
AS $$
	SELECT coalesce(bool_or($1 ~* ('^(?:' || btrim(p) || ')$')), false)
	FROM unnest(string_to_array($2, ',')) AS p
	WHERE btrim(p) <> ''
$$;

-- The tables the plugin captures with these options (filters of §3 lists)
CREATE FUNCTION captured_tables(options text[] DEFAULT '{}')
RETURNS SETOF regclass
LANGUAGE sql STABLE STRICT
AS $$
	SELECT c.oid::regclass
	FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind = 'r' AND c.relpersistence = 'p'
	  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
	  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
	  AND (@extschema@._option($1, 'schema.include.list') IS NULL
		   OR @extschema@._matches(n.nspname, @extschema@._option($1, 'schema.include.list')))
	  AND NOT coalesce(@extschema@._matches(n.nspname, @extschema@._option($1, 'schema.exclude.list')), false)
	  AND (@extschema@._option($1, 'table.include.list') IS NULL
		   OR @extschema@._matches(n.nspname || '.' || c.relname, @extschema@._option($1, 'table.include.list')))
	  AND NOT coalesce(@extschema@._matches(n.nspname || '.' || c.relname, @extschema@._option($1, 'table.exclude.list')), false)
	ORDER BY n.nspname, c.relname
$$;

--
-- Readiness of this database for ferry: one row per problem, in words.
-- No rows: ready.
--
CREATE FUNCTION check_readiness(options text[] DEFAULT '{}')
RETURNS SETOF text
LANGUAGE plpgsql STABLE STRICT
AS $$
DECLARE
	libs text;
	r record;
BEGIN
	IF current_setting('wal_level') <> 'logical' THEN
		RETURN NEXT format('wal_level is "%s" but must be "logical" (ALTER SYSTEM SET wal_level = logical; then restart the server)',
						   current_setting('wal_level'));
	END IF;
	SELECT setting INTO libs FROM pg_settings WHERE name = 'output_plugin_libraries';
	IF libs IS NULL THEN
		RETURN NEXT format('role "%s" cannot read output_plugin_libraries (grant pg_read_all_settings) or the server has no such setting; it must list ferry',
						   current_user);
	ELSIF NOT ('ferry' = ANY (SELECT btrim(btrim(l), '"') FROM unnest(string_to_array(libs, ',')) AS l)) THEN
		RETURN NEXT format('output_plugin_libraries is "%s" and does not list ferry (ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding, ferry; then SELECT pg_reload_conf())',
						   libs);
	END IF;
	IF current_setting('max_replication_slots')::int = 0 THEN
		RETURN NEXT 'max_replication_slots is 0: no replication slot can be created';
	ELSIF (SELECT count(*) FROM pg_replication_slots) >= current_setting('max_replication_slots')::int
		  AND NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE plugin = 'ferry') THEN
		RETURN NEXT format('all %s replication slots (max_replication_slots) are in use and none uses ferry',
						   current_setting('max_replication_slots'));
	END IF;
	IF current_setting('max_wal_senders')::int = 0 THEN
		RETURN NEXT 'max_wal_senders is 0: the relay cannot connect with the replication protocol';
	END IF;
	IF (SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()) <> 'UTF8' THEN
		RETURN NEXT format('database "%s" does not use encoding UTF8, ferry refuses it', current_database());
	END IF;
	IF NOT (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		RETURN NEXT format('role "%s" lacks the REPLICATION attribute (ALTER ROLE %I REPLICATION)',
						   current_user, current_user);
	END IF;
	FOR r IN
		SELECT c.oid::regclass AS rel, c.relreplident,
			   EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk,
			   has_table_privilege(c.oid, 'SELECT') AS can_select
		FROM @extschema@.captured_tables(options) AS t(oid)
		JOIN pg_class c ON c.oid = t.oid
	LOOP
		IF r.relreplident = 'n' THEN
			RETURN NEXT format('table %s has REPLICA IDENTITY NOTHING: updates carry no old row and deletes cannot be captured',
							   r.rel);
		ELSIF r.relreplident = 'd' AND NOT r.has_pk THEN
			RETURN NEXT format('table %s has no primary key and REPLICA IDENTITY DEFAULT: deletes cannot be captured (add a primary key or ALTER TABLE %s REPLICA IDENTITY FULL)',
							   r.rel, r.rel);
		END IF;
		IF NOT r.can_select THEN
			RETURN NEXT format('role "%s" lacks SELECT on table %s (needed for the snapshot)',
							   current_user, r.rel);
		END IF;
	END LOOP;
	RETURN;
END
$$;

COMMENT ON FUNCTION check_readiness(text[]) IS
'One row per problem that keeps ferry from capturing this database; no rows when ready';

-- readiness checks and snapshots are for any role; each checks privileges
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
