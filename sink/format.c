/*-------------------------------------------------------------------------
 *
 * format.c
 *	  One Kafka record -> one JSON Lines line; gzip of a finished object.
 *
 * jansson validates each value (and tells whether it is a JsonConverter
 * envelope); the payload is then located in the original bytes by a small
 * scanner that only has to step over valid JSON.
 *
 * IDENTIFICATION
 *	  sink/format.c
 *
 *-------------------------------------------------------------------------
 */
#include "format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

int
sink_format_init(sink_format_t *f, const char *const *fields, int nfields,
				 const char *envelope, const char *tombstones,
				 const char *invalid, char *errbuf, size_t errlen)
{
	static const char *const names[] = {
		"key", "value", "offset", "timestamp", "headers", "topic", "partition"
	};

	memset(f, 0, sizeof(*f));
	if (nfields < 1 || nfields > SINK_MAX_FIELDS)
	{
		snprintf(errbuf, errlen, "sink/fields must list 1 to %d of key, value, offset, timestamp, "
				 "headers, topic, partition", SINK_MAX_FIELDS);
		return -1;
	}
	for (int i = 0; i < nfields; i++)
	{
		int			k = -1;

		for (int j = 0; j < SINK_MAX_FIELDS; j++)
			if (strcmp(fields[i], names[j]) == 0)
				k = j;
		if (k < 0)
		{
			snprintf(errbuf, errlen, "invalid field \"%s\" in sink/fields (expected key, value, "
					 "offset, timestamp, headers, topic, partition)", fields[i]);
			return -1;
		}
		for (int j = 0; j < f->nfields; j++)
			if ((int) f->fields[j] == k)
			{
				snprintf(errbuf, errlen, "field \"%s\" appears twice in sink/fields", fields[i]);
				return -1;
			}
		f->fields[f->nfields++] = (sink_field_t) k;
	}
	f->envelope_keep = strcmp(envelope, "keep") == 0;
	f->tombstone_skip = strcmp(tombstones, "skip") == 0;
	if (strcmp(invalid, "raw") == 0)
		f->invalid = SINK_INVALID_RAW;
	else if (strcmp(invalid, "dlq") == 0)
		f->invalid = SINK_INVALID_DLQ;
	else
		f->invalid = SINK_INVALID_STOP;
	return 0;
}

/* --- a scanner over *valid* JSON --- */

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at '"'; returns the position after the closing quote */
static const char *
skip_string(const char *p, const char *e)
{
	p++;
	while (p < e && *p != '"')
		p += (*p == '\\') ? 2 : 1;
	return p < e ? p + 1 : e;
}

static const char *
skip_value(const char *p, const char *e)
{
	int			depth = 0;

	if (p >= e)
		return e;
	if (*p == '"')
		return skip_string(p, e);
	if (*p != '{' && *p != '[')
	{
		while (p < e && *p != ',' && *p != '}' && *p != ']' &&
			   *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		return p;
	}
	while (p < e)
	{
		if (*p == '"')
		{
			p = skip_string(p, e);
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
		{
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return e;
}

/* find member `name` (written without escapes) of the top-level object */
static bool
find_member(const char *p, const char *e, const char *name,
			const char **vstart, const char **vend)
{
	size_t		nlen = strlen(name);

	p = skip_ws(p, e);
	if (p >= e || *p != '{')
		return false;
	p++;
	for (;;)
	{
		const char *kstart,
				   *kend;

		p = skip_ws(p, e);
		if (p >= e || *p != '"')
			return false;
		kstart = p + 1;
		p = skip_string(p, e);
		kend = p - 1;
		p = skip_ws(p, e);
		if (p >= e || *p != ':')
			return false;
		p = skip_ws(p + 1, e);
		*vstart = p;
		p = skip_value(p, e);
		*vend = p;
		if ((size_t) (kend - kstart) == nlen && memcmp(kstart, name, nlen) == 0)
			return true;
		p = skip_ws(p, e);
		if (p >= e || *p != ',')
			return false;
		p++;
	}
}

/* copy JSON text, turning line breaks (whitespace in valid JSON) into spaces */
static void
append_json_oneline(sink_buf_t *out, const char *s, size_t len)
{
	size_t		start = out->len;

	sink_buf_append(out, s, len);
	for (size_t i = start; i < out->len; i++)
		if (out->data[i] == '\n' || out->data[i] == '\r')
			out->data[i] = ' ';
}

/*
 * Append the JSON for a key or value: its payload (or itself) when it is
 * valid JSON; returns false when it is not valid JSON.
 */
static bool
append_json_payload(sink_buf_t *out, const char *data, size_t len, bool keep)
{
	json_error_t jerr;
	json_t	   *root = json_loadb(data, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &jerr);
	const char *vs,
			   *ve;

	if (root == NULL)
		return false;
	if (!keep && json_is_object(root) && json_object_size(root) == 2 &&
		json_object_get(root, "schema") != NULL)
	{
		json_t	   *payload = json_object_get(root, "payload");

		if (payload != NULL)
		{
			if (find_member(data, data + len, "payload", &vs, &ve))
				append_json_oneline(out, vs, (size_t) (ve - vs));
			else
			{
				/* the member name was written with escapes: serialize */
				char	   *s = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);

				sink_buf_appends(out, s);
				free(s);
			}
			json_decref(root);
			return true;
		}
	}
	json_decref(root);
	/* as it is, without surrounding whitespace */
	vs = skip_ws(data, data + len);
	ve = data + len;
	while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\n' || ve[-1] == '\r'))
		ve--;
	append_json_oneline(out, vs, (size_t) (ve - vs));
	return true;
}

static void
append_json_string(sink_buf_t *out, const void *data, size_t len)
{
	sink_buf_appendc(out, '"');
	sink_buf_append_json_str(out, data, len);
	sink_buf_appendc(out, '"');
}

int
sink_format_record(const sink_format_t *f, const sink_record_t *r,
				   sink_buf_t *out, char *errbuf, size_t errlen)
{
	size_t		start = out->len;

	if (r->value == NULL && f->tombstone_skip)
		return SINK_FORMAT_SKIPPED;

	sink_buf_appendc(out, '{');
	for (int i = 0; i < f->nfields; i++)
	{
		if (i > 0)
			sink_buf_appendc(out, ',');
		switch (f->fields[i])
		{
			case SINK_FIELD_KEY:
				sink_buf_appends(out, "\"key\":");
				if (r->key == NULL)
					sink_buf_appends(out, "null");
				else if (!append_json_payload(out, r->key, r->key_len, f->envelope_keep))
					append_json_string(out, r->key, r->key_len);
				break;
			case SINK_FIELD_VALUE:
				sink_buf_appends(out, "\"value\":");
				if (r->value == NULL)
					sink_buf_appends(out, "null");
				else if (!append_json_payload(out, r->value, r->value_len, f->envelope_keep))
				{
					if (f->invalid != SINK_INVALID_RAW)
					{
						snprintf(errbuf, errlen, "value of record at offset %lld of partition %d "
								 "of topic \"%s\" is not valid JSON",
								 (long long) r->offset, (int) r->partition, r->topic);
						out->len = start;
						out->data[start] = '\0';
						return SINK_FORMAT_INVALID;
					}
					append_json_string(out, r->value, r->value_len);
				}
				break;
			case SINK_FIELD_OFFSET:
				sink_buf_appendf(out, "\"offset\":%lld", (long long) r->offset);
				break;
			case SINK_FIELD_TIMESTAMP:
				if (r->timestamp >= 0)
					sink_buf_appendf(out, "\"timestamp\":%lld", (long long) r->timestamp);
				else
					sink_buf_appends(out, "\"timestamp\":null");
				break;
			case SINK_FIELD_HEADERS:
				sink_buf_appends(out, "\"headers\":[");
				for (int h = 0; h < r->nheaders; h++)
				{
					if (h > 0)
						sink_buf_appendc(out, ',');
					sink_buf_appends(out, "{\"key\":");
					append_json_string(out, r->headers[h].name, strlen(r->headers[h].name));
					sink_buf_appends(out, ",\"value\":");
					if (r->headers[h].value == NULL)
						sink_buf_appends(out, "null");
					else
						append_json_string(out, r->headers[h].value, r->headers[h].len);
					sink_buf_appendc(out, '}');
				}
				sink_buf_appendc(out, ']');
				break;
			case SINK_FIELD_TOPIC:
				sink_buf_appends(out, "\"topic\":");
				append_json_string(out, r->topic, strlen(r->topic));
				break;
			case SINK_FIELD_PARTITION:
				sink_buf_appendf(out, "\"partition\":%d", (int) r->partition);
				break;
		}
	}
	sink_buf_append(out, "}\n", 2);
	return SINK_FORMAT_WRITTEN;
}

int
sink_gzip(const void *in, size_t len, sink_buf_t *out, char *errbuf, size_t errlen)
{
	z_stream	zs;
	int			rc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
					 Z_DEFAULT_STRATEGY) != Z_OK)
	{
		snprintf(errbuf, errlen, "could not initialize gzip compression");
		return -1;
	}
	sink_buf_reserve(out, deflateBound(&zs, (uLong) len) + 32);
	zs.next_in = (Bytef *) in;
	zs.avail_in = (uInt) len;
	zs.next_out = (Bytef *) out->data + out->len;
	zs.avail_out = (uInt) (out->cap - out->len - 1);
	rc = deflate(&zs, Z_FINISH);
	if (rc != Z_STREAM_END)
	{
		deflateEnd(&zs);
		snprintf(errbuf, errlen, "could not gzip object: %s", zs.msg ? zs.msg : "deflate failed");
		return -1;
	}
	out->len += zs.total_out;
	out->data[out->len] = '\0';
	deflateEnd(&zs);
	return 0;
}
