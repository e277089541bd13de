/*-------------------------------------------------------------------------
 *
 * buf.h
 *	  Growable byte buffer used by ferry-sink (batches, requests, names).
 *
 * A sink_buf_t owns its bytes; data is always NUL-terminated after len so
 * it can be used as a C string when it holds text.  Allocation failure is
 * fatal (the daemon cannot continue without memory).
 *
 * IDENTIFICATION
 *	  sink/buf.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SINK_BUF_H
#define SINK_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct sink_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} sink_buf_t;

#define SINK_BUF_INIT {NULL, 0, 0}

void		sink_buf_reserve(sink_buf_t *buf, size_t extra);
void		sink_buf_append(sink_buf_t *buf, const void *data, size_t len);
void		sink_buf_appends(sink_buf_t *buf, const char *str);
void		sink_buf_appendc(sink_buf_t *buf, char c);
void		sink_buf_appendf(sink_buf_t *buf, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
void		sink_buf_reset(sink_buf_t *buf);
void		sink_buf_free(sink_buf_t *buf);

/* append `len` bytes as the body of a JSON string (no quotes); bytes that
 * are not valid UTF-8 are written as \u00XX */
void		sink_buf_append_json_str(sink_buf_t *buf, const char *s, size_t len);

#endif							/* SINK_BUF_H */
