/*-------------------------------------------------------------------------
 *
 * format.c
 *	  One Kafka record -> one JSON Lines line; gzip of a finished object.
 *
 * A strict single-pass scanner (RFC 8259: UTF-8, escapes, surrogate
 * pairs, numbers, literals, nesting up to 1024 levels) validates each
 * value and notes where the "payload" member of a JsonConverter envelope
 * is; those bytes are then copied into the batch as they are.
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

/* --- a strict single-pass JSON scanner (RFC 8259) --- */

#define SINK_JSON_MAX_DEPTH 1024

/* bytes that end the fast path inside a string: '"', '\\', controls, non-ASCII */
static const unsigned char str_special[256] = {
	[0 ... 0x1f] = 1,['"'] = 1,['\\'] = 1,[0x80 ... 0xff] = 1
};

typedef struct jscan
{
	const unsigned char *p;
	const unsigned char *e;
	bool		newline;		/* a '\n' or '\r' (whitespace) was seen */
} jscan_t;

static inline void
js_ws(jscan_t *s)
{
	while (s->p < s->e)
	{
		unsigned char ch = *s->p;

		if (ch == ' ' || ch == '\t')
			s->p++;
		else if (ch == '\n' || ch == '\r')
		{
			s->newline = true;
			s->p++;
		}
		else
			break;
	}
}

static inline int
hex4(const unsigned char *p)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		unsigned char ch = p[i];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v |= ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v |= ch - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* one UTF-8 sequence starting at a byte >= 0x80; false if invalid */
static inline bool
js_utf8(jscan_t *s)
{
	const unsigned char *p = s->p;
	size_t		left = (size_t) (s->e - p);
	unsigned char c0 = p[0];

	if (c0 >= 0xc2 && c0 <= 0xdf)
	{
		if (left < 2 || (p[1] & 0xc0) != 0x80)
			return false;
		s->p += 2;
		return true;
	}
	if (c0 >= 0xe0 && c0 <= 0xef)
	{
		if (left < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return false;
		if ((c0 == 0xe0 && p[1] < 0xa0) ||	/* overlong */
			(c0 == 0xed && p[1] >= 0xa0))	/* surrogates */
			return false;
		s->p += 3;
		return true;
	}
	if (c0 >= 0xf0 && c0 <= 0xf4)
	{
		if (left < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
			(p[3] & 0xc0) != 0x80)
			return false;
		if ((c0 == 0xf0 && p[1] < 0x90) ||	/* overlong */
			(c0 == 0xf4 && p[1] >= 0x90))	/* above U+10FFFF */
			return false;
		s->p += 4;
		return true;
	}
	return false;
}

/* s->p at '"'; on success s->p is after the closing quote */
static bool
js_string(jscan_t *s, bool *escaped)
{
	const unsigned char *p = s->p + 1;
	const unsigned char *e = s->e;

	for (;;)
	{
		/* fast path: plain ASCII, 4 bytes per step where possible */
		while (e - p >= 4 && !(str_special[p[0]] | str_special[p[1]] |
							   str_special[p[2]] | str_special[p[3]]))
			p += 4;
		while (p < e && !str_special[*p])
			p++;
		if (p >= e)
			return false;
		if (*p == '"')
		{
			s->p = p + 1;
			return true;
		}
		if (*p == '\\')
		{
			if (escaped)
				*escaped = true;
			if (e - p < 2)
				return false;
			switch (p[1])
			{
				case '"':
				case '\\':
				case '/':
				case 'b':
				case 'f':
				case 'n':
				case 'r':
				case 't':
					p += 2;
					break;
				case 'u':
					{
						int			u;

						if (e - p < 6 || (u = hex4(p + 2)) < 0)
							return false;
						p += 6;
						if (u >= 0xdc00 && u <= 0xdfff)
							return false;	/* lone low surrogate */
						if (u >= 0xd800 && u <= 0xdbff)
						{
							int			lo;

							if (e - p < 6 || p[0] != '\\' || p[1] != 'u' ||
								(lo = hex4(p + 2)) < 0 || lo < 0xdc00 || lo > 0xdfff)
								return false;
							p += 6;
						}
						break;
					}
				default:
					return false;
			}
			continue;
		}
		if (*p < 0x20)
			return false;		/* control characters must be escaped */
		s->p = p;
		if (!js_utf8(s))
			return false;
		p = s->p;
	}
}

static bool
js_number(jscan_t *s)
{
	const unsigned char *p = s->p,
			   *e = s->e;

	if (p < e && *p == '-')
		p++;
	if (p >= e)
		return false;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (p < e && *p == '.')
	{
		p++;
		if (p >= e || *p < '0' || *p > '9')
			return false;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E'))
	{
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return false;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	s->p = p;
	return true;
}

static bool
js_literal(jscan_t *s, const char *word, size_t len)
{
	if ((size_t) (s->e - s->p) < len || memcmp(s->p, word, len) != 0)
		return false;
	s->p += len;
	return true;
}

static bool js_value(jscan_t *s, int depth);

static bool
js_object(jscan_t *s, int depth)
{
	s->p++;
	js_ws(s);
	if (s->p < s->e && *s->p == '}')
	{
		s->p++;
		return true;
	}
	for (;;)
	{
		if (s->p >= s->e || *s->p != '"' || !js_string(s, NULL))
			return false;
		js_ws(s);
		if (s->p >= s->e || *s->p != ':')
			return false;
		s->p++;
		js_ws(s);
		if (!js_value(s, depth + 1))
			return false;
		js_ws(s);
		if (s->p >= s->e)
			return false;
		if (*s->p == '}')
		{
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return false;
		s->p++;
		js_ws(s);
	}
}

static bool
js_array(jscan_t *s, int depth)
{
	s->p++;
	js_ws(s);
	if (s->p < s->e && *s->p == ']')
	{
		s->p++;
		return true;
	}
	for (;;)
	{
		if (!js_value(s, depth + 1))
			return false;
		js_ws(s);
		if (s->p >= s->e)
			return false;
		if (*s->p == ']')
		{
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return false;
		s->p++;
		js_ws(s);
	}
}

static bool
js_value(jscan_t *s, int depth)
{
	if (s->p >= s->e)
		return false;
	switch (*s->p)
	{
		case '{':
			return depth < SINK_JSON_MAX_DEPTH && js_object(s, depth);
		case '[':
			return depth < SINK_JSON_MAX_DEPTH && js_array(s, depth);
		case '"':
			return js_string(s, NULL);
		case 't':
			return js_literal(s, "true", 4);
		case 'f':
			return js_literal(s, "false", 5);
		case 'n':
			return js_literal(s, "null", 4);
		default:
			return js_number(s);
	}
}

/*
 * Does the raw member name (between its quotes, possibly with escapes)
 * spell `name` (plain ASCII)?
 */
static bool
key_is(const unsigned char *k, size_t klen, const char *name, bool escaped)
{
	size_t		nlen = strlen(name);
	size_t		i = 0,
				n = 0;

	if (!escaped)
		return klen == nlen && memcmp(k, name, nlen) == 0;
	while (i < klen)
	{
		int			ch = k[i];

		if (ch == '\\')
		{
			if (k[i + 1] == 'u')
			{
				ch = hex4(k + i + 2);
				i += 6;
			}
			else
			{
				ch = k[i + 1];
				i += 2;
			}
		}
		else
			i++;
		if (n >= nlen || ch != (unsigned char) name[n])
			return false;
		n++;
	}
	return n == nlen;
}

/*
 * The top-level object: like js_object, and note where the members
 * "schema" and "payload" are, and how many members there are.
 */
static bool
js_top_object(jscan_t *s, sink_json_scan_t *out)
{
	int			nmembers = 0;
	bool		schema = false;
	const unsigned char *ps = NULL,
			   *pe = NULL;

	s->p++;
	js_ws(s);
	if (s->p < s->e && *s->p == '}')
	{
		s->p++;
		return true;
	}
	for (;;)
	{
		const unsigned char *k;
		bool		escaped = false;

		if (s->p >= s->e || *s->p != '"')
			return false;
		k = s->p + 1;
		if (!js_string(s, &escaped))
			return false;
		nmembers++;
		{
			size_t		klen = (size_t) (s->p - 1 - k);
			bool		is_payload = key_is(k, klen, "payload", escaped);
			bool		is_schema = !is_payload && key_is(k, klen, "schema", escaped);

			js_ws(s);
			if (s->p >= s->e || *s->p != ':')
				return false;
			s->p++;
			js_ws(s);
			if (is_payload)
				ps = s->p;
			if (!js_value(s, 1))
				return false;
			if (is_payload)
				pe = s->p;
			if (is_schema)
				schema = true;
		}
		js_ws(s);
		if (s->p >= s->e)
			return false;
		if (*s->p == '}')
		{
			s->p++;
			break;
		}
		if (*s->p != ',')
			return false;
		s->p++;
		js_ws(s);
	}
	if (nmembers == 2 && schema && ps != NULL)
	{
		out->envelope = true;
		out->payload = (const char *) ps;
		out->payload_len = (size_t) (pe - ps);
	}
	return true;
}

int
sink_json_scan(const char *data, size_t len, sink_json_scan_t *out)
{
	jscan_t		s;
	bool		ok;

	memset(out, 0, sizeof(*out));
	s.p = (const unsigned char *) data;
	s.e = s.p + len;
	s.newline = false;
	js_ws(&s);
	out->start = (const char *) s.p;
	if (s.p < s.e && *s.p == '{')
		ok = js_top_object(&s, out);
	else
		ok = js_value(&s, 0);
	if (!ok)
		return -1;
	out->len = (size_t) ((const char *) s.p - out->start);
	js_ws(&s);
	if (s.p != s.e)
		return -1;				/* something after the value */
	out->newline = s.newline;
	return 0;
}

/* copy JSON text, turning line breaks (whitespace in valid JSON) into spaces */
static void
append_json_oneline(sink_buf_t *out, const char *s, size_t len, bool newline)
{
	size_t		start = out->len;

	sink_buf_append(out, s, len);
	if (!newline)
		return;
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
	sink_json_scan_t js;

	if (sink_json_scan(data, len, &js) != 0)
		return false;
	if (!keep && js.envelope)
		append_json_oneline(out, js.payload, js.payload_len, js.newline);
	else
		append_json_oneline(out, js.start, js.len, js.newline);
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
