/*-------------------------------------------------------------------------
 *
 * frame.c
 *	  In-place parser of the `ferry` plugin's relay frames (B/S/R/C).
 *
 * The parser never copies: every string of a frame is a slice of the
 * buffer it was given (the CopyData buffer, or a snapshot row), so the
 * frame is only valid while that buffer is.  Every length is checked
 * against the buffer; a frame with trailing bytes is rejected, because it
 * means the relay and the plugin disagree on the format.
 *
 * IDENTIFICATION
 *	  relay/frame.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "relay.h"
#include "wire.h"

typedef struct reader
{
	const unsigned char *p;
	const unsigned char *end;
} reader_t;

static bool
rd_u16(reader_t *r, uint16_t *v)
{
	if (r->end - r->p < 2)
		return false;
	*v = (uint16_t) ((r->p[0] << 8) | r->p[1]);
	r->p += 2;
	return true;
}

static bool
rd_u32(reader_t *r, uint32_t *v)
{
	if (r->end - r->p < 4)
		return false;
	*v = ((uint32_t) r->p[0] << 24) | ((uint32_t) r->p[1] << 16) |
		((uint32_t) r->p[2] << 8) | (uint32_t) r->p[3];
	r->p += 4;
	return true;
}

static bool
rd_u64(reader_t *r, uint64_t *v)
{
	uint32_t	hi,
				lo;

	if (!rd_u32(r, &hi) || !rd_u32(r, &lo))
		return false;
	*v = ((uint64_t) hi << 32) | lo;
	return true;
}

static bool
rd_str16(reader_t *r, relay_str_t *s)
{
	uint16_t	len;

	if (!rd_u16(r, &len) || r->end - r->p < len)
		return false;
	s->data = (const char *) r->p;
	s->len = len;
	s->isnull = false;
	r->p += len;
	return true;
}

static bool
rd_str32(reader_t *r, relay_str_t *s)
{
	uint32_t	len;

	if (!rd_u32(r, &len))
		return false;
	if (len == FERRY_WIRE_NULL_LEN)
	{
		s->data = NULL;
		s->len = 0;
		s->isnull = true;
		return true;
	}
	if ((uint64_t) (r->end - r->p) < len)
		return false;
	s->data = (const char *) r->p;
	s->len = len;
	s->isnull = false;
	r->p += len;
	return true;
}

int
relay_frame_parse(const char *buf, size_t len, relay_frame_t *f,
				  char *errbuf, size_t errlen)
{
	reader_t	r = {(const unsigned char *) buf, (const unsigned char *) buf + len};
	uint64_t	u = 0;
	bool		ok;

	memset(f, 0, sizeof(*f));
	if (len < 1)
	{
		snprintf(errbuf, errlen, "empty frame");
		return -1;
	}
	f->type = buf[0];
	r.p++;

	switch (f->type)
	{
		case FERRY_FRAME_BEGIN:
			ok = rd_u32(&r, &f->xid) && rd_u64(&r, &f->final_lsn) && rd_u64(&r, &u);
			f->commit_time = (int64_t) u;
			break;
		case FERRY_FRAME_COMMIT:
			ok = rd_u32(&r, &f->xid) && rd_u64(&r, &f->final_lsn) &&
				rd_u64(&r, &f->end_lsn) && rd_u64(&r, &u);
			f->commit_time = (int64_t) u;
			break;
		case FERRY_FRAME_SCHEMA:
			ok = rd_u32(&r, &f->schema_id) && rd_str16(&r, &f->topic) &&
				rd_str32(&r, &f->key_schema) && rd_str32(&r, &f->value_schema);
			if (ok && f->schema_id == 0)
			{
				snprintf(errbuf, errlen, "schema frame with schema id 0");
				return -1;
			}
			break;
		case FERRY_FRAME_RECORD:
			ok = rd_u32(&r, &f->schema_id);
			if (ok && f->schema_id == 0)
				ok = rd_str16(&r, &f->topic);
			ok = ok && rd_str32(&r, &f->key) && rd_str32(&r, &f->value) &&
				rd_u16(&r, &f->n_headers);
			if (ok)
			{
				f->headers = (const char *) r.p;
				for (int i = 0; ok && i < f->n_headers; i++)
				{
					relay_str_t name,
								value;

					ok = rd_str16(&r, &name) && rd_str32(&r, &value);
				}
			}
			break;
		default:
			snprintf(errbuf, errlen, "unknown frame type 0x%02x",
					 (unsigned char) f->type);
			return -1;
	}

	if (!ok)
	{
		snprintf(errbuf, errlen, "truncated '%c' frame (%zu bytes)", f->type, len);
		return -1;
	}
	if (r.p != r.end)
	{
		snprintf(errbuf, errlen, "'%c' frame has %zu trailing bytes",
				 f->type, (size_t) (r.end - r.p));
		return -1;
	}
	if (f->type == FERRY_FRAME_SCHEMA || (f->type == FERRY_FRAME_RECORD && f->schema_id == 0))
	{
		if (f->topic.len == 0)
		{
			snprintf(errbuf, errlen, "'%c' frame with an empty topic", f->type);
			return -1;
		}
	}
	return 0;
}

void
relay_frame_header_next(const char **cursor, relay_str_t *name, relay_str_t *value)
{
	/* the headers were validated by relay_frame_parse: no bounds checks */
	const unsigned char *p = (const unsigned char *) *cursor;
	uint32_t	len;

	name->len = (uint32_t) ((p[0] << 8) | p[1]);
	name->data = (const char *) p + 2;
	name->isnull = false;
	p += 2 + name->len;
	len = ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
	p += 4;
	if (len == FERRY_WIRE_NULL_LEN)
	{
		value->data = NULL;
		value->len = 0;
		value->isnull = true;
	}
	else
	{
		value->data = (const char *) p;
		value->len = len;
		value->isnull = false;
		p += len;
	}
	*cursor = (const char *) p;
}
