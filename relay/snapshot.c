/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *	  Initial snapshot: every captured table read inside the slot's exported
 *	  snapshot through ferry.snapshot_table(), produced as op "r" records.
 *
 * The caller has opened a REPEATABLE READ transaction on `conn` (and set
 * the exported snapshot of a new slot when there is one).  Tables are the
 * ones the include/exclude lists select, matched like the plugin does:
 * whole names, case-insensitive (Debezium's Pattern.CASE_INSENSITIVE, PG's
 * ~* with ^(...)$).  Rows come from a cursor in binary format, one frame
 * per row (an 'S' first, then 'R's), parsed by frame.c like the stream.
 *
 * The whole snapshot is one in-flight entry that confirms nothing; the
 * caller waits until every snapshot record is acknowledged before it
 * streams from the slot's consistent point, so the seam neither loses nor
 * doubles a change.
 *
 * IDENTIFICATION
 *	  relay/snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "relay.h"
#include "wire.h"

static void
buf_puts(relay_buf_t *b, const char *s)
{
	relay_buf_append(b, s, strlen(s));
}

/* a text[] literal '{"a","b"}' of a list, or NULL when empty (malloc'd) */
static char *
array_literal(const cfg_list_t *list)
{
	relay_buf_t b = {0};

	if (list->count == 0)
		return NULL;
	relay_buf_append(&b, "{", 1);
	for (cfg_pair_t *e = list->head; e; e = e->next)
	{
		if (e != list->head)
			relay_buf_append(&b, ",", 1);
		relay_buf_append(&b, "\"", 1);
		for (const char *s = e->value; *s; s++)
		{
			if (*s == '"' || *s == '\\')
				relay_buf_append(&b, "\\", 1);
			relay_buf_append(&b, s, 1);
		}
		relay_buf_append(&b, "\"", 1);
	}
	relay_buf_append(&b, "}", 2);	/* with the terminating NUL */
	return b.data;
}

int
relay_tables_list(PGconn *conn, const relay_config_t *cfg, relay_table_t **tables,
				  int *ntables, char *errbuf, size_t errlen)
{
	const char *params[4];
	char	   *lits[4];
	PGresult   *res;
	int			n;

	lits[0] = array_literal(&cfg->schema_include);
	lits[1] = array_literal(&cfg->schema_exclude);
	lits[2] = array_literal(&cfg->table_include);
	lits[3] = array_literal(&cfg->table_exclude);
	for (int i = 0; i < 4; i++)
		params[i] = lits[i];

	res = PQexecParams(conn,
					   "SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname), "
					   "       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), "
					   "       c.relreplident "
					   "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
					   "WHERE c.relkind = 'r' AND c.relpersistence = 'p' "
					   "  AND n.nspname NOT IN ('information_schema', 'ferry') AND n.nspname !~ '^pg_' "
					   "  AND ($1::text[] IS NULL OR EXISTS (SELECT 1 FROM unnest($1::text[]) r "
					   "       WHERE n.nspname ~* ('^(' || r || ')$'))) "
					   "  AND ($2::text[] IS NULL OR NOT EXISTS (SELECT 1 FROM unnest($2::text[]) r "
					   "       WHERE n.nspname ~* ('^(' || r || ')$'))) "
					   "  AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM unnest($3::text[]) r "
					   "       WHERE n.nspname || '.' || c.relname ~* ('^(' || r || ')$'))) "
					   "  AND ($4::text[] IS NULL OR NOT EXISTS (SELECT 1 FROM unnest($4::text[]) r "
					   "       WHERE n.nspname || '.' || c.relname ~* ('^(' || r || ')$'))) "
					   "ORDER BY 1, 2",
					   4, NULL, params, NULL, NULL, 0);
	for (int i = 0; i < 4; i++)
		free(lits[i]);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		snprintf(errbuf, errlen, "could not list captured tables: %s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	*tables = calloc(n > 0 ? n : 1, sizeof(relay_table_t));
	if (!*tables)
		log_fatal("out of memory");
	for (int i = 0; i < n; i++)
	{
		relay_table_t *t = &(*tables)[i];

		t->schema = strdup(PQgetvalue(res, i, 0));
		t->name = strdup(PQgetvalue(res, i, 1));
		t->qualified = strdup(PQgetvalue(res, i, 2));
		t->has_pk = PQgetvalue(res, i, 3)[0] == 't';
		t->replident = PQgetvalue(res, i, 4)[0];
		if (!t->schema || !t->name || !t->qualified)
			log_fatal("out of memory");
	}
	*ntables = n;
	PQclear(res);
	return 0;
}

/*
 * At every start: name the captured tables, and warn about those whose
 * events cannot be keyed (no primary key) or carry no old row.
 */
int
relay_tables_check(PGconn *conn, const relay_config_t *cfg, char *errbuf, size_t errlen)
{
	relay_table_t *tables = NULL;
	int			ntables = 0;
	relay_buf_t names = {0};

	if (relay_tables_list(conn, cfg, &tables, &ntables, errbuf, errlen) < 0)
		return -1;
	if (ntables == 0)
		log_warning("no table of this database matches the include/exclude lists: nothing will be captured");
	for (int i = 0; i < ntables; i++)
	{
		if (i > 0)
			buf_puts(&names, ", ");
		buf_puts(&names, tables[i].qualified);
		if (!tables[i].has_pk)
			log_warning("table %s has no primary key: its records have a null key (and land on any partition)%s",
						tables[i].qualified,
						tables[i].replident == 'd' || tables[i].replident == 'n'
						? ", and its updates and deletes carry no old row: set REPLICA IDENTITY FULL" : "");
	}
	relay_buf_append(&names, "", 1);
	if (ntables > 0)
		log_info("capturing %d tables: %s", ntables, names.data);
	relay_buf_free(&names);
	relay_tables_free(tables, ntables);
	return 0;
}

void
relay_tables_free(relay_table_t *tables, int ntables)
{
	for (int i = 0; i < ntables; i++)
	{
		free(tables[i].schema);
		free(tables[i].name);
		free(tables[i].qualified);
	}
	free(tables);
}

/*
 * Find the first and last of tables[] that have at least one row in the
 * snapshot open on conn (-1 when all are empty).
 */
static int
nonempty_range(PGconn *conn, const relay_table_t *tables, int ntables,
			   int *first, int *last, char *errbuf, size_t errlen)
{
	*first = *last = -1;
	for (int i = 0; i < ntables; i++)
	{
		char	   *ident = PQescapeIdentifier(conn, tables[i].schema, strlen(tables[i].schema));
		char	   *rel = PQescapeIdentifier(conn, tables[i].name, strlen(tables[i].name));
		relay_buf_t sql = {0};
		PGresult   *res;
		bool		has_rows;

		buf_puts(&sql, "SELECT EXISTS (SELECT 1 FROM ");
		buf_puts(&sql, ident);
		buf_puts(&sql, ".");
		buf_puts(&sql, rel);
		relay_buf_append(&sql, ")", 2);
		PQfreemem(ident);
		PQfreemem(rel);
		res = PQexec(conn, sql.data);
		relay_buf_free(&sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			snprintf(errbuf, errlen, "could not check whether table %s has rows: %s",
					 tables[i].qualified, PQresultErrorMessage(res));
			PQclear(res);
			return -1;
		}
		has_rows = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
		if (has_rows)
		{
			if (*first < 0)
				*first = i;
			*last = i;
		}
	}
	return 0;
}

/* read one table; returns 0, -1, or 1 (stopped) */
static int
snapshot_table(PGconn *conn, const relay_config_t *cfg, relay_producer_t *p,
			   uint64_t seq, const relay_table_t *t, bool first, bool last,
			   const char *extra_opts, uint64_t *rows_out,
			   char *errbuf, size_t errlen)
{
	relay_buf_t sql = {0};
	char		opts[16384];
	char		fetch[64];
	relay_schemas_t sc;
	uint64_t	rows = 0;
	int64_t		t0 = relay_now_ms();
	int64_t		next_log = t0 + 10000;
	int			rc = 0;
	char	   *lit;

	relay_plugin_options(cfg, true, opts, sizeof(opts));
	/* splice the per-table options in before the closing "]::text[]" */
	opts[strlen(opts) - strlen("]::text[]")] = '\0';
	lit = PQescapeLiteral(conn, t->qualified, strlen(t->qualified));
	buf_puts(&sql, "DECLARE ferry_snapshot NO SCROLL CURSOR FOR SELECT ferry.snapshot_table(");
	buf_puts(&sql, lit);
	buf_puts(&sql, "::regclass, ");
	buf_puts(&sql, opts);
	{
		char		flags[256];

		snprintf(flags, sizeof(flags), ", 'snapshot.first.table=%s', 'snapshot.last.table=%s'%s]::text[])",
				 first ? "true" : "false", last ? "true" : "false", extra_opts);
		relay_buf_append(&sql, flags, strlen(flags) + 1);
	}
	PQfreemem(lit);

	if (relay_pg_exec(conn, sql.data, errbuf, errlen) < 0)
	{
		relay_buf_free(&sql);
		return -1;
	}
	relay_buf_free(&sql);

	relay_schemas_init(&sc);
	snprintf(fetch, sizeof(fetch), "FETCH %lld FROM ferry_snapshot", (long long) cfg->snapshot_fetch);
	for (;;)
	{
		PGresult   *res = PQexecParams(conn, fetch, 0, NULL, NULL, NULL, NULL, 1);
		int			n;

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			snprintf(errbuf, errlen, "could not read snapshot of table %s: %s",
					 t->qualified, PQresultErrorMessage(res));
			PQclear(res);
			rc = -1;
			break;
		}
		n = PQntuples(res);
		for (int i = 0; i < n && rc == 0; i++)
		{
			relay_frame_t f;
			char		perr[512];

			if (PQgetisnull(res, i, 0))
				continue;
			if (relay_frame_parse(PQgetvalue(res, i, 0), (size_t) PQgetlength(res, i, 0),
								  &f, perr, sizeof(perr)) < 0)
			{
				snprintf(errbuf, errlen, "could not parse snapshot frame of table %s: %s",
						 t->qualified, perr);
				rc = -1;
			}
			else if (f.type == FERRY_FRAME_SCHEMA)
				rc = relay_producer_schema(p, &sc, &f, errbuf, errlen);
			else if (f.type == FERRY_FRAME_RECORD)
			{
				rc = relay_producer_record(p, &sc, &f, seq, errbuf, errlen);
				if (rc == 0)
					rows++;
			}
			/* 'B'/'C' frames carry nothing the snapshot needs */
		}
		PQclear(res);
		relay_producer_poll(p, 0);
		if (rc != 0)
			break;
		if (relay_stop_requested)
		{
			rc = 1;
			break;
		}
		if (relay_producer_failed(p, errbuf, errlen))
		{
			rc = -1;
			break;
		}
		if (relay_now_ms() >= next_log)
		{
			int64_t		now = relay_now_ms();

			log_info("snapshot of table %s: %" PRIu64 " records so far (%.0f rows/s)",
					 t->qualified, rows, rows * 1000.0 / (now - t0 > 0 ? now - t0 : 1));
			next_log = now + 10000;
		}
		if (n == 0)
			break;
	}
	relay_schemas_free(&sc);
	if (rc == 0)
	{
		if (relay_pg_exec(conn, "CLOSE ferry_snapshot", errbuf, errlen) < 0)
			return -1;
		{
			int64_t		ms = relay_now_ms() - t0;

			log_info("snapshot of table %s done: %" PRIu64 " records in %.1f s (%.0f rows/s)",
					 t->qualified, rows, ms / 1000.0, rows * 1000.0 / (ms > 0 ? ms : 1));
		}
	}
	*rows_out += rows;
	return rc;
}

int
relay_snapshot_run(PGconn *conn, const relay_config_t *cfg, relay_producer_t *p,
				   relay_inflight_t *fl, relay_lsn_t lsn, relay_snapshot_stats_t *st,
				   char *errbuf, size_t errlen)
{
	relay_table_t *tables = NULL;
	int			ntables = 0;
	uint64_t	seq;
	int			rc = 0;
	int			first_full = -1;
	int			last_full = -1;
	char		extra[256] = "";

	if (relay_tables_list(conn, cfg, &tables, &ntables, errbuf, errlen) < 0)
		return -1;
	if (ntables == 0)
		log_warning("no table matches the include/exclude lists: the snapshot is empty");
	/* one source.lsn for the whole snapshot, as Debezium's pg_current_wal_lsn() */
	{
		PGresult   *res = PQexec(conn,
								 "SELECT pg_current_wal_lsn()::text, "
								 "EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
								 "        WHERE n.nspname = 'ferry' AND p.proname = 'snapshot_table')");

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			snprintf(errbuf, errlen, "could not start the snapshot: %s", PQresultErrorMessage(res));
			PQclear(res);
			relay_tables_free(tables, ntables);
			return -1;
		}
		if (PQgetvalue(res, 0, 1)[0] != 't')
		{
			snprintf(errbuf, errlen, "function ferry.snapshot_table() does not exist in this database: "
					 "run CREATE EXTENSION ferry (or set snapshot.mode to never)");
			PQclear(res);
			relay_tables_free(tables, ntables);
			return -1;
		}
		snprintf(extra, sizeof(extra), ", 'snapshot.lsn=%s'", PQgetvalue(res, 0, 0));
		PQclear(res);
	}

	/*
	 * Debezium marks the first record of the whole snapshot "first" and the
	 * last one "last": with empty tables at either end those records belong
	 * to the first and last tables that have rows in this snapshot.
	 */
	if (nonempty_range(conn, tables, ntables, &first_full, &last_full, errbuf, errlen) < 0)
	{
		relay_tables_free(tables, ntables);
		return -1;
	}

	log_info("snapshot of %d tables at %X/%X starting", ntables, LSN_FORMAT_ARGS(lsn));
	seq = relay_inflight_begin(fl, lsn);
	for (int i = 0; i < ntables && rc == 0; i++)
	{
		rc = snapshot_table(conn, cfg, p, seq, &tables[i], i == first_full, i == last_full,
							extra, &st->rows, errbuf, errlen);
		if (rc == 0)
			st->tables++;
	}
	/* the snapshot entry confirms nothing beyond the slot's start */
	relay_inflight_commit(fl, seq, lsn);
	relay_tables_free(tables, ntables);
	return rc;
}
