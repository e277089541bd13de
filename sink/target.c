/*-------------------------------------------------------------------------
 *
 * target.c
 *	  Dispatch of the storage target by URL scheme (s3:// or file://).
 *
 * IDENTIFICATION
 *	  sink/target.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "target.h"

struct sink_target
{
	char	   *describe;
	char	   *prefix;			/* "" or "dir/" */
	sink_s3_t  *s3;				/* exactly one of s3 and dir is set */
	sink_dir_t *dir;
};

/* "a/b/" from "a/b", "" from "" or "/" */
static char *
normalize_prefix(const char *p)
{
	sink_buf_t	b = SINK_BUF_INIT;

	while (*p == '/')
		p++;
	sink_buf_appends(&b, p);
	while (b.len > 0 && b.data[b.len - 1] == '/')
		b.data[--b.len] = '\0';
	if (b.len > 0)
		sink_buf_appendc(&b, '/');
	return b.data;
}

sink_target_t *
sink_target_new(const char *url, const sink_s3_conf_t *s3conf, bool file_fsync,
				volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	sink_target_t *t = calloc(1, sizeof(*t));

	if (strncmp(url, "s3://", 5) == 0)
	{
		const char *b = url + 5;
		size_t		blen = strcspn(b, "/");
		char	   *bucket = strndup(b, blen);

		if (blen < 3)
		{
			snprintf(errbuf, errlen, "invalid target \"%s\": expected s3://bucket[/prefix]", url);
			free(bucket);
			free(t);
			return NULL;
		}
		t->prefix = normalize_prefix(b + blen);
		t->s3 = sink_s3_new(s3conf, bucket, stop, errbuf, errlen);
		if (asprintf(&t->describe, "s3://%s/%s", bucket, t->prefix) < 0)
			abort();
		free(bucket);
		if (t->s3 == NULL)
		{
			sink_target_free(t);
			return NULL;
		}
	}
	else if (strncmp(url, "file://", 7) == 0)
	{
		t->prefix = strdup("");
		t->dir = sink_dir_new(url + 7, file_fsync, errbuf, errlen);
		t->describe = strdup(url);
		if (t->dir == NULL)
		{
			sink_target_free(t);
			return NULL;
		}
	}
	else
	{
		snprintf(errbuf, errlen, "invalid target \"%s\": expected s3://bucket[/prefix] or file:///path", url);
		free(t);
		return NULL;
	}
	return t;
}

void
sink_target_free(sink_target_t *t)
{
	if (t == NULL)
		return;
	sink_s3_free(t->s3);
	sink_dir_free(t->dir);
	free(t->describe);
	free(t->prefix);
	free(t);
}

const char *
sink_target_describe(const sink_target_t *t)
{
	return t->describe;
}

const char *
sink_target_prefix(const sink_target_t *t)
{
	return t->prefix;
}

int
sink_target_check(sink_target_t *t, char *errbuf, size_t errlen)
{
	if (t->s3)
		return sink_s3_check(t->s3, t->prefix, errbuf, errlen);
	return sink_dir_check(t->dir, errbuf, errlen);
}

int
sink_target_put(sink_target_t *t, const char *name, const void *data, size_t len,
				char *errbuf, size_t errlen)
{
	sink_buf_t	key = SINK_BUF_INIT;
	int			rc;

	sink_buf_appendf(&key, "%s%s", t->prefix, name);
	if (t->s3)
		rc = sink_s3_put(t->s3, key.data, data, len, errbuf, errlen);
	else
		rc = sink_dir_put(t->dir, key.data, data, len, errbuf, errlen);
	sink_buf_free(&key);
	return rc;
}

int
sink_target_list(sink_target_t *t, const char *name_prefix,
				 sink_target_list_cb cb, void *arg, char *errbuf, size_t errlen)
{
	sink_buf_t	key = SINK_BUF_INIT;
	int			rc;

	sink_buf_appendf(&key, "%s%s", t->prefix, name_prefix);
	if (t->s3)
		rc = sink_s3_list(t->s3, key.data, strlen(t->prefix), cb, arg, errbuf, errlen);
	else
		rc = sink_dir_list(t->dir, key.data, strlen(t->prefix), cb, arg, errbuf, errlen);
	sink_buf_free(&key);
	return rc;
}

int
sink_target_delete(sink_target_t *t, const char *name, char *errbuf, size_t errlen)
{
	sink_buf_t	key = SINK_BUF_INIT;
	int			rc;

	sink_buf_appendf(&key, "%s%s", t->prefix, name);
	if (t->s3)
		rc = sink_s3_delete(t->s3, key.data, errbuf, errlen);
	else
		rc = sink_dir_delete(t->dir, key.data, errbuf, errlen);
	sink_buf_free(&key);
	return rc;
}

void
sink_target_get_stats(const sink_target_t *t, sink_target_stats_t *st)
{
	if (t->s3)
		sink_s3_get_stats(t->s3, st);
	else
		memset(st, 0, sizeof(*st));
}
