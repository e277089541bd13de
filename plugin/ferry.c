/*-------------------------------------------------------------------------
 *
 * ferry.c
 *	  The ferry logical decoding output plugin: emits, per row change,
 *	  the Kafka record Debezium's PostgreSQL connector (3.6.1, pgoutput,
 *	  JsonConverter) would write, framed as docs/wire-format.md says.
 *
 * Output is written per record (never buffered per transaction).  Stream
 * callbacks for in-progress transactions are deliberately not registered:
 * large transactions spill to disk and are decoded at commit, which is
 * also when Debezium sees them through pgoutput without streaming.
 *
 * IDENTIFICATION
 *	  plugin/ferry.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_namespace.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "replication/logical.h"
#include "replication/origin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/rel.h"

#include "ferry.h"
#include "relcache.h"
#include "../common/wire.h"

PG_MODULE_MAGIC;

extern PGDLLEXPORT void _PG_output_plugin_init(OutputPluginCallbacks *cb);

#define UNIX_PG_EPOCH_DIFF_US	INT64CONST(946684800000000)

/* per transaction-metadata data collection counter */
typedef struct FerryDcCount
{
	const char *name;
	int64		count;
} FerryDcCount;

typedef struct FerryDecodingData
{
	FerryOptions opts;
	char	   *dbname;
	MemoryContext context;		/* scratch, reset after every callback */
	MemoryContext txn_context;	/* per-transaction state */
	uint32		next_schema_id;
	StringInfoData keybuf;
	StringInfoData valbuf;
	StringInfoData hdrbuf1;
	StringInfoData hdrbuf2;
	StringInfoData ctxhdr;		/* ferry_context_headers_blob */
	StringInfoData srchead;		/* ferry_source_head */
	StringInfoData dbjson;		/* dbname as a JSON string */

	/* sequence[0]: end LSN of the last non-empty transaction */
	bool		has_last_commit;
	uint64		last_commit;
	bool		has_last_ts;
	int64		last_ts_us;

	/* current transaction */
	TransactionId xid;
	int64		commit_ts_us;
	bool		txn_nonempty;	/* pgoutput would have sent BEGIN */
	int64		total_order;
	int			ndc;
	int			dc_cap;
	FerryDcCount *dcs;
	const char *origin;
	uint64		origin_lsn;
	bool		txn_wrote;		/* something was written for this transaction */
	int			progress_count; /* callbacks since the last progress update */
} FerryDecodingData;

static void ferry_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
						  bool is_init);
static void ferry_shutdown(LogicalDecodingContext *ctx);
static void ferry_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void ferry_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						 XLogRecPtr commit_lsn);
static void ferry_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						 Relation rel, ReorderBufferChange *change);
static void ferry_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						   int nrelations, Relation relations[],
						   ReorderBufferChange *change);
static void ferry_message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						  XLogRecPtr message_lsn, bool transactional,
						  const char *prefix, Size message_size,
						  const char *message);

void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	AssertVariableIsOfType(&_PG_output_plugin_init, LogicalOutputPluginInit);

	cb->startup_cb = ferry_startup;
	cb->begin_cb = ferry_begin;
	cb->change_cb = ferry_change;
	cb->truncate_cb = ferry_truncate;
	cb->commit_cb = ferry_commit;
	cb->message_cb = ferry_message;
	cb->shutdown_cb = ferry_shutdown;
}

/* ---------------------------------------------------------------------
 * Options
 * ---------------------------------------------------------------------
 */

void
ferry_options_init(FerryOptions *opts)
{
	memset(opts, 0, sizeof(FerryOptions));
	opts->format = FERRY_FORMAT_JSON;
	opts->topic_prefix = FERRY_DEFAULT_PREFIX;
	opts->schemas_enable = true;
	opts->decimal_mode = FERRY_DECIMAL_PRECISE;
	opts->time_mode = FERRY_TIME_ADAPTIVE;
	opts->binary_mode = FERRY_BINARY_BYTES;
	opts->interval_mode = FERRY_INTERVAL_NUMERIC;
	opts->hstore_mode = FERRY_HSTORE_JSON;
	opts->placeholder = NULL;
	opts->tombstones_on_delete = true;
	opts->include_unknown = false;
	opts->provide_tx_metadata = false;
	opts->extended_headers = true;
	opts->skip_t = true;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
bad_value(const char *name, const char *value)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for ferry option \"%s\": \"%s\"", name, value)));
}

static bool
opt_bool(const char *name, const char *value)
{
	bool		result;

	if (!parse_bool(value, &result))
		bad_value(name, value);
	return result;
}

static int64
opt_int64(const char *name, const char *value)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0')
		bad_value(name, value);
	return (int64) v;
}

/* LSN as "X/Y" or a decimal 64-bit number */
static uint64
opt_lsn(const char *name, const char *value)
{
	if (strchr(value, '/'))
	{
		bool		have_error = false;
		XLogRecPtr	lsn = pg_lsn_in_internal(value, &have_error);

		if (have_error)
			bad_value(name, value);
		return lsn;
	}
	return (uint64) opt_int64(name, value);
}

/* Compile a comma-separated list of regular expressions, anchored */
static void
compile_filter(FerryFilter *f, const char *name, const char *value)
{
	char	   *copy = pstrdup(value);
	char	   *tok;
	char	   *save = NULL;
	int			cap = 4;

	f->npatterns = 0;
	f->patterns = palloc(sizeof(regex_t) * cap);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *p = tok;
		char	   *e;
		char	   *anchored;
		pg_wchar   *wpat;
		int			wlen;
		int			rc;

		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*p == '\0')
			continue;
		if (f->npatterns == cap)
		{
			cap *= 2;
			f->patterns = repalloc(f->patterns, sizeof(regex_t) * cap);
		}
		anchored = psprintf("^(?:%s)$", p);
		wpat = palloc(sizeof(pg_wchar) * (strlen(anchored) + 1));
		wlen = pg_mb2wchar_with_len(anchored, wpat, strlen(anchored));
		rc = pg_regcomp(&f->patterns[f->npatterns], wpat, wlen,
						REG_ADVANCED | REG_ICASE | REG_NOSUB, C_COLLATION_OID);
		if (rc != REG_OKAY)
		{
			char		errstr[100];

			pg_regerror(rc, &f->patterns[f->npatterns], errstr, sizeof(errstr));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
					 errmsg("invalid regular expression \"%s\" in ferry option \"%s\": %s",
							p, name, errstr)));
		}
		f->npatterns++;
	}
}

/* True if name matches one of f's patterns as a whole (case-insensitive) */
bool
ferry_filter_match(FerryFilter *f, const char *name)
{
	int			len = strlen(name);
	pg_wchar   *w = palloc(sizeof(pg_wchar) * (len + 1));
	int			wlen = pg_mb2wchar_with_len(name, w, len);
	int			i;
	bool		result = false;

	for (i = 0; i < f->npatterns && !result; i++)
	{
		int			rc = pg_regexec(&f->patterns[i], w, wlen, 0, NULL, 0, NULL, 0);

		if (rc == REG_OKAY)
			result = true;
		else if (rc != REG_NOMATCH)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
					 errmsg("regular expression failed on \"%s\"", name)));
	}
	pfree(w);
	return result;
}

/* Debezium's table selection: system schemas never, then the lists */
bool
ferry_table_captured(FerryOptions *opts, const char *schema, const char *table)
{
	char	   *full;
	bool		result = true;

	if (strcmp(schema, "pg_catalog") == 0 || strcmp(schema, "information_schema") == 0 ||
		strncmp(schema, "pg_toast", 8) == 0 || strncmp(schema, "pg_temp", 7) == 0)
		return false;
	if (opts->schema_include.npatterns > 0 && !ferry_filter_match(&opts->schema_include, schema))
		return false;
	if (opts->schema_exclude.npatterns > 0 && ferry_filter_match(&opts->schema_exclude, schema))
		return false;
	if (opts->table_include.npatterns == 0 && opts->table_exclude.npatterns == 0)
		return true;
	full = psprintf("%s.%s", schema, table);
	if (opts->table_include.npatterns > 0 && !ferry_filter_match(&opts->table_include, full))
		result = false;
	if (result && opts->table_exclude.npatterns > 0 && ferry_filter_match(&opts->table_exclude, full))
		result = false;
	pfree(full);
	return result;
}

static void
parse_skipped(FerryOptions *opts, const char *name, const char *value)
{
	char	   *copy = pstrdup(value);
	char	   *tok;
	char	   *save = NULL;

	opts->skip_c = opts->skip_u = opts->skip_d = opts->skip_t = false;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		while (*tok == ' ')
			tok++;
		if (strcmp(tok, "c") == 0)
			opts->skip_c = true;
		else if (strcmp(tok, "u") == 0)
			opts->skip_u = true;
		else if (strcmp(tok, "d") == 0)
			opts->skip_d = true;
		else if (strcmp(tok, "t") == 0)
			opts->skip_t = true;
		else if (strcmp(tok, "none") == 0)
			continue;
		else
			bad_value(name, value);
	}
}

/*
 * unavailable.value.placeholder: the text and its bytes ("hex:" prefix:
 * hex decoded, as Debezium).  The UUID Debezium derives from the bytes is
 * computed on first use (MD5 needs a resource owner, which the walsender's
 * startup does not have).
 */
static void
set_placeholder(FerryOptions *opts)
{
	if (opts->placeholder == NULL)
		opts->placeholder = FERRY_UNAVAILABLE;
	opts->placeholder_uuid[0] = '\0';
	if (strncmp(opts->placeholder, "hex:", 4) == 0)
	{
		const char *h = opts->placeholder + 4;
		int			n = strlen(h);
		int			i;

		if (n % 2 != 0)
			bad_value("unavailable.value.placeholder", opts->placeholder);
		opts->placeholder_bytes = palloc(n / 2 + 1);
		for (i = 0; i < n / 2; i++)
		{
			int			hi = hex_value(h[2 * i]);
			int			lo = hex_value(h[2 * i + 1]);

			if (hi < 0 || lo < 0)
				bad_value("unavailable.value.placeholder", opts->placeholder);
			opts->placeholder_bytes[i] = (char) (hi * 16 + lo);
		}
		opts->placeholder_bytes[n / 2] = '\0';
		opts->placeholder_len = n / 2;
	}
	else
	{
		opts->placeholder_bytes = opts->placeholder;
		opts->placeholder_len = strlen(opts->placeholder);
	}
	if (strcmp(opts->placeholder, FERRY_UNAVAILABLE) == 0)
		strcpy(opts->placeholder_uuid, "b68a35a7-17ad-35b3-af2a-ae46edb4545a");
}

/*
 * Parse the plugin options (a List of DefElem with string values).  Each
 * option may appear once.  snapshot_fn accepts the snapshot.* options of
 * ferry.snapshot_table as well.
 */
void
ferry_options_parse(FerryOptions *opts, List *options, bool snapshot_fn)
{
	ListCell   *lc;
	List	   *seen = NIL;

	foreach(lc, options)
	{
		DefElem    *elem = lfirst(lc);
		const char *name = elem->defname;
		const char *value;
		ListCell   *lc2;

		foreach(lc2, seen)
		{
			if (strcmp((char *) lfirst(lc2), name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("conflicting or redundant options"),
						 errdetail("Option \"%s\" is given more than once.", name)));
		}
		seen = lappend(seen, (char *) name);

		if (elem->arg == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ferry option \"%s\" needs a value", name)));
		value = strVal(elem->arg);

		if (strcmp(name, "format") == 0)
		{
			if (strcmp(value, "json") == 0)
				opts->format = FERRY_FORMAT_JSON;
			else if (strcmp(value, "relay") == 0)
				opts->format = FERRY_FORMAT_RELAY;
			else
				bad_value(name, value);
		}
		else if (strcmp(name, "wire-version") == 0)
		{
			if (opt_int64(name, value) != FERRY_WIRE_VERSION)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("ferry wire version %s is not supported", value),
						 errdetail("This plugin speaks wire version %d.", FERRY_WIRE_VERSION)));
		}
		else if (strcmp(name, "run.id") == 0)
			opts->run_id = pstrdup(value);
		else if (strcmp(name, "topic.prefix") == 0)
		{
			if (value[0] == '\0')
				bad_value(name, value);
			opts->topic_prefix = pstrdup(value);
		}
		else if (strcmp(name, "schemas.enable") == 0)
			opts->schemas_enable = opt_bool(name, value);
		else if (strcmp(name, "decimal.handling.mode") == 0)
		{
			if (strcmp(value, "precise") == 0)
				opts->decimal_mode = FERRY_DECIMAL_PRECISE;
			else if (strcmp(value, "double") == 0)
				opts->decimal_mode = FERRY_DECIMAL_DOUBLE;
			else if (strcmp(value, "string") == 0)
				opts->decimal_mode = FERRY_DECIMAL_STRING;
			else
				bad_value(name, value);
		}
		else if (strcmp(name, "time.precision.mode") == 0)
		{
			if (strcmp(value, "adaptive") == 0)
				opts->time_mode = FERRY_TIME_ADAPTIVE;
			else if (strcmp(value, "adaptive_time_microseconds") == 0)
				opts->time_mode = FERRY_TIME_ADAPTIVE_MICRO;
			else if (strcmp(value, "connect") == 0)
				opts->time_mode = FERRY_TIME_CONNECT;
			else
				bad_value(name, value);
		}
		else if (strcmp(name, "binary.handling.mode") == 0)
		{
			if (strcmp(value, "bytes") == 0)
				opts->binary_mode = FERRY_BINARY_BYTES;
			else if (strcmp(value, "base64") == 0)
				opts->binary_mode = FERRY_BINARY_BASE64;
			else if (strcmp(value, "base64-url-safe") == 0)
				opts->binary_mode = FERRY_BINARY_BASE64_URL;
			else if (strcmp(value, "hex") == 0)
				opts->binary_mode = FERRY_BINARY_HEX;
			else
				bad_value(name, value);
		}
		else if (strcmp(name, "interval.handling.mode") == 0)
		{
			if (strcmp(value, "numeric") == 0)
				opts->interval_mode = FERRY_INTERVAL_NUMERIC;
			else if (strcmp(value, "string") == 0)
				opts->interval_mode = FERRY_INTERVAL_STRING;
			else
				bad_value(name, value);
		}
		else if (strcmp(name, "hstore.handling.mode") == 0)
		{
			if (strcmp(value, "json") == 0)
				opts->hstore_mode = FERRY_HSTORE_JSON;
			else if (strcmp(value, "map") == 0)
				opts->hstore_mode = FERRY_HSTORE_MAP;
			else
				bad_value(name, value);
		}
		else if (strcmp(name, "unavailable.value.placeholder") == 0)
			opts->placeholder = pstrdup(value);
		else if (strcmp(name, "tombstones.on.delete") == 0)
			opts->tombstones_on_delete = opt_bool(name, value);
		else if (strcmp(name, "include.unknown.datatypes") == 0)
			opts->include_unknown = opt_bool(name, value);
		else if (strcmp(name, "skip.messages.without.change") == 0)
			opts->skip_unchanged = opt_bool(name, value);
		else if (strcmp(name, "provide.transaction.metadata") == 0)
			opts->provide_tx_metadata = opt_bool(name, value);
		else if (strcmp(name, "extended.headers.enabled") == 0)
			opts->extended_headers = opt_bool(name, value);
		else if (strcmp(name, "skipped.operations") == 0)
			parse_skipped(opts, name, value);
		else if (strcmp(name, "schema.include.list") == 0)
			compile_filter(&opts->schema_include, name, value);
		else if (strcmp(name, "schema.exclude.list") == 0)
			compile_filter(&opts->schema_exclude, name, value);
		else if (strcmp(name, "table.include.list") == 0)
			compile_filter(&opts->table_include, name, value);
		else if (strcmp(name, "table.exclude.list") == 0)
			compile_filter(&opts->table_exclude, name, value);
		else if (strcmp(name, "column.include.list") == 0)
			compile_filter(&opts->column_include, name, value);
		else if (strcmp(name, "column.exclude.list") == 0)
			compile_filter(&opts->column_exclude, name, value);
		else if (strcmp(name, "message.prefix.include.list") == 0)
			compile_filter(&opts->message_include, name, value);
		else if (strcmp(name, "message.prefix.exclude.list") == 0)
			compile_filter(&opts->message_exclude, name, value);
		else if (strcmp(name, "offset.lsn.commit") == 0)
		{
			opts->has_lsn_commit = true;
			opts->lsn_commit = opt_lsn(name, value);
		}
		else if (strcmp(name, "test.fixed.ts") == 0)
		{
			opts->has_fixed_ts = true;
			opts->fixed_ts_us = opt_int64(name, value);
		}
		else if (snapshot_fn && strcmp(name, "snapshot.first.table") == 0)
			opts->snap_first_table = opt_bool(name, value);
		else if (snapshot_fn && strcmp(name, "snapshot.last.table") == 0)
			opts->snap_last_table = opt_bool(name, value);
		else if (snapshot_fn && strcmp(name, "snapshot.lsn") == 0)
		{
			opts->has_snap_lsn = true;
			opts->snap_lsn = opt_lsn(name, value);
		}
		else if (snapshot_fn && strcmp(name, "snapshot.txid") == 0)
		{
			opts->has_snap_txid = true;
			opts->snap_txid = opt_int64(name, value);
		}
		else if (snapshot_fn && strcmp(name, "snapshot.ts.us") == 0)
		{
			opts->has_snap_ts = true;
			opts->snap_ts_us = opt_int64(name, value);
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized ferry option \"%s\"", name)));
	}

	if (opts->schema_include.npatterns > 0 && opts->schema_exclude.npatterns > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ferry options \"schema.include.list\" and \"schema.exclude.list\" cannot be used together")));
	if (opts->table_include.npatterns > 0 && opts->table_exclude.npatterns > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ferry options \"table.include.list\" and \"table.exclude.list\" cannot be used together")));
	if (opts->column_include.npatterns > 0 && opts->column_exclude.npatterns > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ferry options \"column.include.list\" and \"column.exclude.list\" cannot be used together")));
	if (opts->message_include.npatterns > 0 && opts->message_exclude.npatterns > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ferry options \"message.prefix.include.list\" and \"message.prefix.exclude.list\" cannot be used together")));

	set_placeholder(opts);

	if (opts->run_id == NULL)
	{
		unsigned char u[16];
		static const char hex[] = "0123456789abcdef";
		char		buf[37];
		int			i,
					j = 0;

		/* a random (version 4) UUID per start, like Debezium's runId */
		if (!pg_strong_random(u, sizeof(u)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random run id")));
		u[6] = (u[6] & 0x0F) | 0x40;
		u[8] = (u[8] & 0x3F) | 0x80;
		for (i = 0; i < 16; i++)
		{
			if (i == 4 || i == 6 || i == 8 || i == 10)
				buf[j++] = '-';
			buf[j++] = hex[u[i] >> 4];
			buf[j++] = hex[u[i] & 0xF];
		}
		buf[j] = '\0';
		opts->run_id = pstrdup(buf);
	}
}

/* ---------------------------------------------------------------------
 * Callbacks
 * ---------------------------------------------------------------------
 */

/*
 * The current database's name.  The walsender calls the startup callback
 * outside any transaction; catalog access needs one, so open a short one
 * there (the SQL interface is already inside a transaction).
 */
static char *
current_dbname(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	char	   *name;
	char	   *result;

	if (IsTransactionState())
		name = get_database_name(MyDatabaseId);
	else
	{
		StartTransactionCommand();
		name = get_database_name(MyDatabaseId);
		MemoryContextSwitchTo(cxt);
		result = pstrdup(name ? name : "");
		CommitTransactionCommand();
		MemoryContextSwitchTo(cxt);
		return result;
	}
	return pstrdup(name ? name : "");
}

/*
 * Called once when the decoding context is created (slot creation with
 * is_init, or each time changes are read).  Options only in the latter.
 */
static void
ferry_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init)
{
	FerryDecodingData *data;
	MemoryContext old;

	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ferry requires a database with encoding UTF8, not %s",
						GetDatabaseEncodingName()),
				 errhint("Create the database with ENCODING 'UTF8'.")));

	old = MemoryContextSwitchTo(ctx->context);
	data = palloc0(sizeof(FerryDecodingData));
	data->context = AllocSetContextCreate(ctx->context, "ferry change context",
										  ALLOCSET_DEFAULT_SIZES);
	data->txn_context = AllocSetContextCreate(ctx->context, "ferry transaction context",
											  ALLOCSET_SMALL_SIZES);
	ferry_options_init(&data->opts);
	if (!is_init)
		ferry_options_parse(&data->opts, ctx->output_plugin_options, false);
	data->dbname = is_init ? NULL : current_dbname();
	data->next_schema_id = 1;
	data->has_last_commit = data->opts.has_lsn_commit;
	data->last_commit = data->opts.lsn_commit;
	initStringInfo(&data->keybuf);
	initStringInfo(&data->valbuf);
	initStringInfo(&data->hdrbuf1);
	initStringInfo(&data->hdrbuf2);
	initStringInfo(&data->ctxhdr);
	initStringInfo(&data->srchead);
	initStringInfo(&data->dbjson);
	if (!is_init)
	{
		ferry_context_headers_blob(&data->ctxhdr, &data->opts);
		ferry_source_head(&data->srchead, &data->opts);
		ferry_json_cstring(&data->dbjson, data->dbname);
	}
	ferry_relcache_init(ctx->context);
	MemoryContextSwitchTo(old);

	ctx->output_plugin_private = data;
	opt->output_type = data->opts.format == FERRY_FORMAT_RELAY ?
		OUTPUT_PLUGIN_BINARY_OUTPUT : OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;
}

/* Free what the options own outside palloc (compiled regexes use malloc) */
void
ferry_options_free(FerryOptions *opts)
{
	FerryFilter *filters[8];
	int			i,
				j;

	filters[7] = &opts->column_include;
	filters[0] = &opts->schema_include;
	filters[1] = &opts->schema_exclude;
	filters[2] = &opts->table_include;
	filters[3] = &opts->table_exclude;
	filters[4] = &opts->column_exclude;
	filters[5] = &opts->message_include;
	filters[6] = &opts->message_exclude;
	for (i = 0; i < 8; i++)
	{
		for (j = 0; j < filters[i]->npatterns; j++)
			pg_regfree(&filters[i]->patterns[j]);
		filters[i]->npatterns = 0;
	}
}

static void
ferry_shutdown(LogicalDecodingContext *ctx)
{
	FerryDecodingData *data = ctx->output_plugin_private;

	if (data != NULL)
		ferry_options_free(&data->opts);
}

static inline int64
commit_ts_us(FerryDecodingData *data, ReorderBufferTXN *txn)
{
	if (data->opts.has_fixed_ts)
		return data->opts.fixed_ts_us;
	return txn->xact_time.commit_time + UNIX_PG_EPOCH_DIFF_US;
}

static void
put_be(StringInfo out, uint64 v, int bytes)
{
	int			i;

	for (i = bytes - 1; i >= 0; i--)
		ferry_append_char(out, (char) ((v >> (8 * i)) & 0xFF));
}

static void
ferry_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	FerryDecodingData *data = ctx->output_plugin_private;

	MemoryContextReset(data->txn_context);
	data->xid = txn->xid;
	data->commit_ts_us = commit_ts_us(data, txn);
	data->txn_nonempty = false;
	data->txn_wrote = false;
	data->total_order = 0;
	data->ndc = 0;
	data->dc_cap = 0;
	data->dcs = NULL;
	data->origin = NULL;
	if (txn->origin_id != InvalidRepOriginId)
	{
		char	   *name = NULL;
		MemoryContext old = MemoryContextSwitchTo(data->txn_context);

		if (replorigin_by_oid(txn->origin_id, true, &name))
		{
			data->origin = pstrdup(name);
			data->origin_lsn = txn->origin_lsn;
		}
		MemoryContextSwitchTo(old);
	}

	if (data->opts.format == FERRY_FORMAT_RELAY)
	{
		OutputPluginPrepareWrite(ctx, true);
		ferry_append_char(ctx->out, FERRY_FRAME_BEGIN);
		put_be(ctx->out, txn->xid, 4);
		put_be(ctx->out, txn->final_lsn, 8);
		put_be(ctx->out, (uint64) txn->xact_time.commit_time, 8);
		OutputPluginWrite(ctx, true);
		data->txn_wrote = true;
	}
}

static const char *tx_key_schema =
"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}],"
"\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1}";

static const char *tx_value_schema =
"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},"
"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
"{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
"{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
"{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
"{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
"\"optional\":true,\"name\":\"event.collection\",\"version\":1},\"optional\":true,\"field\":\"data_collections\"},"
"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],"
"\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1}";

static void
emit_record(LogicalDecodingContext *ctx, FerryRecord *rec)
{
	FerryDecodingData *data = ctx->output_plugin_private;

	OutputPluginPrepareWrite(ctx, true);
	ferry_write_record(ctx->out, &data->opts, rec);
	OutputPluginWrite(ctx, true);
	data->txn_wrote = true;
}

/*
 * Let the walsender send keepalives and track progress while changes are
 * filtered out or a transaction produced nothing (as pgoutput does), so a
 * long stretch without output does not hit wal_sender_timeout.
 */
#define FERRY_PROGRESS_THRESHOLD 100

static void
ferry_update_progress(LogicalDecodingContext *ctx, bool skipped_xact)
{
	FerryDecodingData *data = ctx->output_plugin_private;

	if (ctx->end_xact || ++data->progress_count >= FERRY_PROGRESS_THRESHOLD)
	{
		OutputPluginUpdateProgress(ctx, skipped_xact);
		data->progress_count = 0;
	}
}

static void
tx_topic(StringInfo out, FerryOptions *opts, const char *suffix)
{
	char	   *t = psprintf("%s.%s", opts->topic_prefix, suffix);

	ferry_sanitize_topic(out, t);
}

/* BEGIN/END record of <prefix>.transaction */
static void
emit_tx_record(LogicalDecodingContext *ctx, bool end, uint64 lsn)
{
	FerryDecodingData *data = ctx->output_plugin_private;
	FerryRecord rec;
	StringInfoData topic;
	char	   *id = psprintf("%u:" UINT64_FORMAT, data->xid, lsn);
	int64		ms = data->commit_ts_us / 1000;

	memset(&rec, 0, sizeof(rec));
	initStringInfo(&topic);
	tx_topic(&topic, &data->opts, "transaction");
	resetStringInfo(&data->keybuf);
	resetStringInfo(&data->valbuf);
	appendStringInfo(&data->keybuf, "{\"id\":\"%s\"}", id);
	if (!end)
		appendStringInfo(&data->valbuf,
						 "{\"status\":\"BEGIN\",\"id\":\"%s\",\"event_count\":null,"
						 "\"data_collections\":null,\"ts_ms\":" INT64_FORMAT "}", id, ms);
	else
	{
		const char **names = palloc(sizeof(char *) * (data->ndc + 1));
		int		   *lens = palloc(sizeof(int) * (data->ndc + 1));
		int		   *order;
		int			i;

		for (i = 0; i < data->ndc; i++)
		{
			names[i] = data->dcs[i].name;
			lens[i] = strlen(names[i]);
		}
		order = ferry_java_hashmap_order(names, lens, data->ndc);
		appendStringInfo(&data->valbuf,
						 "{\"status\":\"END\",\"id\":\"%s\",\"event_count\":" INT64_FORMAT
						 ",\"data_collections\":[", id, data->total_order);
		for (i = 0; i < data->ndc; i++)
		{
			if (i > 0)
				ferry_append_char(&data->valbuf, ',');
			ferry_append_lit(&data->valbuf, "{\"data_collection\":");
			ferry_json_cstring(&data->valbuf, data->dcs[order[i]].name);
			appendStringInfo(&data->valbuf, ",\"event_count\":" INT64_FORMAT "}",
							 data->dcs[order[i]].count);
		}
		appendStringInfo(&data->valbuf, "],\"ts_ms\":" INT64_FORMAT "}", ms);
	}
	rec.topic = topic.data;
	rec.schema_id = 0;
	rec.key_schema = tx_key_schema;
	rec.value_schema = tx_value_schema;
	rec.key = &data->keybuf;
	rec.value = &data->valbuf;
	emit_record(ctx, &rec);
}

/*
 * The transaction has content pgoutput would publish (any user table, or
 * a transactional message): from here on it is not "empty".  lsn is the
 * position of that first change, which is where PG 15's pgoutput sends
 * its deferred BEGIN.
 */
static void
txn_touch(LogicalDecodingContext *ctx, uint64 lsn)
{
	FerryDecodingData *data = ctx->output_plugin_private;

	if (data->txn_nonempty)
		return;
	data->txn_nonempty = true;
	if (data->opts.provide_tx_metadata)
		emit_tx_record(ctx, false, lsn);
}

/* Count one data event; returns its data_collection_order */
static int64
txn_count(FerryDecodingData *data, const char *dc_name)
{
	int			i;

	data->total_order++;
	if (dc_name == NULL)
		return 1;
	for (i = 0; i < data->ndc; i++)
	{
		if (strcmp(data->dcs[i].name, dc_name) == 0)
			return ++data->dcs[i].count;
	}
	if (data->ndc == data->dc_cap)
	{
		data->dc_cap = data->dc_cap ? data->dc_cap * 2 : 8;
		if (data->dcs)
			data->dcs = repalloc(data->dcs, sizeof(FerryDcCount) * data->dc_cap);
		else
			data->dcs = MemoryContextAlloc(data->txn_context,
										   sizeof(FerryDcCount) * data->dc_cap);
	}
	data->dcs[data->ndc].name = MemoryContextStrdup(data->txn_context, dc_name);
	data->dcs[data->ndc].count = 1;
	data->ndc++;
	return 1;
}

static void
ferry_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn)
{
	FerryDecodingData *data = ctx->output_plugin_private;
	MemoryContext old = MemoryContextSwitchTo(data->context);

	if (data->txn_nonempty)
	{
		if (data->opts.provide_tx_metadata)
			emit_tx_record(ctx, true, txn->end_lsn);
		data->has_last_commit = true;
		data->last_commit = txn->end_lsn;
		data->has_last_ts = true;
		data->last_ts_us = data->commit_ts_us;
	}
	if (data->opts.format == FERRY_FORMAT_RELAY)
	{
		OutputPluginPrepareWrite(ctx, true);
		ferry_append_char(ctx->out, FERRY_FRAME_COMMIT);
		put_be(ctx->out, txn->xid, 4);
		put_be(ctx->out, commit_lsn, 8);
		put_be(ctx->out, txn->end_lsn, 8);
		put_be(ctx->out, (uint64) txn->xact_time.commit_time, 8);
		OutputPluginWrite(ctx, true);
	}
	ferry_update_progress(ctx, !data->txn_wrote);
	MemoryContextSwitchTo(old);
	MemoryContextReset(data->context);
	MemoryContextReset(data->txn_context);
	data->dcs = NULL;
	data->ndc = data->dc_cap = 0;
}

/* Fill the source block of a streamed change of entry at lsn */
static void
stream_source(FerryDecodingData *data, FerrySource *src, FerryRelInfo *ri, uint64 lsn)
{
	memset(src, 0, sizeof(FerrySource));
	src->ts_us = data->commit_ts_us;
	src->has_last_commit = data->has_last_commit;
	src->last_commit = data->last_commit;
	src->lsn = lsn;
	src->has_txid = true;
	src->txid = data->xid;
	src->schema = ri ? ri->schema : "";
	src->table = ri ? ri->table : "";
	if (ri && ri->st_json)
	{
		src->st_json = ri->st_json;
		src->st_json_len = ri->st_json_len;
	}
	if (data->srchead.len > 0)
	{
		src->head = data->srchead.data;
		src->head_len = data->srchead.len;
		src->db_json = data->dbjson.data;
		src->db_json_len = data->dbjson.len;
	}
	src->origin = data->origin;
	src->origin_lsn = data->origin_lsn;
}

/* {"before":…,"after":…,"source":…,"transaction":…,"op":…,"ts_*":…} */
static void
write_envelope(FerryDecodingData *data, StringInfo out, FerryRelInfo *ri,
			   FerrySource *src, const char *op, TupleDesc desc,
			   HeapTuple before, HeapTuple after, HeapTuple toast_old,
			   bool tx, uint64 lsn, int64 total, int64 dcorder)
{
	int64		now = ferry_now_us(&data->opts);

	ferry_append_lit(out, "{\"before\":");
	if (before)
		ferry_encode_row(out, &data->opts, ri, desc, before, NULL);
	else
		ferry_append_lit(out, "null");
	ferry_append_lit(out, ",\"after\":");
	if (after)
		ferry_encode_row(out, &data->opts, ri, desc, after, toast_old);
	else
		ferry_append_lit(out, "null");
	ferry_append_lit(out, ",\"source\":");
	ferry_write_source(out, &data->opts, data->dbname, src);
	ferry_append_lit(out, ",\"transaction\":");
	if (tx)
		ferry_write_tx_block(out, data->xid, lsn, total, dcorder);
	else
		ferry_append_lit(out, "null");
	{
		char		buf[3 * (MAXINT8LEN + 1) + 64];
		char	   *p = buf;

		memcpy(p, ",\"op\":\"", 7);
		p += 7;
		*p++ = op[0];
		memcpy(p, "\",\"ts_ms\":", 10);
		p += 10;
		p += pg_lltoa(now / 1000, p);
		memcpy(p, ",\"ts_us\":", 9);
		p += 9;
		p += pg_lltoa(now, p);
		memcpy(p, ",\"ts_ns\":", 9);
		p += 9;
		p += pg_lltoa(now * 1000, p);
		*p++ = '}';
		appendBinaryStringInfo(out, buf, p - buf);
	}
}

/* Send the 'S' frame of entry if this session has not seen it yet */
static void
maybe_send_schema(LogicalDecodingContext *ctx, FerryRelEntry *entry)
{
	FerryDecodingData *data = ctx->output_plugin_private;

	if (data->opts.format != FERRY_FORMAT_RELAY || entry->schema_sent)
		return;
	OutputPluginPrepareWrite(ctx, true);
	ferry_write_schema_frame(ctx->out, &data->opts, entry->schema_id, entry->info);
	OutputPluginWrite(ctx, true);
	entry->schema_sent = true;
}

/* One data-change record (c/u/d/t) plus its tombstone for d */
static void
emit_change(LogicalDecodingContext *ctx, FerryRelEntry *entry, const char *op,
			TupleDesc desc, HeapTuple before, HeapTuple after, HeapTuple toast_old,
			HeapTuple keytup, uint64 lsn, const char *keyhdr_name, StringInfo keyhdr)
{
	FerryDecodingData *data = ctx->output_plugin_private;
	FerryRelInfo *ri = entry->info;
	FerrySource src;
	FerryRecord rec;
	int64		total = 0,
				dcorder = 0;
	bool		tx = data->opts.provide_tx_metadata;
	int			lenpos;

	if (tx)
		dcorder = txn_count(data, ri->dc_name);
	else
		data->total_order++;
	total = data->total_order;

	stream_source(data, &src, ri, lsn);
	resetStringInfo(&data->keybuf);
	if (keytup && ri->nkeys > 0)
		ferry_encode_key(&data->keybuf, &data->opts, ri, desc, keytup, false);

	memset(&rec, 0, sizeof(rec));
	rec.topic = ri->topic;
	rec.schema_id = entry->schema_id;
	rec.key_schema = ri->key_schema;
	rec.value_schema = ri->value_schema;
	rec.key_schema_len = ri->key_schema_len;
	rec.value_schema_len = ri->value_schema_len;
	rec.topic_json = ri->topic_json;
	rec.topic_json_len = ri->topic_json_len;
	rec.key = (keytup && ri->nkeys > 0) ? &data->keybuf : NULL;
	rec.value = &data->valbuf;	/* written in place below */
	if (keyhdr_name)
	{
		rec.hname[0] = keyhdr_name;
		rec.hvalue[0] = keyhdr->data;
		rec.hlen[0] = keyhdr->len;
		rec.nheaders = 1;
		ferry_add_context_headers(&rec, &data->opts);
	}
	else
	{
		rec.hdr_blob = data->ctxhdr.data;
		rec.hdr_blob_len = data->ctxhdr.len;
	}

	maybe_send_schema(ctx, entry);

	/* the envelope goes straight into the output, not through valbuf */
	OutputPluginPrepareWrite(ctx, true);
	lenpos = ferry_record_begin_value(ctx->out, &data->opts, &rec);
	write_envelope(data, ctx->out, ri, &src, op, desc, before, after, toast_old,
				   tx, lsn, total, dcorder);
	ferry_record_end_value(ctx->out, &data->opts, &rec, lenpos);
	OutputPluginWrite(ctx, true);
	data->txn_wrote = true;

	if (op[0] == 'd' && data->opts.tombstones_on_delete)
	{
		rec.value = NULL;
		emit_record(ctx, &rec);
	}
}

static void
ferry_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, Relation rel,
			 ReorderBufferChange *change)
{
	FerryDecodingData *data = ctx->output_plugin_private;
	MemoryContext old = MemoryContextSwitchTo(data->context);
	FerryRelEntry *entry;
	FerryRelInfo *ri;
	TupleDesc	desc = RelationGetDescr(rel);
	HeapTuple	newtup = NULL;
	HeapTuple	oldtup = NULL;

	ferry_update_progress(ctx, false);
	ferry_deform_cache_begin();
	/* pgoutput publishes no relation created by initdb (is_publishable_class) */
	if (RelationGetRelid(rel) < FirstNormalObjectId)
		goto done;
	txn_touch(ctx, change->lsn);
	entry = ferry_relcache_get(&data->opts, rel, &data->next_schema_id);
	ri = entry->info;
	if (!ri->captured)
		goto done;

	if (change->data.tp.newtuple)
		newtup = &change->data.tp.newtuple->tuple;
	if (change->data.tp.oldtuple)
		oldtup = &change->data.tp.oldtuple->tuple;

	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
			if (data->opts.skip_c || newtup == NULL)
				break;
			emit_change(ctx, entry, "c", desc, NULL, newtup, NULL, newtup,
						change->lsn, NULL, NULL);
			break;
		case REORDER_BUFFER_CHANGE_UPDATE:
			if (newtup == NULL)
				break;
			if (oldtup && ri->nkeys > 0)
			{
				StringInfo	ok = &data->hdrbuf1;
				StringInfo	nk = &data->hdrbuf2;

				resetStringInfo(ok);
				resetStringInfo(nk);
				ferry_encode_key(ok, &data->opts, ri, desc, oldtup, false);
				ferry_encode_key(nk, &data->opts, ri, desc, newtup, false);
				if (ok->len != nk->len || memcmp(ok->data, nk->data, ok->len) != 0)
				{
					/* primary-key change: delete, tombstone, create */
					resetStringInfo(ok);
					resetStringInfo(nk);
					ferry_encode_key(ok, &data->opts, ri, desc, oldtup, true);
					ferry_encode_key(nk, &data->opts, ri, desc, newtup, true);
					if (!data->opts.skip_d)
						emit_change(ctx, entry, "d", desc, oldtup, NULL, NULL, oldtup,
									change->lsn, "__debezium.newkey", nk);
					if (!data->opts.skip_c)
						emit_change(ctx, entry, "c", desc, NULL, newtup, oldtup, newtup,
									change->lsn, "__debezium.oldkey", ok);
					break;
				}
			}
			if (data->opts.skip_u)
				break;
			if (data->opts.skip_unchanged && oldtup)
			{
				StringInfo	b = &data->hdrbuf1;
				StringInfo	a = &data->hdrbuf2;

				/* Debezium compares the captured columns of before and after */
				resetStringInfo(b);
				resetStringInfo(a);
				ferry_encode_row(b, &data->opts, ri, desc, oldtup, NULL);
				ferry_encode_row(a, &data->opts, ri, desc, newtup, oldtup);
				if (a->len == b->len && memcmp(a->data, b->data, a->len) == 0)
					break;
			}
			emit_change(ctx, entry, "u", desc, oldtup, newtup, oldtup, newtup,
						change->lsn, NULL, NULL);
			break;
		case REORDER_BUFFER_CHANGE_DELETE:
			/* without old values Debezium skips the event */
			if (data->opts.skip_d || oldtup == NULL)
				break;
			emit_change(ctx, entry, "d", desc, oldtup, NULL, NULL, oldtup,
						change->lsn, NULL, NULL);
			break;
		default:
			break;
	}

done:
	ferry_deform_cache_end();
	MemoryContextSwitchTo(old);
	MemoryContextReset(data->context);
}

static void
ferry_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, int nrelations,
			   Relation relations[], ReorderBufferChange *change)
{
	FerryDecodingData *data = ctx->output_plugin_private;
	MemoryContext old = MemoryContextSwitchTo(data->context);
	int			i;

	ferry_update_progress(ctx, false);
	txn_touch(ctx, change->lsn);
	for (i = 0; i < nrelations && !data->opts.skip_t; i++)
	{
		FerryRelEntry *entry = ferry_relcache_get(&data->opts, relations[i],
												  &data->next_schema_id);

		if (!entry->info->captured)
			continue;
		emit_change(ctx, entry, "t", RelationGetDescr(relations[i]), NULL, NULL, NULL,
					NULL, change->lsn, NULL, NULL);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(data->context);
}

static const char *msg_key_schema =
"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":true,\"field\":\"prefix\"}],"
"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.MessageKey\",\"version\":1}";

/*
 * pg_logical_emit_message: <prefix>.message, no headers (errata 15).
 * Non-transactional messages carry no txId and the last known time.
 */
static void
ferry_message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr message_lsn,
			  bool transactional, const char *prefix, Size message_size,
			  const char *message)
{
	FerryDecodingData *data = ctx->output_plugin_private;
	MemoryContext old = MemoryContextSwitchTo(data->context);
	FerryOptions *opts = &data->opts;
	FerrySource src;
	FerryRecord rec;
	StringInfoData topic;
	StringInfoData vschema;
	int64		now = ferry_now_us(opts);
	int64		total = 0;

	ferry_update_progress(ctx, false);
	if (transactional)
		txn_touch(ctx, message_lsn);
	if ((opts->message_include.npatterns > 0 && !ferry_filter_match(&opts->message_include, prefix)) ||
		(opts->message_exclude.npatterns > 0 && ferry_filter_match(&opts->message_exclude, prefix)))
		goto done;

	memset(&src, 0, sizeof(src));
	src.has_last_commit = data->has_last_commit;
	src.last_commit = data->last_commit;
	src.lsn = message_lsn;
	src.schema = "";
	src.table = "";
	if (transactional)
	{
		src.ts_us = data->commit_ts_us;
		src.has_txid = true;
		src.txid = data->xid;
		src.origin = data->origin;
		src.origin_lsn = data->origin_lsn;
		/*
		 * Debezium counts each message under its own data collection, named
		 * by a JVM identity hash (errata 6); ours is derived from the LSN.
		 */
		if (opts->provide_tx_metadata)
		{
			char		name[128];
			uint32		h = (uint32) (message_lsn ^ (message_lsn >> 32)) * 2654435761u;

			snprintf(name, sizeof(name),
					 "io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$LogicalDecodingMessageId@%x",
					 h & 0x7FFFFFFF);
			txn_count(data, name);
		}
		else
			data->total_order++;
		total = data->total_order;
	}
	else
		src.ts_us = opts->has_fixed_ts ? opts->fixed_ts_us :
			data->has_last_ts ? data->last_ts_us : now;

	resetStringInfo(&data->keybuf);
	resetStringInfo(&data->valbuf);
	ferry_append_lit(&data->keybuf, "{\"prefix\":");
	ferry_json_cstring(&data->keybuf, prefix);
	ferry_append_char(&data->keybuf, '}');

	appendStringInfo(&data->valbuf, "{\"op\":\"m\",\"ts_ms\":" INT64_FORMAT ",\"source\":", now / 1000);
	ferry_write_source(&data->valbuf, opts, data->dbname, &src);
	ferry_append_lit(&data->valbuf, ",\"transaction\":");
	if (transactional && opts->provide_tx_metadata)
		ferry_write_tx_block(&data->valbuf, data->xid, message_lsn, total, 1);
	else
		ferry_append_lit(&data->valbuf, "null");
	ferry_append_lit(&data->valbuf, ",\"message\":{\"prefix\":");
	ferry_json_cstring(&data->valbuf, prefix);
	ferry_append_lit(&data->valbuf, ",\"content\":");
	{
		FerryType	bt;

		/* content follows binary.handling.mode like a bytea column */
		memset(&bt, 0, sizeof(bt));
		bt.kind = FK_BYTEA;
		{
			bytea	   *b = palloc(VARHDRSZ + message_size);

			SET_VARSIZE(b, VARHDRSZ + message_size);
			memcpy(VARDATA(b), message, message_size);
			ferry_encode_value(&data->valbuf, opts, &bt, PointerGetDatum(b), false);
		}
	}
	ferry_append_lit(&data->valbuf, "}}");

	initStringInfo(&vschema);
	appendStringInfoString(&vschema,
						   "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
						   "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},");
	appendStringInfoString(&vschema, ferry_source_schema());
	ferry_append_char(&vschema, ',');
	appendStringInfoString(&vschema, ferry_txblock_schema());
	appendStringInfo(&vschema,
					 ",{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":true,\"field\":\"prefix\"},"
					 "{\"type\":\"%s\",\"optional\":true,\"field\":\"content\"}],\"optional\":false,"
					 "\"name\":\"io.debezium.connector.postgresql.Message\",\"version\":1,\"field\":\"message\"}],"
					 "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.MessageValue\",\"version\":1}",
					 opts->binary_mode == FERRY_BINARY_BYTES ? "bytes" : "string");

	initStringInfo(&topic);
	tx_topic(&topic, opts, "message");
	memset(&rec, 0, sizeof(rec));
	rec.topic = topic.data;
	rec.schema_id = 0;
	rec.key_schema = msg_key_schema;
	rec.value_schema = vschema.data;
	rec.key = &data->keybuf;
	rec.value = &data->valbuf;
	emit_record(ctx, &rec);

done:
	MemoryContextSwitchTo(old);
	MemoryContextReset(data->context);
}
