/*-------------------------------------------------------------------------
 *
 * target.h
 *	  Where ferry-sink stores objects: an S3 bucket or a local directory.
 *
 * The target is chosen by sink/target: "s3://bucket[/prefix]" or
 * "file:///path[/prefix]".  Both kinds store whole objects atomically
 * (S3 PUT / multipart complete; temp file + fsync + rename) under
 * "<prefix>/<name>", so an object is either absent or complete, and a
 * second store of the same name replaces it.
 *
 * Every call returns SINK_OK, SINK_ERR_RETRY (a transient failure that
 * outlived the retries, or a stop was requested while waiting) or
 * SINK_ERR_FATAL (credentials, permissions, missing bucket: retrying
 * cannot help), with a message in errbuf.
 *
 * IDENTIFICATION
 *	  sink/target.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SINK_TARGET_H
#define SINK_TARGET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SINK_OK			0
#define SINK_ERR_RETRY	(-1)
#define SINK_ERR_FATAL	(-2)

/* S3 settings, borrowed from the configuration */
typedef struct sink_s3_conf
{
	const char *endpoint;		/* NULL: https://s3.<region>.amazonaws.com */
	const char *region;
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* may be NULL */
	const char *path_style;		/* "auto", "true", "false" */
	bool		tls_verify;
	const char *ca_file;		/* may be NULL */
	int64_t		part_size;
	int64_t		connect_timeout_ms;
	int64_t		request_timeout_ms;
	int64_t		retries;		/* -1: retry transient errors forever */
	int64_t		retry_backoff_ms;
	int64_t		retry_backoff_max_ms;
} sink_s3_conf_t;

typedef struct sink_target sink_target_t;

/* called once per listed object name (prefix included); non-zero stops */
typedef int (*sink_target_list_cb) (const char *name, void *arg);

/*
 * Open the target described by url.  `stop` is polled while waiting between
 * retries so a SIGTERM is not held up by an outage (may be NULL).
 */
sink_target_t *sink_target_new(const char *url, const sink_s3_conf_t *s3conf,
							   bool file_fsync,
							   volatile sig_atomic_t *stop,
							   char *errbuf, size_t errlen);
void		sink_target_free(sink_target_t *t);

/* "s3://bucket/prefix" or the directory, for messages */
const char *sink_target_describe(const sink_target_t *t);

/* the key prefix ("" or ending in '/') that every name gets */
const char *sink_target_prefix(const sink_target_t *t);

/* check that the bucket/directory exists and is usable with our credentials */
int			sink_target_check(sink_target_t *t, char *errbuf, size_t errlen);

/* store data under prefix+name, replacing what is there */
int			sink_target_put(sink_target_t *t, const char *name,
							const void *data, size_t len,
							char *errbuf, size_t errlen);

/* list the names (without the target prefix) that start with prefix+name_prefix */
int			sink_target_list(sink_target_t *t, const char *name_prefix,
							 sink_target_list_cb cb, void *arg,
							 char *errbuf, size_t errlen);

/* delete prefix+name; deleting a missing object succeeds */
int			sink_target_delete(sink_target_t *t, const char *name,
							   char *errbuf, size_t errlen);

/* counters for the stats line */
typedef struct sink_target_stats
{
	uint64_t	requests;
	uint64_t	retries;
} sink_target_stats_t;

void		sink_target_get_stats(const sink_target_t *t, sink_target_stats_t *st);

/* --- S3 client (s3.c) --- */
typedef struct sink_s3 sink_s3_t;

sink_s3_t  *sink_s3_new(const sink_s3_conf_t *conf, const char *bucket,
						volatile sig_atomic_t *stop, char *errbuf, size_t errlen);
void		sink_s3_free(sink_s3_t *s3);
int			sink_s3_check(sink_s3_t *s3, const char *prefix, char *errbuf, size_t errlen);
int			sink_s3_put(sink_s3_t *s3, const char *key, const void *data, size_t len,
						char *errbuf, size_t errlen);
int			sink_s3_list(sink_s3_t *s3, const char *prefix, size_t strip,
						 sink_target_list_cb cb, void *arg,
						 char *errbuf, size_t errlen);
int			sink_s3_delete(sink_s3_t *s3, const char *key, char *errbuf, size_t errlen);
void		sink_s3_get_stats(const sink_s3_t *s3, sink_target_stats_t *st);

/* --- local directory (target_file.c) --- */
typedef struct sink_dir sink_dir_t;

sink_dir_t *sink_dir_new(const char *root, bool fsync, char *errbuf, size_t errlen);
void		sink_dir_free(sink_dir_t *d);
int			sink_dir_check(sink_dir_t *d, char *errbuf, size_t errlen);
int			sink_dir_put(sink_dir_t *d, const char *key, const void *data, size_t len,
						 char *errbuf, size_t errlen);
int			sink_dir_list(sink_dir_t *d, const char *prefix, size_t strip,
						  sink_target_list_cb cb, void *arg,
						  char *errbuf, size_t errlen);
int			sink_dir_delete(sink_dir_t *d, const char *key, char *errbuf, size_t errlen);

#endif							/* SINK_TARGET_H */
