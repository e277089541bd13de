/*-------------------------------------------------------------------------
 *
 * relay.h
 *	  Types shared by the modules of ferry-relay.
 *
 * ferry-relay reads the `ferry` plugin's binary frames (docs/wire-format.md)
 * from a logical replication slot and produces each record to Kafka.  The
 * modules are:
 *	  main.c	  arguments, configuration, signals, start-up checks
 *	  frame.c	  in-place parser of the plugin's frames
 *	  inflight.c  FIFO of transactions awaiting delivery reports
 *	  schemas.c   schema-id cache (per decoding session)
 *	  producer.c  librdkafka producer, topic handles, delivery reports
 *	  stream.c	  replication connection, slot, CopyBoth loop, feedback
 *	  snapshot.c  initial snapshot through ferry.snapshot_table()
 *
 * Everything runs on the main thread; librdkafka callbacks are served from
 * rd_kafka_poll() on that thread too.
 *
 * IDENTIFICATION
 *	  relay/relay.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FERRY_RELAY_H
#define FERRY_RELAY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

#define RELAY_VERSION		"0.1.0"

/* exit codes, documented in --help */
#define RELAY_EXIT_OK		0	/* stopped by a signal, or a one-shot mode done */
#define RELAY_EXIT_ERROR	1	/* runtime error: connection, delivery, slot */
#define RELAY_EXIT_CONFIG	2	/* configuration or usage error */

typedef uint64_t relay_lsn_t;

/* ----------------------------------------------------------------
 * Configuration (filled by cfg_load from the table in main.c)
 * ----------------------------------------------------------------
 */
typedef struct relay_config
{
	/* postgres: */
	char	   *pg_conninfo;
	char	   *pg_password;

	/* kafka: (verbatim librdkafka properties) */
	cfg_map_t	kafka;

	/* relay: */
	char	   *slot_name;
	char	   *snapshot_mode;
	char	   *topic_prefix;
	cfg_list_t	schema_include;
	cfg_list_t	schema_exclude;
	cfg_list_t	table_include;
	cfg_list_t	table_exclude;
	cfg_list_t	column_exclude;
	char	   *decimal_mode;
	char	   *time_mode;
	char	   *binary_mode;
	bool		schemas_enable;
	bool		tombstones_on_delete;
	bool		include_unknown;
	char	   *skipped_operations;
	bool		provide_tx_metadata;
	char	   *run_id;
	bool		topic_create;
	int64_t		topic_partitions;
	int64_t		topic_replication;
	int64_t		heartbeat_interval_ms;
	char	   *heartbeat_prefix;
	char	   *heartbeat_query;
	int64_t		status_interval_ms;
	int64_t		stats_interval_ms;
	int64_t		wal_warn_bytes;
	int64_t		wal_check_interval_ms;
	int64_t		reconnect_min_ms;
	int64_t		reconnect_max_ms;
	int64_t		slot_wait_ms;
	int64_t		replication_timeout_ms;
	int64_t		kafka_timeout_ms;
	int64_t		shutdown_timeout_ms;
	int64_t		snapshot_fetch;
	char	   *log_level;
} relay_config_t;

extern const cfg_option_t relay_config_options[];

/* ----------------------------------------------------------------
 * Signals (main.c)
 * ----------------------------------------------------------------
 */
extern volatile sig_atomic_t relay_stop_requested;

/* monotonic milliseconds */
int64_t		relay_now_ms(void);

/* ----------------------------------------------------------------
 * Frames (frame.c)
 * ----------------------------------------------------------------
 */

/* a slice of the frame buffer; data is NULL (and isnull set) for SQL NULL */
typedef struct relay_str
{
	const char *data;
	uint32_t	len;
	bool		isnull;
} relay_str_t;

typedef struct relay_frame
{
	char		type;			/* FERRY_FRAME_* */
	uint32_t	xid;			/* B, C */
	uint64_t	final_lsn;		/* B: commit LSN; C: commit_lsn */
	uint64_t	end_lsn;		/* C */
	int64_t		commit_time;	/* B, C */
	uint32_t	schema_id;		/* S, R */
	relay_str_t topic;			/* S; R with schema_id 0 */
	relay_str_t key_schema;		/* S */
	relay_str_t value_schema;	/* S */
	relay_str_t key;			/* R */
	relay_str_t value;			/* R */
	uint16_t	n_headers;		/* R */
	const char *headers;		/* R: start of the header list (validated) */
} relay_frame_t;

/*
 * Parse one frame in place: the slices point into buf, which must outlive
 * the frame.  Returns 0, or -1 with a message in errbuf.
 */
int			relay_frame_parse(const char *buf, size_t len, relay_frame_t *frame,
							  char *errbuf, size_t errlen);

/*
 * Iterate over the headers of an 'R' frame: *cursor starts at
 * frame->headers and is advanced; call exactly frame->n_headers times.
 */
void		relay_frame_header_next(const char **cursor, relay_str_t *name,
									relay_str_t *value);

/* ----------------------------------------------------------------
 * In-flight tracking (inflight.c)
 *
 * A FIFO of transactions, each with the number of records still awaiting
 * a delivery report.  The confirmed LSN is the end LSN of the newest
 * committed transaction whose records, and those of every transaction
 * before it, have all been acknowledged.
 * ----------------------------------------------------------------
 */
typedef struct relay_txn
{
	relay_lsn_t commit_lsn;
	relay_lsn_t end_lsn;
	uint64_t	outstanding;	/* produced, no delivery report yet */
	uint64_t	produced;
	bool		committed;
	bool		failed;
} relay_txn_t;

typedef struct relay_inflight
{
	relay_txn_t *ring;
	uint64_t	cap;			/* power of two */
	uint64_t	head;			/* seq of the oldest entry */
	uint64_t	tail;			/* seq of the next entry */
	bool		open;			/* tail - 1 is an open (uncommitted) txn */
	bool		failed;			/* some delivery failed: never advance past */
	relay_lsn_t acked_lsn;		/* safe to report as flushed */
	relay_lsn_t last_commit;	/* end LSN of the newest acknowledged transaction (0: none) */
	uint64_t	outstanding;	/* records awaiting reports, all txns */
} relay_inflight_t;

void		relay_inflight_init(relay_inflight_t *fl, relay_lsn_t start);
void		relay_inflight_free(relay_inflight_t *fl);
uint64_t	relay_inflight_begin(relay_inflight_t *fl, relay_lsn_t commit_lsn);
void		relay_inflight_add(relay_inflight_t *fl, uint64_t seq);
void		relay_inflight_commit(relay_inflight_t *fl, uint64_t seq,
								  relay_lsn_t end_lsn);
void		relay_inflight_ack(relay_inflight_t *fl, uint64_t seq, bool ok);
bool		relay_inflight_idle(const relay_inflight_t *fl);
void		relay_inflight_discard_open(relay_inflight_t *fl);
void		relay_inflight_advance_idle(relay_inflight_t *fl, relay_lsn_t lsn);
uint64_t	relay_inflight_txns(const relay_inflight_t *fl);

/* ----------------------------------------------------------------
 * Schema cache (schemas.c): schema_id -> topic + key/value schema
 * ----------------------------------------------------------------
 */
struct relay_topic;

typedef struct relay_schema
{
	uint32_t	id;				/* 0 = empty slot */
	struct relay_topic *topic;
	char	   *key_schema;		/* NULL: payload written as is */
	size_t		key_schema_len;
	char	   *value_schema;
	size_t		value_schema_len;
} relay_schema_t;

typedef struct relay_schemas
{
	relay_schema_t *slots;
	uint32_t	cap;			/* power of two */
	uint32_t	count;
} relay_schemas_t;

void		relay_schemas_init(relay_schemas_t *sc);
void		relay_schemas_reset(relay_schemas_t *sc);
void		relay_schemas_free(relay_schemas_t *sc);
relay_schema_t *relay_schemas_get(const relay_schemas_t *sc, uint32_t id);
relay_schema_t *relay_schemas_put(relay_schemas_t *sc, uint32_t id);

/* ----------------------------------------------------------------
 * Producer (producer.c)
 * ----------------------------------------------------------------
 */
typedef struct relay_producer relay_producer_t;

/* called while the producer waits for queue space (backpressure) */
typedef void (*relay_wait_cb) (void *arg);

relay_producer_t *relay_producer_new(const relay_config_t *cfg,
									 const char *cfg_file,
									 relay_inflight_t *fl,
									 char *errbuf, size_t errlen);
void		relay_producer_free(relay_producer_t *p);
void		relay_producer_set_wait_cb(relay_producer_t *p, relay_wait_cb cb,
									   void *arg);
int			relay_producer_check(relay_producer_t *p, int timeout_ms,
								 char *errbuf, size_t errlen);

/* the file descriptor that becomes readable when librdkafka has events */
int			relay_producer_fd(relay_producer_t *p);
void		relay_producer_poll(relay_producer_t *p, int timeout_ms);

/* apply an 'S' frame to sc (creates the topic if needed) */
int			relay_producer_schema(relay_producer_t *p, relay_schemas_t *sc,
								  const relay_frame_t *f,
								  char *errbuf, size_t errlen);

/*
 * Produce an 'R' frame as part of in-flight txn `seq`.  Returns 0, -1 on
 * error, 1 if a stop was requested while waiting for queue space (the
 * record was not produced).
 */
int			relay_producer_record(relay_producer_t *p, relay_schemas_t *sc,
								  const relay_frame_t *f, uint64_t seq,
								  char *errbuf, size_t errlen);
int			relay_producer_heartbeat(relay_producer_t *p,
									 char *errbuf, size_t errlen);

/* wait until nothing is in flight; 0 ok, -1 failure/timeout, 1 stopped */
int			relay_producer_drain(relay_producer_t *p, int64_t timeout_ms,
								 bool interruptible,
								 char *errbuf, size_t errlen);

/* true once a delivery failed for good or librdkafka raised a fatal error */
bool		relay_producer_failed(relay_producer_t *p, char *errbuf, size_t errlen);

typedef struct relay_counters
{
	uint64_t	events;			/* records produced */
	uint64_t	bytes;			/* key + value bytes produced */
	uint64_t	delivered;
} relay_counters_t;

const relay_counters_t *relay_producer_counters(relay_producer_t *p);

/* ----------------------------------------------------------------
 * Postgres side (stream.c, snapshot.c)
 * ----------------------------------------------------------------
 */
typedef struct relay relay_t;

struct pg_conn;

struct pg_conn *relay_pg_connect(const relay_config_t *cfg, bool replication,
								 char *errbuf, size_t errlen);

/* run a command that returns no rows; -1 with "could not run ..." in errbuf */
int			relay_pg_exec(struct pg_conn *conn, const char *sql, char *errbuf, size_t errlen);

/* append the plugin options as SQL text: ("k" 'v', ...) or ARRAY['k','v'] */
void		relay_plugin_options(const relay_config_t *cfg, bool as_array,
								 char *out, size_t outlen);

typedef struct relay_snapshot_stats
{
	uint64_t	tables;
	uint64_t	rows;
} relay_snapshot_stats_t;

/*
 * Read every captured table inside the transaction open on conn (already
 * in the right snapshot) and produce its rows.  Returns 0, -1, or 1 when
 * stopped by a signal.
 */
int			relay_snapshot_run(struct pg_conn *conn, const relay_config_t *cfg,
							   relay_producer_t *p, relay_inflight_t *fl,
							   relay_lsn_t lsn, relay_snapshot_stats_t *st,
							   char *errbuf, size_t errlen);

/* list captured tables (for the snapshot and warnings) */
typedef struct relay_table
{
	char	   *schema;
	char	   *name;
	char	   *qualified;		/* quoted, for ::regclass */
	bool		has_pk;
	char		replident;
} relay_table_t;

int			relay_tables_list(struct pg_conn *conn, const relay_config_t *cfg,
							  relay_table_t **tables, int *ntables,
							  char *errbuf, size_t errlen);
void		relay_tables_free(relay_table_t *tables, int ntables);
int			relay_tables_check(struct pg_conn *conn, const relay_config_t *cfg,
							   char *errbuf, size_t errlen);

/* the whole run: slot, snapshot, streaming, reconnects; returns exit code */
int			relay_stream_main(const relay_config_t *cfg, relay_producer_t *p,
							  relay_inflight_t *fl);

/* small growable byte buffer */
typedef struct relay_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} relay_buf_t;

void		relay_buf_reserve(relay_buf_t *b, size_t extra);
void		relay_buf_append(relay_buf_t *b, const void *data, size_t len);
void		relay_buf_free(relay_buf_t *b);

#endif							/* FERRY_RELAY_H */
