/*-------------------------------------------------------------------------
 *
 * ferry.h
 *	  Shared declarations of the ferry logical decoding output plugin:
 *	  options, per-relation metadata, and the Debezium-compatible encoder.
 *
 * IDENTIFICATION
 *	  plugin/ferry.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FERRY_H
#define FERRY_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "regex/regex.h"
#include "utils/relcache.h"

/* The string written to source.version */
#define FERRY_VERSION			"0.1.0-ferry"

#define FERRY_DEFAULT_PREFIX	"ferry"
#define FERRY_UNAVAILABLE		"__debezium_unavailable_value"

typedef enum FerryFormat
{
	FERRY_FORMAT_JSON,
	FERRY_FORMAT_RELAY
} FerryFormat;

typedef enum FerryDecimalMode
{
	FERRY_DECIMAL_PRECISE,
	FERRY_DECIMAL_DOUBLE,
	FERRY_DECIMAL_STRING
} FerryDecimalMode;

typedef enum FerryTimeMode
{
	FERRY_TIME_ADAPTIVE,
	FERRY_TIME_ADAPTIVE_MICRO,
	FERRY_TIME_CONNECT
} FerryTimeMode;

typedef enum FerryBinaryMode
{
	FERRY_BINARY_BYTES,
	FERRY_BINARY_BASE64,
	FERRY_BINARY_BASE64_URL,
	FERRY_BINARY_HEX
} FerryBinaryMode;

typedef enum FerryHstoreMode
{
	FERRY_HSTORE_JSON,
	FERRY_HSTORE_MAP
} FerryHstoreMode;

typedef enum FerryIntervalMode
{
	FERRY_INTERVAL_NUMERIC,
	FERRY_INTERVAL_STRING
} FerryIntervalMode;

/* A list of compiled, whole-name-anchored, case-insensitive patterns */
typedef struct FerryFilter
{
	int			npatterns;
	regex_t    *patterns;
} FerryFilter;

/* Everything the options decide; shared by the plugin and snapshot_table */
typedef struct FerryOptions
{
	FerryFormat format;
	char	   *topic_prefix;
	char	   *run_id;
	bool		schemas_enable;
	FerryDecimalMode decimal_mode;
	FerryTimeMode time_mode;
	FerryBinaryMode binary_mode;
	FerryIntervalMode interval_mode;
	FerryHstoreMode hstore_mode;
	char	   *placeholder;	/* unavailable.value.placeholder, as text */
	char	   *placeholder_bytes;	/* its bytes ("hex:" decoded) */
	int			placeholder_len;
	char		placeholder_uuid[37];	/* UUID.nameUUIDFromBytes(bytes) */
	bool		tombstones_on_delete;
	bool		include_unknown;
	bool		provide_tx_metadata;
	bool		skip_unchanged;	/* skip.messages.without.change */
	bool		extended_headers;
	bool		skip_c;
	bool		skip_u;
	bool		skip_d;
	bool		skip_t;
	bool		has_fixed_ts;
	int64		fixed_ts_us;	/* testing only: replaces every clock */
	bool		has_lsn_commit;
	uint64		lsn_commit;		/* initial sequence[0] (relay's offset) */
	FerryFilter schema_include;
	FerryFilter schema_exclude;
	FerryFilter table_include;
	FerryFilter table_exclude;
	FerryFilter column_include;
	FerryFilter column_exclude;
	FerryFilter message_include;
	FerryFilter message_exclude;

	/* snapshot_table only */
	bool		in_snapshot;	/* values come from a table scan (JDBC in Debezium) */
	bool		snap_first_table;
	bool		snap_last_table;
	bool		has_snap_lsn;
	uint64		snap_lsn;
	bool		has_snap_txid;
	int64		snap_txid;
	bool		has_snap_ts;
	int64		snap_ts_us;
} FerryOptions;

/* How a column's values are written */
typedef enum FerryKind
{
	FK_BOOL,
	FK_INT16,
	FK_INT32,
	FK_INT64,
	FK_OID,
	FK_FLOAT32,
	FK_FLOAT64,
	FK_DECIMAL,					/* numeric(p,s) */
	FK_VARDECIMAL,				/* numeric */
	FK_MONEY,
	FK_TEXT,					/* text, varchar, bpchar: raw varlena bytes */
	FK_NAME,
	FK_OUTSTR,					/* any type written as its text output */
	FK_BYTEA,
	FK_UUID,
	FK_DATE,
	FK_TIME,
	FK_TIMESTAMP,
	FK_TIMESTAMPTZ,
	FK_TIMETZ,
	FK_INTERVAL,
	FK_BIT_BOOL,
	FK_BITS,
	FK_ENUM,
	FK_HSTORE,
	FK_POINT,
	FK_UNKNOWN,					/* include.unknown.datatypes: text output as bytes */
	FK_ARRAY,
	FK_ALWAYS_NULL				/* bit[]: Debezium's schema/value mismatch */
} FerryKind;

/* Marker written for an unchanged TOASTed value (Debezium §7) */
typedef enum FerryToast
{
	FT_NULL,
	FT_STRING,
	FT_BYTES,
	FT_TEXT_ARRAY,
	FT_BYTES_ARRAY,
	FT_INT_ARRAY,
	FT_HSTORE,
	FT_UUID_ARRAY
} FerryToast;

typedef struct FerryType
{
	FerryKind	kind;
	Oid			typid;			/* base type */
	int32		typmod;
	int			precision;		/* numeric precision / time precision */
	int			scale;
	bool		millis;			/* time/timestamp encoded in ms */
	int			bits;			/* bit length for FK_BITS */
	bool		geometric;		/* FK_UNKNOWN: box, circle, … (pgjdbc text) */
	FmgrInfo	outfunc;		/* valid when has_out */
	bool		has_out;
	FerryToast	toast;

	/* schema pieces, rendered by ferry_write_field_schema */
	const char *type;
	char	   *inner;			/* "items":… or "fields":[…], or NULL */
	const char *name;
	int			version;
	const char *doc;
	char	   *params;			/* {…} or NULL */

	/* FK_ENUM: labels sorted by oid */
	int			nlabels;
	Oid		   *label_oids;
	char	  **labels;

	/* FK_ARRAY */
	struct FerryType *elem;
	Oid			elemtypid;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
} FerryType;

typedef struct FerryColumn
{
	AttrNumber	attnum;
	char	   *name;
	char	   *jkey;			/* the name as a JSON key, with the colon */
	int			jkey_len;
	bool		nullable;
	FerryType	t;
	char	   *defjson;		/* encoded schema default, or NULL */
	char	   *fallback;		/* value for a NULL in a NOT NULL column */
} FerryColumn;

/* Everything about one relation that does not change per row */
typedef struct FerryRelInfo
{
	Oid			relid;
	char	   *schema;
	char	   *table;
	char	   *topic;
	char	   *dc_name;		/* "schema.table" for transaction metadata */
	bool		captured;		/* passes the table filters */
	int			ncols;
	FerryColumn *cols;
	int			nkeys;
	FerryColumn *keys;
	char	   *key_schema;		/* NULL for a keyless table */
	char	   *value_schema;
	int			key_schema_len;
	int			value_schema_len;
	char	   *topic_json;		/* topic as a JSON string */
	int			topic_json_len;
	char	   *st_json;		/* source block: ,"schema":…,"table":…,"txId": */
	int			st_json_len;
} FerryRelInfo;

/* One Kafka record about to be framed */
#define FERRY_MAX_HEADERS 6
typedef struct FerryRecord
{
	const char *topic;
	uint32		schema_id;		/* relay: 0 = inline topic, full bytes */
	const char *key_schema;		/* json format, schema_id != 0 */
	const char *value_schema;
	int			key_schema_len;	/* strlen of the above, 0 = not known */
	int			value_schema_len;
	const char *topic_json;		/* the topic as a JSON string, or NULL */
	int			topic_json_len;
	const char *hdr_blob;		/* headers pre-rendered in the format, or NULL */
	int			hdr_blob_len;
	StringInfo	key;			/* payload, NULL = null key */
	StringInfo	value;			/* payload, NULL = tombstone */
	int			nheaders;
	const char *hname[FERRY_MAX_HEADERS];
	const char *hvalue[FERRY_MAX_HEADERS];
	int			hlen[FERRY_MAX_HEADERS];
} FerryRecord;

/* Identifies an event for the source block */
typedef struct FerrySource
{
	int64		ts_us;			/* unix epoch µs */
	const char *snapshot;		/* NULL = streaming ("false") */
	bool		has_last_commit;
	uint64		last_commit;
	uint64		lsn;
	bool		has_txid;
	int64		txid;
	const char *schema;
	const char *table;
	const char *origin;
	uint64		origin_lsn;
	/* optional pre-rendered pieces (ferry_source_pieces), NULL = render */
	const char *head;			/* {"version":…,"name":…,"ts_ms": */
	int			head_len;
	const char *db_json;		/* the db name as a JSON string */
	int			db_json_len;
	const char *st_json;		/* ,"schema":…,"table":…,"txId": */
	int			st_json_len;
} FerrySource;

/*
 * Fast appends for the per-change path: a string literal without strlen,
 * and a single byte without a function call when there is room.
 */
static inline void
ferry_append_bin(StringInfo out, const char *s, int n)
{
	if (unlikely(out->len + n >= out->maxlen))
		enlargeStringInfo(out, n);
	memcpy(out->data + out->len, s, n);
	out->len += n;
	out->data[out->len] = '\0';
}

/* room for n more bytes (cheap when there is) */
static inline void
ferry_reserve(StringInfo out, int n)
{
	if (unlikely(out->len + n >= out->maxlen))
		enlargeStringInfo(out, n);
}

#define ferry_append_lit(out, lit) ferry_append_bin((out), "" lit, sizeof(lit) - 1)

static inline void
ferry_append_char(StringInfo out, char c)
{
	if (unlikely(out->len + 1 >= out->maxlen))
		enlargeStringInfo(out, 1);
	out->data[out->len++] = c;
	out->data[out->len] = '\0';
}

/* options.c-like parsing lives in ferry.c */
extern void ferry_options_init(FerryOptions *opts);
extern void ferry_options_parse(FerryOptions *opts, List *options, bool snapshot_fn);
extern void ferry_options_free(FerryOptions *opts);
extern bool ferry_filter_match(FerryFilter *f, const char *name);
extern bool ferry_table_captured(FerryOptions *opts, const char *schema, const char *table);

/* encode.c */
extern void ferry_json_string(StringInfo out, const char *s, int len);
extern void ferry_json_cstring(StringInfo out, const char *s);
extern void ferry_hdr_string(StringInfo out, const char *s, int len);
extern void ferry_base64(StringInfo out, const unsigned char *data, int len, bool url);
extern void ferry_java_double(StringInfo out, double d);
extern void ferry_java_float(StringInfo out, float f);
extern void ferry_sanitize_topic(StringInfo out, const char *s);
extern void ferry_decimal_bytes(StringInfo bytes, const char *digits, bool negative);
extern int	ferry_java_string_hash(const char *s, int len);
extern int *ferry_java_hashmap_order(const char **keys, const int *lens, int n);
extern void ferry_encode_value(StringInfo out, FerryOptions *opts, FerryType *t,
							   Datum d, bool hdr);
extern void ferry_write_toast(StringInfo out, FerryOptions *opts, FerryType *t);
extern void ferry_write_field_schema(StringInfo out, FerryType *t, bool optional,
									 const char *defjson, const char *field);
extern void ferry_deform_cache_begin(void);
extern void ferry_deform_cache_end(void);
extern void ferry_encode_row(StringInfo out, FerryOptions *opts, FerryRelInfo *ri,
							 TupleDesc desc, HeapTuple tup, HeapTuple oldtup);
extern void ferry_encode_key(StringInfo out, FerryOptions *opts, FerryRelInfo *ri,
							 TupleDesc desc, HeapTuple tup, bool hdr);
extern void ferry_write_source(StringInfo out, FerryOptions *opts, const char *dbname,
							   FerrySource *src);
extern void ferry_source_head(StringInfo out, FerryOptions *opts);
extern void ferry_source_st(StringInfo out, const char *schema, const char *table);
extern void ferry_write_tx_block(StringInfo out, uint32 xid, uint64 lsn,
								 int64 total, int64 dc_order);
extern const char *ferry_source_schema(void);
extern const char *ferry_txblock_schema(void);
extern void ferry_write_record(StringInfo out, FerryOptions *opts, FerryRecord *rec);
extern int	ferry_record_begin_value(StringInfo out, FerryOptions *opts, FerryRecord *rec);
extern void ferry_record_end_value(StringInfo out, FerryOptions *opts, FerryRecord *rec,
								   int lenpos);
extern void ferry_write_schema_frame(StringInfo out, FerryOptions *opts, uint32 id,
									 FerryRelInfo *ri);
extern void ferry_add_context_headers(FerryRecord *rec, FerryOptions *opts);
extern void ferry_context_headers_blob(StringInfo out, FerryOptions *opts);
extern int64 ferry_now_us(FerryOptions *opts);

/* relcache.c */
extern FerryRelInfo *ferry_relinfo_build(FerryOptions *opts, Relation rel,
										 MemoryContext cxt);

#endif							/* FERRY_H */
