/*-------------------------------------------------------------------------
 *
 * stream.c
 *	  Slot management, the replication (CopyBoth) loop and feedback.
 *
 * The loop has pg_recvlogical's shape: asynchronous PQgetCopyData(); when
 * nothing is buffered, select() on the replication socket and on the
 * producer's event pipe until the next deadline (status update, stats,
 * heartbeat, slot check); keepalives ('k') answered when the server asks;
 * Standby Status Updates ('r') carry write = received and flush = what
 * Kafka has acknowledged (inflight.c), never more.
 *
 * A keepalive's walEnd is confirmed only when nothing is in flight, so an
 * idle slot keeps advancing while other tables or databases write WAL.
 *
 * A lost connection (Postgres restart, network loss) is not an error: the
 * records already produced are delivered, the open transaction is dropped
 * (the slot will send it again), and the relay reconnects with backoff and
 * resumes from the last position Kafka acknowledged.
 *
 * IDENTIFICATION
 *	  relay/stream.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "log.h"
#include "relay.h"
#include "wire.h"

/* seconds from the Unix epoch to the Postgres epoch (2000-01-01) */
#define PG_EPOCH_OFFSET_US	INT64_C(946684800000000)

typedef enum session_rc
{
	SESSION_CONTINUE = -1,		/* keep reading */
	SESSION_STOP,				/* a signal asked us to stop */
	SESSION_RECONNECT,			/* connection lost: reconnect and resume */
	SESSION_FATAL				/* give up (exit 1) */
} session_rc_t;

struct relay
{
	const relay_config_t *cfg;
	relay_producer_t *p;
	relay_inflight_t *fl;
	relay_schemas_t schemas;
	PGconn	   *conn;			/* replication connection */
	bool		streaming;		/* conn is in COPY BOTH mode */
	PGconn	   *sql;			/* normal connection: checks, heartbeat query */

	relay_lsn_t received_lsn;	/* highest WAL position received */
	relay_lsn_t server_lsn;		/* server's WAL end from the last message */
	relay_lsn_t reported_lsn;	/* last flush position sent */
	relay_lsn_t start_confirmed;	/* the existing slot's confirmed position at start */
	int64_t		last_status;
	int64_t		last_recv;
	bool		in_txn;
	uint64_t	seq;			/* in-flight entry of the open transaction */
	uint64_t	txns;

	int64_t		next_stats;
	int64_t		next_heartbeat;
	int64_t		next_walcheck;
	uint64_t	stats_events;
	uint64_t	stats_bytes;
	int64_t		stats_time;

	char		errbuf[1024];
};

int64_t
relay_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
pg_now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t) tv.tv_sec * 1000000 + tv.tv_usec - PG_EPOCH_OFFSET_US;
}

static void
put_u64(char *buf, uint64_t v)
{
	for (int i = 7; i >= 0; i--)
	{
		buf[i] = (char) (v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get_u64(const char *buf)
{
	uint64_t	v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | (unsigned char) buf[i];
	return v;
}

PGconn *
relay_pg_connect(const relay_config_t *cfg, bool replication,
				 char *errbuf, size_t errlen)
{
	const char *keys[6];
	const char *vals[6];
	int			n = 0;
	PGconn	   *conn;

	keys[n] = "dbname";
	vals[n++] = cfg->pg_conninfo;
	keys[n] = "fallback_application_name";
	vals[n++] = "ferry-relay";
	if (replication)
	{
		keys[n] = "replication";
		vals[n++] = "database";
	}
	if (cfg->pg_password && *cfg->pg_password)
	{
		keys[n] = "password";
		vals[n++] = cfg->pg_password;
	}
	keys[n] = NULL;
	vals[n] = NULL;

	conn = PQconnectdbParams(keys, vals, 1);
	if (!conn || PQstatus(conn) != CONNECTION_OK)
	{
		const char *msg = conn ? PQerrorMessage(conn) : "out of memory";
		size_t		l;

		snprintf(errbuf, errlen, "could not connect to PostgreSQL%s: %s",
				 replication ? " (replication)" : "", msg);
		l = strlen(errbuf);
		while (l > 0 && (errbuf[l - 1] == '\n' || errbuf[l - 1] == ' '))
			errbuf[--l] = '\0';
		PQfinish(conn);
		return NULL;
	}
	if (!replication)
	{
		PGresult   *res = PQexec(conn, "SET application_name = 'ferry-relay'; SET statement_timeout = 0");

		PQclear(res);
	}
	return conn;
}

static void
strip_nl(char *s)
{
	size_t		l = strlen(s);

	while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' '))
		s[--l] = '\0';
}

static void
set_pg_error(char *errbuf, size_t errlen, const char *what, PGconn *conn)
{
	snprintf(errbuf, errlen, "%s: %s", what, PQerrorMessage(conn));
	strip_nl(errbuf);
}

/* append 'text' as an SQL string literal */
static void
append_literal(char *out, size_t outlen, const char *text)
{
	size_t		l = strlen(out);

	if (l + 1 < outlen)
		out[l++] = '\'';
	for (const char *s = text; *s && l + 2 < outlen; s++)
	{
		if (*s == '\'')
			out[l++] = '\'';
		out[l++] = *s;
	}
	if (l + 1 < outlen)
		out[l++] = '\'';
	out[l] = '\0';
}

static void
list_join(const cfg_list_t *list, char *out, size_t outlen)
{
	out[0] = '\0';
	for (cfg_pair_t *e = list->head; e; e = e->next)
	{
		if (out[0])
			strncat(out, ",", outlen - strlen(out) - 1);
		strncat(out, e->value, outlen - strlen(out) - 1);
	}
}

/*
 * The plugin options from the configuration, as the option list of
 * START_REPLICATION ("name" 'value', ...) or, with as_array, as the text[]
 * literal ARRAY['name=value',...] that ferry.snapshot_table() takes.
 */
void
relay_plugin_options(const relay_config_t *cfg, bool as_array, char *out, size_t outlen)
{
	struct
	{
		const char *name;
		const char *value;
	}			opts[24];
	char		lists[5][4096];
	char		wire[16];
	int			n = 0;

	snprintf(wire, sizeof(wire), "%d", FERRY_WIRE_VERSION);
	opts[n].name = "format";
	opts[n++].value = "relay";
	opts[n].name = "wire-version";
	opts[n++].value = wire;
	opts[n].name = "topic.prefix";
	opts[n++].value = cfg->topic_prefix;
	{
		const cfg_list_t *l[5] = {&cfg->schema_include, &cfg->schema_exclude,
		&cfg->table_include, &cfg->table_exclude, &cfg->column_exclude};
		const char *names[5] = {"schema.include.list", "schema.exclude.list",
		"table.include.list", "table.exclude.list", "column.exclude.list"};

		for (int i = 0; i < 5; i++)
		{
			if (l[i]->count == 0)
				continue;
			list_join(l[i], lists[i], sizeof(lists[i]));
			opts[n].name = names[i];
			opts[n++].value = lists[i];
		}
	}
	opts[n].name = "decimal.handling.mode";
	opts[n++].value = cfg->decimal_mode;
	opts[n].name = "time.precision.mode";
	opts[n++].value = cfg->time_mode;
	opts[n].name = "binary.handling.mode";
	opts[n++].value = cfg->binary_mode;
	opts[n].name = "schemas.enable";
	opts[n++].value = cfg->schemas_enable ? "true" : "false";
	opts[n].name = "tombstones.on.delete";
	opts[n++].value = cfg->tombstones_on_delete ? "true" : "false";
	opts[n].name = "include.unknown.datatypes";
	opts[n++].value = cfg->include_unknown ? "true" : "false";
	opts[n].name = "skipped.operations";
	opts[n++].value = cfg->skipped_operations;
	opts[n].name = "provide.transaction.metadata";
	opts[n++].value = cfg->provide_tx_metadata ? "true" : "false";
	if (cfg->run_id && *cfg->run_id)
	{
		opts[n].name = "run.id";
		opts[n++].value = cfg->run_id;
	}

	out[0] = '\0';
	strncat(out, as_array ? "ARRAY[" : "(", outlen - 1);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			strncat(out, ", ", outlen - strlen(out) - 1);
		if (as_array)
		{
			/* ferry.snapshot_table() takes "name=value" elements */
			char		pair[8192];

			snprintf(pair, sizeof(pair), "%s=%s", opts[i].name, opts[i].value ? opts[i].value : "");
			append_literal(out, outlen, pair);
		}
		else
		{
			strncat(out, "\"", outlen - strlen(out) - 1);
			strncat(out, opts[i].name, outlen - strlen(out) - 1);
			strncat(out, "\" ", outlen - strlen(out) - 1);
			append_literal(out, outlen, opts[i].value ? opts[i].value : "");
		}
	}
	strncat(out, as_array ? "]::text[]" : ")", outlen - strlen(out) - 1);
}

/* ----------------------------------------------------------------
 * Feedback
 * ----------------------------------------------------------------
 */

/* send a Standby Status Update: write = received, flush = acknowledged */
static int
feedback_send(relay_t *r, bool reply)
{
	char		buf[1 + 8 + 8 + 8 + 8 + 1];
	relay_lsn_t flush = r->fl->acked_lsn;
	relay_lsn_t write = r->received_lsn > flush ? r->received_lsn : flush;

	buf[0] = 'r';
	put_u64(&buf[1], write);
	put_u64(&buf[9], flush);
	put_u64(&buf[17], 0);		/* apply: not meaningful for the relay */
	put_u64(&buf[25], (uint64_t) pg_now_us());
	buf[33] = reply ? 1 : 0;

	if (PQputCopyData(r->conn, buf, sizeof(buf)) <= 0 || PQflush(r->conn) != 0)
	{
		set_pg_error(r->errbuf, sizeof(r->errbuf), "could not send feedback packet", r->conn);
		return -1;
	}
	if (flush != r->reported_lsn)
		log_debug("confirmed flush up to %X/%X (write %X/%X)",
				  LSN_FORMAT_ARGS(flush), LSN_FORMAT_ARGS(write));
	r->reported_lsn = flush;
	r->last_status = relay_now_ms();
	return 0;
}

/*
 * Send feedback when the status interval is due, or soon after the
 * acknowledged position moved (so the slot releases WAL promptly).
 */
static int
feedback_maybe(relay_t *r, int64_t now)
{
	if (!r->conn || !r->streaming)
		return 0;
	if (now - r->last_status >= r->cfg->status_interval_ms ||
		(r->fl->acked_lsn != r->reported_lsn && now - r->last_status >= 1000))
		return feedback_send(r, false);
	return 0;
}

/* called by the producer while it waits for queue space */
static void
wait_cb(void *arg)
{
	relay_t    *r = arg;

	if (feedback_maybe(r, relay_now_ms()) < 0)
		log_warning("%s", r->errbuf);
}

/* ----------------------------------------------------------------
 * Periodic work: stats line, heartbeat, retained WAL check
 * ----------------------------------------------------------------
 */
static void
fmt_bytes(char *out, size_t outlen, double b)
{
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int			u = 0;

	while (b >= 1024 && u < 4)
	{
		b /= 1024;
		u++;
	}
	snprintf(out, outlen, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void
stats_log(relay_t *r, int64_t now)
{
	const relay_counters_t *c = relay_producer_counters(r->p);
	double		secs = (now - r->stats_time) / 1000.0;
	char		rate[32],
				lag[32];
	relay_lsn_t acked = r->fl->acked_lsn;

	if (secs <= 0)
		return;
	fmt_bytes(rate, sizeof(rate), (c->bytes - r->stats_bytes) / secs);
	fmt_bytes(lag, sizeof(lag), r->server_lsn > acked ? (double) (r->server_lsn - acked) : 0);
	log_info("stats: %.0f events/s, %s/s, %" PRIu64 " events total, %" PRIu64
			 " txns, in flight %" PRIu64 " txns/%" PRIu64 " records, received %X/%X, confirmed %X/%X, slot lag %s",
			 (c->events - r->stats_events) / secs, rate, c->events, r->txns,
			 relay_inflight_txns(r->fl), r->fl->outstanding,
			 LSN_FORMAT_ARGS(r->received_lsn), LSN_FORMAT_ARGS(acked), lag);
	r->stats_events = c->events;
	r->stats_bytes = c->bytes;
	r->stats_time = now;
}

static PGconn *
sql_conn(relay_t *r)
{
	if (r->sql && PQstatus(r->sql) != CONNECTION_OK)
	{
		PQfinish(r->sql);
		r->sql = NULL;
	}
	if (!r->sql)
	{
		char		err[512];

		r->sql = relay_pg_connect(r->cfg, false, err, sizeof(err));
		if (!r->sql)
			log_warning("%s", err);
	}
	return r->sql;
}

static void
walcheck(relay_t *r)
{
	PGconn	   *conn = sql_conn(r);
	PGresult   *res;
	const char *params[1] = {r->cfg->slot_name};

	if (!conn)
		return;
	res = PQexecParams(conn,
					   "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, wal_status "
					   "FROM pg_replication_slots WHERE slot_name = $1",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warning("could not query retained WAL of slot \"%s\": %s",
					r->cfg->slot_name, PQerrorMessage(conn));
	else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
	{
		long long	retained = atoll(PQgetvalue(res, 0, 0));
		char		size[32];

		fmt_bytes(size, sizeof(size), (double) retained);
		if (retained > r->cfg->wal_warn_bytes)
			log_warning("replication slot \"%s\" retains %s of WAL (wal_status %s)",
						r->cfg->slot_name, size, PQgetvalue(res, 0, 1));
		else
			log_debug("replication slot \"%s\" retains %s of WAL", r->cfg->slot_name, size);
	}
	PQclear(res);
}

static int
heartbeat(relay_t *r)
{
	if (r->cfg->heartbeat_query && *r->cfg->heartbeat_query)
	{
		PGconn	   *conn = sql_conn(r);

		if (conn)
		{
			PGresult   *res = PQexec(conn, r->cfg->heartbeat_query);

			if (PQresultStatus(res) != PGRES_COMMAND_OK &&
				PQresultStatus(res) != PGRES_TUPLES_OK)
				log_warning("could not run heartbeat.action.query: %s", PQerrorMessage(conn));
			PQclear(res);
		}
	}
	if (relay_producer_heartbeat(r->p, r->errbuf, sizeof(r->errbuf)) < 0)
		log_warning("%s", r->errbuf);
	return 0;
}

static void
periodic(relay_t *r, int64_t now)
{
	if (now >= r->next_stats)
	{
		stats_log(r, now);
		r->next_stats = now + r->cfg->stats_interval_ms;
	}
	if (r->cfg->heartbeat_interval_ms > 0 && now >= r->next_heartbeat)
	{
		heartbeat(r);
		r->next_heartbeat = now + r->cfg->heartbeat_interval_ms;
	}
	if (r->cfg->wal_check_interval_ms > 0 && now >= r->next_walcheck)
	{
		walcheck(r);
		r->next_walcheck = relay_now_ms() + r->cfg->wal_check_interval_ms;
	}
}

/* ----------------------------------------------------------------
 * The stream
 * ----------------------------------------------------------------
 */
static session_rc_t
handle_frame(relay_t *r, const char *data, size_t len, relay_lsn_t data_start)
{
	relay_frame_t f;
	int			rc;

	if (relay_frame_parse(data, len, &f, r->errbuf + 64, sizeof(r->errbuf) - 64) < 0)
	{
		int			n = snprintf(r->errbuf, 64, "could not parse frame at %X/%X: ",
								 LSN_FORMAT_ARGS(data_start));

		memmove(r->errbuf + n, r->errbuf + 64, strlen(r->errbuf + 64) + 1);
		return SESSION_FATAL;
	}
	switch (f.type)
	{
		case FERRY_FRAME_BEGIN:
			if (r->in_txn)
			{
				snprintf(r->errbuf, sizeof(r->errbuf),
						 "unexpected BEGIN of xid %u at %X/%X inside a transaction",
						 f.xid, LSN_FORMAT_ARGS(data_start));
				return SESSION_FATAL;
			}
			r->seq = relay_inflight_begin(r->fl, f.final_lsn);
			r->in_txn = true;
			break;
		case FERRY_FRAME_SCHEMA:
			if (relay_producer_schema(r->p, &r->schemas, &f, r->errbuf, sizeof(r->errbuf)) < 0)
				return SESSION_FATAL;
			break;
		case FERRY_FRAME_RECORD:
			if (r->in_txn)
				rc = relay_producer_record(r->p, &r->schemas, &f, r->seq,
										   r->errbuf, sizeof(r->errbuf));
			else
			{
				/* a non-transactional message: a transaction of its own */
				uint64_t	seq = relay_inflight_begin(r->fl, data_start);

				rc = relay_producer_record(r->p, &r->schemas, &f, seq,
										   r->errbuf, sizeof(r->errbuf));
				if (rc == 0)
					relay_inflight_commit(r->fl, seq, data_start);
			}
			if (rc < 0)
				return SESSION_FATAL;
			if (rc > 0)
				return SESSION_STOP;
			break;
		case FERRY_FRAME_COMMIT:
			if (!r->in_txn)
			{
				snprintf(r->errbuf, sizeof(r->errbuf),
						 "unexpected COMMIT of xid %u at %X/%X outside a transaction",
						 f.xid, LSN_FORMAT_ARGS(data_start));
				return SESSION_FATAL;
			}
			relay_inflight_commit(r->fl, r->seq, f.end_lsn);
			r->in_txn = false;
			r->txns++;
			break;
	}
	return SESSION_CONTINUE;
}

static int
start_replication(relay_t *r, char *errbuf, size_t errlen)
{
	char		opts[16384];
	char	   *cmd;
	size_t		cmdlen;
	PGresult   *res;
	char	   *slot = PQescapeIdentifier(r->conn, r->cfg->slot_name, strlen(r->cfg->slot_name));

	relay_plugin_options(r->cfg, false, opts, sizeof(opts));
	/*
	 * source.sequence[0] of the first transaction of the session: the end of
	 * the last transaction Kafka acknowledged (as Debezium restores it from
	 * its offset), or the slot's confirmed position after a restart.
	 */
	{
		relay_lsn_t last = r->fl->last_commit ? r->fl->last_commit : r->start_confirmed;

		if (last != 0)
			snprintf(opts + strlen(opts) - 1, sizeof(opts) - strlen(opts) + 1,
					 ", \"offset.lsn.commit\" '%X/%X')", LSN_FORMAT_ARGS(last));
	}
	cmdlen = strlen(opts) + strlen(slot) + 128;
	cmd = malloc(cmdlen);
	if (!cmd)
		log_fatal("out of memory");
	snprintf(cmd, cmdlen, "START_REPLICATION SLOT %s LOGICAL %X/%X %s",
			 slot, LSN_FORMAT_ARGS(r->fl->acked_lsn), opts);
	PQfreemem(slot);
	log_debug("%s", cmd);
	res = PQexec(r->conn, cmd);
	free(cmd);
	if (PQresultStatus(res) != PGRES_COPY_BOTH)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		snprintf(errbuf, errlen, "could not start replication from slot \"%s\": %s",
				 r->cfg->slot_name, PQresultErrorMessage(res));
		strip_nl(errbuf);
		PQclear(res);
		/* the slot was dropped under us (42704): retrying cannot help */
		return state && strcmp(state, "42704") == 0 ? -2 : -1;
	}
	PQclear(res);
	r->streaming = true;
	log_info("streaming from slot \"%s\" at %X/%X", r->cfg->slot_name,
			 LSN_FORMAT_ARGS(r->fl->acked_lsn));
	return 0;
}

/*
 * One replication session: read, produce, confirm, until a signal, a lost
 * connection or a fatal error.
 */
static session_rc_t
session_run(relay_t *r)
{
	char	   *copybuf = NULL;
	session_rc_t rc = SESSION_RECONNECT;
	int64_t		recv_timeout = r->cfg->replication_timeout_ms;
	bool		pinged = false;

	uint32_t	turn = 0;

	r->in_txn = false;
	r->last_status = 0;
	r->last_recv = relay_now_ms();
	relay_schemas_reset(&r->schemas);

	for (;;)
	{
		int64_t		now;
		int			n;

		if (copybuf)
		{
			PQfreemem(copybuf);
			copybuf = NULL;
		}
		if (relay_stop_requested)
		{
			rc = SESSION_STOP;
			goto done;
		}
		if (relay_producer_failed(r->p, r->errbuf, sizeof(r->errbuf)))
		{
			rc = SESSION_FATAL;
			goto done;
		}

		now = relay_now_ms();
		/* serve delivery reports every 64 messages, and whenever the socket is idle */
		if ((++turn & 63) == 0)
			relay_producer_poll(r->p, 0);
		if (feedback_maybe(r, now) < 0)
		{
			log_warning("%s", r->errbuf);
			goto done;
		}
		periodic(r, now);

		n = PQgetCopyData(r->conn, &copybuf, 1);
		if (n == 0)
		{
			relay_producer_poll(r->p, 0);
			fd_set		rfds;
			struct timeval tv;
			int64_t		wait = 1000;
			int64_t		t;
			int			sock = PQsocket(r->conn);
			int			evfd = relay_producer_fd(r->p);

			t = r->last_status + r->cfg->status_interval_ms - now;
			if (t < wait)
				wait = t;
			if (r->fl->acked_lsn != r->reported_lsn)
			{
				t = r->last_status + 1000 - now;
				if (t < wait)
					wait = t;
			}
			if (wait < 0)
				wait = 0;

			/* an idle server sends nothing: ask it for a keepalive before giving up */
			if (!pinged && now - r->last_recv > recv_timeout / 2)
			{
				if (feedback_send(r, true) < 0)
				{
					log_warning("%s", r->errbuf);
					goto done;
				}
				pinged = true;
			}
			if (now - r->last_recv > recv_timeout)
			{
				snprintf(r->errbuf, sizeof(r->errbuf),
						 "no message from the server for %lld ms", (long long) recv_timeout);
				log_warning("%s: reconnecting", r->errbuf);
				goto done;
			}

			FD_ZERO(&rfds);
			FD_SET(sock, &rfds);
			FD_SET(evfd, &rfds);
			tv.tv_sec = wait / 1000;
			tv.tv_usec = (wait % 1000) * 1000;
			if (select((sock > evfd ? sock : evfd) + 1, &rfds, NULL, NULL, &tv) < 0)
			{
				if (errno == EINTR)
					continue;
				log_fatal("select() failed: %s", strerror(errno));
			}
			if (FD_ISSET(sock, &rfds) && PQconsumeInput(r->conn) == 0)
			{
				set_pg_error(r->errbuf, sizeof(r->errbuf), "could not receive data from WAL stream", r->conn);
				log_warning("%s", r->errbuf);
				goto done;
			}
			continue;
		}
		if (n == -1)
		{
			PGresult   *res = PQgetResult(r->conn);

			if (PQresultStatus(res) != PGRES_COMMAND_OK)
				snprintf(r->errbuf, sizeof(r->errbuf), "unexpected termination of replication stream: %s",
						 PQresultErrorMessage(res));
			else
				snprintf(r->errbuf, sizeof(r->errbuf), "replication stream was terminated by the server");
			strip_nl(r->errbuf);
			PQclear(res);
			log_warning("%s", r->errbuf);
			goto done;
		}
		if (n == -2)
		{
			set_pg_error(r->errbuf, sizeof(r->errbuf), "could not read COPY data", r->conn);
			log_warning("%s", r->errbuf);
			goto done;
		}

		r->last_recv = now;
		pinged = false;
		if (copybuf[0] == 'k')
		{
			relay_lsn_t wal_end;
			bool		reply;

			if (n < 1 + 8 + 8 + 1)
			{
				snprintf(r->errbuf, sizeof(r->errbuf), "streaming header too small: %d", n);
				rc = SESSION_FATAL;
				goto done;
			}
			wal_end = get_u64(&copybuf[1]);
			reply = copybuf[17] != 0;
			if (wal_end > r->server_lsn)
				r->server_lsn = wal_end;
			if (!r->in_txn)
				relay_inflight_advance_idle(r->fl, wal_end);
			if (reply && feedback_send(r, false) < 0)
			{
				log_warning("%s", r->errbuf);
				goto done;
			}
		}
		else if (copybuf[0] == 'w')
		{
			relay_lsn_t data_start,
						wal_end;
			session_rc_t frc;
			const int	hdr = 1 + 8 + 8 + 8;

			if (n < hdr + 1)
			{
				snprintf(r->errbuf, sizeof(r->errbuf), "streaming header too small: %d", n);
				rc = SESSION_FATAL;
				goto done;
			}
			data_start = get_u64(&copybuf[1]);
			wal_end = get_u64(&copybuf[9]);
			if (wal_end > r->server_lsn)
				r->server_lsn = wal_end;
			if (data_start > r->received_lsn)
				r->received_lsn = data_start;
			frc = handle_frame(r, copybuf + hdr, (size_t) (n - hdr), data_start);
			if (frc != SESSION_CONTINUE)
			{
				rc = frc;
				goto done;
			}
		}
		else
		{
			snprintf(r->errbuf, sizeof(r->errbuf), "unrecognized streaming header: \"%c\"", copybuf[0]);
			rc = SESSION_FATAL;
			goto done;
		}
	}

done:
	if (copybuf)
		PQfreemem(copybuf);
	return rc;
}

/* end the COPY cleanly after the final feedback (pg_recvlogical's prepareToTerminate) */
static void
session_close(relay_t *r)
{
	if (!r->conn)
		return;
	if (r->streaming && PQstatus(r->conn) == CONNECTION_OK)
	{
		PGresult   *res;
		char	   *buf;

		if (PQputCopyEnd(r->conn, NULL) > 0 && PQflush(r->conn) == 0)
		{
			/* drain synchronously so a late ErrorResponse is not missed */
			while (PQgetCopyData(r->conn, &buf, 0) > 0)
				PQfreemem(buf);
			while ((res = PQgetResult(r->conn)) != NULL)
				PQclear(res);
		}
	}
	PQfinish(r->conn);
	r->conn = NULL;
	r->streaming = false;
}

/* sleep up to ms, serving Kafka events; false if a stop was requested */
static bool
backoff_sleep(relay_t *r, int64_t ms)
{
	int64_t		until = relay_now_ms() + ms;

	while (relay_now_ms() < until)
	{
		if (relay_stop_requested)
			return false;
		relay_producer_poll(r->p, 100);
	}
	return !relay_stop_requested;
}

/* ----------------------------------------------------------------
 * Slot management and the whole run
 * ----------------------------------------------------------------
 */
typedef struct slot_info
{
	bool		exists;
	char		plugin[64];
	int			active_pid;		/* 0 if inactive */
	relay_lsn_t confirmed;
	char		database[128];
} slot_info_t;

static int
slot_query(PGconn *conn, const char *name, slot_info_t *si, char *errbuf, size_t errlen)
{
	const char *params[1] = {name};
	PGresult   *res;

	memset(si, 0, sizeof(*si));
	res = PQexecParams(conn,
					   "SELECT plugin, COALESCE(active_pid, 0), confirmed_flush_lsn, database, slot_type "
					   "FROM pg_replication_slots WHERE slot_name = $1",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		set_pg_error(errbuf, errlen, "could not query pg_replication_slots", conn);
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 1)
	{
		si->exists = true;
		snprintf(si->plugin, sizeof(si->plugin), "%s", PQgetvalue(res, 0, 0));
		si->active_pid = atoi(PQgetvalue(res, 0, 1));
		if (!PQgetisnull(res, 0, 2))
			lsn_parse(PQgetvalue(res, 0, 2), &si->confirmed);
		snprintf(si->database, sizeof(si->database), "%s", PQgetvalue(res, 0, 3));
		if (strcmp(PQgetvalue(res, 0, 4), "logical") != 0)
		{
			snprintf(errbuf, errlen, "replication slot \"%s\" is a physical slot", name);
			PQclear(res);
			return -1;
		}
	}
	PQclear(res);
	return 0;
}

/*
 * Check the slot before streaming: right plugin, right database, and not
 * held by another process.  A slot still held by our own previous
 * incarnation (killed a moment ago) is released by the server shortly, so
 * wait up to slot.wait.ms before refusing.
 */
static int
slot_check(PGconn *conn, const relay_config_t *cfg, slot_info_t *si,
		   char *errbuf, size_t errlen)
{
	int64_t		deadline = relay_now_ms() + cfg->slot_wait_ms;
	PGresult   *res;

	res = PQexec(conn, "SELECT current_setting('wal_level'), current_database(), "
				 "current_setting('server_version_num')::int");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		set_pg_error(errbuf, errlen, "could not query server settings", conn);
		PQclear(res);
		return -1;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "logical") != 0)
	{
		snprintf(errbuf, errlen, "wal_level is \"%s\" on the server: logical decoding needs wal_level = logical",
				 PQgetvalue(res, 0, 0));
		PQclear(res);
		return -1;
	}
	if (atoi(PQgetvalue(res, 0, 2)) < 150000)
	{
		snprintf(errbuf, errlen, "PostgreSQL %s is not supported: ferry needs 15 or later",
				 PQgetvalue(res, 0, 2));
		PQclear(res);
		return -1;
	}
	{
		char		db[128];

		snprintf(db, sizeof(db), "%s", PQgetvalue(res, 0, 1));
		PQclear(res);
		for (;;)
		{
			if (slot_query(conn, cfg->slot_name, si, errbuf, errlen) < 0)
				return -1;
			if (!si->exists)
				return 0;
			if (strcmp(si->plugin, "ferry") != 0)
			{
				snprintf(errbuf, errlen, "replication slot \"%s\" uses output plugin \"%s\", not \"ferry\"",
						 cfg->slot_name, si->plugin);
				return -1;
			}
			if (strcmp(si->database, db) != 0)
			{
				snprintf(errbuf, errlen, "replication slot \"%s\" belongs to database \"%s\", not \"%s\"",
						 cfg->slot_name, si->database, db);
				return -1;
			}
			if (si->active_pid == 0)
				return 0;
			if (relay_now_ms() >= deadline || relay_stop_requested)
			{
				snprintf(errbuf, errlen, "replication slot \"%s\" is active for PID %d: another process is reading it",
						 cfg->slot_name, si->active_pid);
				return -1;
			}
			usleep(200 * 1000);
		}
	}
}

/* run a snapshot inside the transaction open on conn */
static int
snapshot(relay_t *r, PGconn *conn, relay_lsn_t lsn)
{
	relay_snapshot_stats_t st = {0};
	int64_t		t0 = relay_now_ms();
	int			rc;

	rc = relay_snapshot_run(conn, r->cfg, r->p, r->fl, lsn, &st, r->errbuf, sizeof(r->errbuf));
	if (rc != 0)
		return rc;
	/* every snapshot record must be in Kafka before streaming confirms anything */
	rc = relay_producer_drain(r->p, -1, true, r->errbuf, sizeof(r->errbuf));
	if (rc != 0)
		return rc;
	r->fl->last_commit = 0;		/* the snapshot is no transaction of the stream */
	log_info("snapshot done: %" PRIu64 " rows of %" PRIu64 " tables in %.1f s, all delivered",
			 st.rows, st.tables, (relay_now_ms() - t0) / 1000.0);
	return 0;
}

/* run a command that returns no rows; -1 with "could not run ..." in errbuf */
int
relay_pg_exec(PGconn *conn, const char *sql, char *errbuf, size_t errlen)
{
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		snprintf(errbuf, errlen, "could not run \"%s\": %s", sql, PQresultErrorMessage(res));
		strip_nl(errbuf);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* snapshot in a fresh REPEATABLE READ transaction (initial_only, always) */
static int
snapshot_plain(relay_t *r)
{
	int			rc;

	if (relay_pg_exec(r->sql, "BEGIN ISOLATION LEVEL REPEATABLE READ",
				r->errbuf, sizeof(r->errbuf)) < 0)
		return -1;
	rc = snapshot(r, r->sql, r->fl->acked_lsn);
	if (rc == 0 && relay_pg_exec(r->sql, "COMMIT", r->errbuf, sizeof(r->errbuf)) < 0)
		return -1;
	if (rc != 0)
	{
		PGresult   *res = PQexec(r->sql, "ROLLBACK");

		PQclear(res);
	}
	return rc;
}

/*
 * Create the slot on the replication connection.
 *
 * With a snapshot, the slot is made crash-safe in two steps: a TEMPORARY
 * slot exports the snapshot (it vanishes if the relay dies during the
 * snapshot, so the next start simply takes the snapshot again), the tables
 * are read on r->sql inside that snapshot while the replication connection
 * stays idle, and only once every snapshot record is acknowledged by Kafka
 * is the temporary slot copied to the permanent one with
 * pg_copy_logical_replication_slot(), which keeps its consistent point.
 * So the permanent slot exists if and only if the snapshot is complete,
 * and streaming starts exactly at the snapshot's consistent point.
 */
static int
slot_create(relay_t *r, bool export)
{
	char		cmd[512];
	char		tmpname[64];
	PGresult   *res;
	char	   *slot;
	relay_lsn_t consistent = 0;
	char		snapname[128] = "";
	int			rc;

	snprintf(tmpname, sizeof(tmpname), "ferry_snapshot_%d", (int) getpid());
	slot = PQescapeIdentifier(r->conn, export ? tmpname : r->cfg->slot_name,
							  strlen(export ? tmpname : r->cfg->slot_name));
	snprintf(cmd, sizeof(cmd), "CREATE_REPLICATION_SLOT %s %sLOGICAL ferry (SNAPSHOT '%s')",
			 slot, export ? "TEMPORARY " : "", export ? "export" : "nothing");
	PQfreemem(slot);
	res = PQexec(r->conn, cmd);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		snprintf(r->errbuf, sizeof(r->errbuf), "could not create replication slot \"%s\": %s",
				 export ? tmpname : r->cfg->slot_name, PQresultErrorMessage(res));
		strip_nl(r->errbuf);
		PQclear(res);
		return -1;
	}
	lsn_parse(PQgetvalue(res, 0, 1), &consistent);
	if (!PQgetisnull(res, 0, 2))
		snprintf(snapname, sizeof(snapname), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	r->fl->acked_lsn = consistent;
	r->reported_lsn = consistent;
	if (!export)
	{
		log_info("created replication slot \"%s\" with plugin \"ferry\", consistent point %X/%X",
				 r->cfg->slot_name, LSN_FORMAT_ARGS(consistent));
		return 0;
	}
	log_info("created temporary replication slot \"%s\", consistent point %X/%X, snapshot %s",
			 tmpname, LSN_FORMAT_ARGS(consistent), snapname);

	if (relay_pg_exec(r->sql, "BEGIN ISOLATION LEVEL REPEATABLE READ",
				r->errbuf, sizeof(r->errbuf)) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "SET TRANSACTION SNAPSHOT '%s'", snapname);
	if (relay_pg_exec(r->sql, cmd, r->errbuf, sizeof(r->errbuf)) < 0)
		return -1;
	rc = snapshot(r, r->sql, consistent);
	if (rc == 0 && relay_pg_exec(r->sql, "COMMIT", r->errbuf, sizeof(r->errbuf)) < 0)
		rc = -1;
	if (rc != 0)
	{
		res = PQexec(r->sql, "ROLLBACK");
		PQclear(res);
		log_warning("the initial snapshot did not complete: replication slot \"%s\" was not created, "
					"so the next start takes the snapshot again", r->cfg->slot_name);
		return rc;
	}

	/* the snapshot is in Kafka: make the slot permanent */
	{
		const char *params[2] = {tmpname, r->cfg->slot_name};

		res = PQexecParams(r->sql, "SELECT pg_copy_logical_replication_slot($1, $2, false)",
						   2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			snprintf(r->errbuf, sizeof(r->errbuf), "could not create replication slot \"%s\": %s",
					 r->cfg->slot_name, PQresultErrorMessage(res));
			strip_nl(r->errbuf);
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	slot = PQescapeIdentifier(r->conn, tmpname, strlen(tmpname));
	snprintf(cmd, sizeof(cmd), "DROP_REPLICATION_SLOT %s", slot);
	PQfreemem(slot);
	res = PQexec(r->conn, cmd);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		log_warning("could not drop temporary replication slot \"%s\": %s", tmpname,
					PQresultErrorMessage(res));
	PQclear(res);
	log_info("created replication slot \"%s\" with plugin \"ferry\", consistent point %X/%X",
			 r->cfg->slot_name, LSN_FORMAT_ARGS(consistent));
	return 0;
}

/* sleep before reconnecting; doubles up to reconnect.backoff.max.ms */
static int64_t
next_backoff(const relay_config_t *cfg, int64_t cur)
{
	int64_t		n = cur * 2;

	return n > cfg->reconnect_max_ms ? cfg->reconnect_max_ms : n;
}

/* after a lost connection: deliver what was produced, drop the open txn */
static int
session_reset(relay_t *r)
{
	int			rc = relay_producer_drain(r->p, -1, true, r->errbuf, sizeof(r->errbuf));

	if (rc != 0)
		return rc;
	relay_inflight_discard_open(r->fl);
	r->in_txn = false;
	return 0;
}

static int
shutdown_clean(relay_t *r)
{
	int			rc;

	log_info("stopping: delivering %" PRIu64 " outstanding records", r->fl->outstanding);
	stats_log(r, relay_now_ms());
	rc = relay_producer_drain(r->p, r->cfg->shutdown_timeout_ms, false, r->errbuf, sizeof(r->errbuf));
	if (rc != 0)
		log_warning("%s; they will be sent again after a restart", r->errbuf);
	if (r->conn && r->streaming && feedback_send(r, false) < 0)
		log_warning("%s", r->errbuf);
	session_close(r);
	log_info("stopped; confirmed flush position %X/%X", LSN_FORMAT_ARGS(r->fl->acked_lsn));
	return RELAY_EXIT_OK;
}

static int
fail(relay_t *r)
{
	log_error("%s", r->errbuf);
	/* confirm what was delivered, never past a failure */
	if (r->conn && r->streaming && PQstatus(r->conn) == CONNECTION_OK)
	{
		relay_producer_poll(r->p, 0);
		(void) feedback_send(r, false);
	}
	session_close(r);
	log_info("confirmed flush position %X/%X", LSN_FORMAT_ARGS(r->fl->acked_lsn));
	return RELAY_EXIT_ERROR;
}

static int
stream_run(relay_t *r, const relay_config_t *cfg, relay_producer_t *p, relay_inflight_t *fl)
{
	slot_info_t si;
	int64_t		backoff = cfg->reconnect_min_ms;
	bool		first = true;

	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->p = p;
	r->fl = fl;
	relay_schemas_init(&r->schemas);
	relay_producer_set_wait_cb(p, wait_cb, r);
	r->stats_time = relay_now_ms();
	r->next_stats = r->stats_time + cfg->stats_interval_ms;
	r->next_heartbeat = r->stats_time + cfg->heartbeat_interval_ms;
	r->next_walcheck = r->stats_time + (cfg->wal_check_interval_ms < 5000 ? cfg->wal_check_interval_ms : 5000);

	r->sql = relay_pg_connect(cfg, false, r->errbuf, sizeof(r->errbuf));
	if (!r->sql)
		return fail(r);
	if (slot_check(r->sql, cfg, &si, r->errbuf, sizeof(r->errbuf)) < 0)
		return fail(r);
	if (relay_tables_check(r->sql, cfg, r->errbuf, sizeof(r->errbuf)) < 0)
		return fail(r);

	if (strcmp(cfg->snapshot_mode, "initial_only") == 0)
	{
		int			rc;

		rc = snapshot_plain(r);
		if (rc < 0)
			return fail(r);
		PQfinish(r->sql);
		r->sql = NULL;
		return RELAY_EXIT_OK;
	}

	if (!si.exists)
	{
		bool		export = strcmp(cfg->snapshot_mode, "never") != 0;
		int			rc;

		r->conn = relay_pg_connect(cfg, true, r->errbuf, sizeof(r->errbuf));
		if (!r->conn)
			return fail(r);
		rc = slot_create(r, export);
		if (rc < 0)
			return fail(r);
		if (rc > 0)
			return shutdown_clean(r);
	}
	else
	{
		r->fl->acked_lsn = si.confirmed;
		r->reported_lsn = si.confirmed;
		r->start_confirmed = si.confirmed;
		log_info("replication slot \"%s\" exists, confirmed flush position %X/%X",
				 cfg->slot_name, LSN_FORMAT_ARGS(si.confirmed));
		if (strcmp(cfg->snapshot_mode, "always") == 0)
		{
			int			rc = snapshot_plain(r);

			if (rc < 0)
				return fail(r);
			if (rc > 0)
				return shutdown_clean(r);
		}
	}

	for (;;)
	{
		session_rc_t rc;
		int			rc_start;

		if (relay_stop_requested)
			return shutdown_clean(r);
		if (!r->conn)
		{
			r->conn = relay_pg_connect(cfg, true, r->errbuf, sizeof(r->errbuf));
			if (!r->conn)
			{
				if (first)
					return fail(r);
				log_warning("%s; retrying in %lld ms", r->errbuf, (long long) backoff);
				if (!backoff_sleep(r, backoff))
					return shutdown_clean(r);
				backoff = next_backoff(cfg, backoff);
				continue;
			}
		}
		rc_start = start_replication(r, r->errbuf, sizeof(r->errbuf));
		if (rc_start < 0)
		{
			if (first || rc_start == -2)
				return fail(r);
			log_warning("%s; retrying in %lld ms", r->errbuf, (long long) backoff);
			PQfinish(r->conn);
			r->conn = NULL;
			if (!backoff_sleep(r, backoff))
				return shutdown_clean(r);
			backoff = next_backoff(cfg, backoff);
			continue;
		}
		first = false;
		backoff = cfg->reconnect_min_ms;

		rc = session_run(r);
		if (rc == SESSION_STOP)
			return shutdown_clean(r);
		if (rc == SESSION_FATAL)
			return fail(r);

		/* connection lost */
		PQfinish(r->conn);
		r->conn = NULL;
		r->streaming = false;
		{
			int			drc = session_reset(r);

			if (drc < 0)
				return fail(r);
			if (drc > 0)
				return shutdown_clean(r);
		}
		log_info("reconnecting in %lld ms, resuming at %X/%X", (long long) backoff,
				 LSN_FORMAT_ARGS(r->fl->acked_lsn));
		if (!backoff_sleep(r, backoff))
			return shutdown_clean(r);
		backoff = next_backoff(cfg, backoff);
	}
}

int
relay_stream_main(const relay_config_t *cfg, relay_producer_t *p, relay_inflight_t *fl)
{
	relay_t		rs;
	int			rc;

	rc = stream_run(&rs, cfg, p, fl);
	/* what stream_run leaves open on every way out: the SQL connection, the schema cache */
	relay_producer_set_wait_cb(p, NULL, NULL);
	if (rs.sql)
		PQfinish(rs.sql);
	rs.sql = NULL;
	relay_schemas_free(&rs.schemas);
	return rc;
}
