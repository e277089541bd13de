/*-------------------------------------------------------------------------
 *
 * buf.c
 *	  Growable byte buffer used by ferry-sink.
 *
 * IDENTIFICATION
 *	  sink/buf.c
 *
 *-------------------------------------------------------------------------
 */
#include "buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sink_buf_reserve(sink_buf_t *buf, size_t extra)
{
	size_t		need = buf->len + extra + 1;
	size_t		cap;
	char	   *data;

	if (need <= buf->cap)
		return;
	cap = buf->cap ? buf->cap : 256;
	while (cap < need)
		cap *= 2;
	data = realloc(buf->data, cap);
	if (data == NULL)
	{
		fprintf(stderr, "out of memory (%zu bytes)\n", cap);
		abort();
	}
	buf->data = data;
	buf->cap = cap;
}

void
sink_buf_append(sink_buf_t *buf, const void *data, size_t len)
{
	sink_buf_reserve(buf, len);
	if (len)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

void
sink_buf_appends(sink_buf_t *buf, const char *str)
{
	sink_buf_append(buf, str, strlen(str));
}

void
sink_buf_appendc(sink_buf_t *buf, char c)
{
	sink_buf_reserve(buf, 1);
	buf->data[buf->len++] = c;
	buf->data[buf->len] = '\0';
}

void
sink_buf_appendf(sink_buf_t *buf, const char *fmt,...)
{
	va_list		ap;
	int			n;

	sink_buf_reserve(buf, 64);
	va_start(ap, fmt);
	n = vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n >= buf->cap - buf->len)
	{
		sink_buf_reserve(buf, (size_t) n);
		va_start(ap, fmt);
		vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap);
		va_end(ap);
	}
	buf->len += (size_t) n;
}

void
sink_buf_reset(sink_buf_t *buf)
{
	buf->len = 0;
	if (buf->data)
		buf->data[0] = '\0';
}

void
sink_buf_free(sink_buf_t *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

/* length of the valid UTF-8 sequence at s (max n bytes), 0 if invalid */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t		len;
	uint32_t	cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0)
		len = 2, cp = s[0] & 0x1F;
	else if ((s[0] & 0xF0) == 0xE0)
		len = 3, cp = s[0] & 0x0F;
	else if ((s[0] & 0xF8) == 0xF0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		(len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		(cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

void
sink_buf_append_json_str(sink_buf_t *buf, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	sink_buf_reserve(buf, len + 2);
	while (i < len)
	{
		unsigned char c = p[i];
		size_t		n;

		switch (c)
		{
			case '"':
				sink_buf_append(buf, "\\\"", 2);
				i++;
				continue;
			case '\\':
				sink_buf_append(buf, "\\\\", 2);
				i++;
				continue;
			case '\n':
				sink_buf_append(buf, "\\n", 2);
				i++;
				continue;
			case '\r':
				sink_buf_append(buf, "\\r", 2);
				i++;
				continue;
			case '\t':
				sink_buf_append(buf, "\\t", 2);
				i++;
				continue;
			default:
				break;
		}
		if (c < 0x20)
		{
			sink_buf_appendf(buf, "\\u%04x", c);
			i++;
			continue;
		}
		n = utf8_seq_len(p + i, len - i);
		if (n == 0)
		{
			/* not UTF-8: keep the byte, read as Latin-1 */
			sink_buf_appendf(buf, "\\u%04x", c);
			i++;
			continue;
		}
		sink_buf_append(buf, p + i, n);
		i += n;
	}
}
