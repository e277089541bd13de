/*-------------------------------------------------------------------------
 *
 * format.h
 *	  One Kafka record -> one JSON Lines line of an object.
 *
 * The default line is {"value":<value>} where <value> is the Debezium
 * payload with its schema removed: the raw bytes of the "payload" member
 * when the value is a JsonConverter envelope {"schema":...,"payload":...},
 * else the value as it is.  The bytes are copied, not re-serialized, so
 * numbers and field order stay exactly as Debezium wrote them.
 *
 * Fields (sink/fields, in the order given): key, value, offset, timestamp,
 * headers, topic, partition.  Tombstones (null values) are written as
 * "value":null or skipped (sink/tombstones).  A value that is not valid
 * JSON is reported (SINK_FORMAT_INVALID) unless invalid.records is raw, in
 * which case it is written as a JSON string.
 *
 * IDENTIFICATION
 *	  sink/format.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SINK_FORMAT_H
#define SINK_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef enum sink_field
{
	SINK_FIELD_KEY,
	SINK_FIELD_VALUE,
	SINK_FIELD_OFFSET,
	SINK_FIELD_TIMESTAMP,
	SINK_FIELD_HEADERS,
	SINK_FIELD_TOPIC,
	SINK_FIELD_PARTITION
} sink_field_t;

typedef enum sink_invalid
{
	SINK_INVALID_STOP,
	SINK_INVALID_RAW,
	SINK_INVALID_DLQ
} sink_invalid_t;

#define SINK_MAX_FIELDS 7

typedef struct sink_format
{
	sink_field_t fields[SINK_MAX_FIELDS];
	int			nfields;
	bool		envelope_keep;	/* value.envelope: keep */
	bool		tombstone_skip; /* tombstones: skip */
	sink_invalid_t invalid;
} sink_format_t;

typedef struct sink_header
{
	const char *name;
	const void *value;			/* NULL for a null header value */
	size_t		len;
} sink_header_t;

/* a record as the formatter sees it (borrowed pointers) */
typedef struct sink_record
{
	const char *topic;
	int32_t		partition;
	int64_t		offset;
	int64_t		timestamp;		/* ms, -1 if none */
	const void *key;			/* NULL: null key */
	size_t		key_len;
	const void *value;			/* NULL: tombstone */
	size_t		value_len;
	const sink_header_t *headers;
	int			nheaders;
} sink_record_t;

#define SINK_FORMAT_WRITTEN 0
#define SINK_FORMAT_SKIPPED 1
#define SINK_FORMAT_INVALID (-1)

/* fill f from configuration words; -1 with errbuf on a bad word */
int			sink_format_init(sink_format_t *f, const char *const *fields, int nfields,
							 const char *envelope, const char *tombstones,
							 const char *invalid, char *errbuf, size_t errlen);

/* append r's line (with '\n') to out, or skip it, or report it invalid */
int			sink_format_record(const sink_format_t *f, const sink_record_t *r,
							   sink_buf_t *out, char *errbuf, size_t errlen);

/* result of sink_json_scan */
typedef struct sink_json_scan
{
	const char *start;			/* the value without surrounding whitespace */
	size_t		len;
	bool		envelope;		/* a top-level object with exactly the members
								 * "schema" and "payload" */
	const char *payload;		/* envelope: the bytes of the payload value */
	size_t		payload_len;
	bool		newline;		/* the value holds '\n' or '\r' (as whitespace) */
} sink_json_scan_t;

/*
 * Validate one JSON text (RFC 8259, any value at top level, nesting up to
 * 1024 levels, strict UTF-8); 0 and *out filled, or -1 when not valid.
 */
int			sink_json_scan(const char *data, size_t len, sink_json_scan_t *out);

/* gzip (RFC 1952) in into out */
int			sink_gzip(const void *in, size_t len, sink_buf_t *out,
					  char *errbuf, size_t errlen);

#endif							/* SINK_FORMAT_H */
