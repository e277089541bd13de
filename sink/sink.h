/*-------------------------------------------------------------------------
 *
 * sink.h
 *	  ferry-sink: drain Kafka table topics into S3 (or a directory),
 *	  every record exactly once.
 *
 * Modules:
 *	  main.c         options, configuration table, startup checks, signals
 *	  consumer.c     the consume -> batch -> store -> commit loop, rebalances,
 *	                 recovery of stale objects, stats
 *	  format.c       record -> JSON line; gzip
 *	  template.c     object names
 *	  target.c       s3:// or file:// dispatch; s3.c (S3 client), sigv4.c
 *	                 (signing), target_file.c (directory)
 *
 * IDENTIFICATION
 *	  sink/sink.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SINK_SINK_H
#define SINK_SINK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"

#define SINK_VERSION "0.1.0"

/* exit codes */
#define SINK_EXIT_OK		0	/* stopped by SIGTERM/SIGINT, or a successful check */
#define SINK_EXIT_RUNTIME	1	/* invalid record (policy stop), Kafka fatal error,
								 * S3 retries exhausted */
#define SINK_EXIT_CONFIG	2	/* usage or configuration error */
#define SINK_EXIT_TARGET	3	/* bucket/directory unusable: credentials,
								 * permissions, missing bucket */
#define SINK_EXIT_KAFKA		4	/* --check-config: Kafka unreachable */

typedef struct sink_config
{
	cfg_map_t	kafka;			/* top-level kafka: (shared with the relay) */
	cfg_map_t	sink_kafka;		/* sink/kafka: consumer-only properties */
	cfg_list_t	topics;
	char	   *group_id;
	char	   *target;
	char	   *template_text;
	cfg_list_t	fields;
	char	   *value_envelope;
	char	   *tombstones;
	char	   *invalid_records;
	char	   *dlq_prefix;
	char	   *compression;
	int64_t		flush_size;
	int64_t		flush_bytes;
	int64_t		flush_interval_ms;
	int64_t		buffer_max_bytes;
	bool		recovery_scan;
	char	   *commit_mode;
	bool		commit_sync;	/* commit.mode == sync (derived) */
	int64_t		stats_interval_ms;
	int64_t		upload_threads;
	char	   *log_level;
	char	   *s3_endpoint;
	char	   *s3_region;
	char	   *s3_access_key_id;
	char	   *s3_secret_access_key;
	char	   *s3_session_token;
	char	   *s3_path_style;
	bool		s3_tls_verify;
	char	   *s3_ca_file;
	int64_t		s3_part_size;
	int64_t		s3_connect_timeout_ms;
	int64_t		s3_request_timeout_ms;
	int64_t		s3_retries;
	int64_t		s3_retry_backoff_ms;
	int64_t		s3_retry_backoff_max_ms;
	bool		file_fsync;
} sink_config_t;

typedef struct sink_consumer sink_consumer_t;
struct sink_target;
struct sink_template;
struct rd_kafka_conf_s;

extern volatile sig_atomic_t sink_stop_requested;

/*
 * Create the consumer.  Takes ownership of rkconf (also on failure), borrows
 * conf, the targets (one per upload thread, same destination) and tmpl for
 * its lifetime.
 */
sink_consumer_t *sink_consumer_new(const sink_config_t *conf,
								   struct rd_kafka_conf_s *rkconf,
								   struct sink_target **targets, int ntargets,
								   struct sink_template *tmpl,
								   char *errbuf, size_t errlen);

/* run until a stop is requested or a fatal error; returns an exit code */
int			sink_consumer_run(sink_consumer_t *c);

void		sink_consumer_free(sink_consumer_t *c);

#endif							/* SINK_SINK_H */
