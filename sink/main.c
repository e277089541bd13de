/*-------------------------------------------------------------------------
 *
 * main.c
 *	  ferry-sink: options, configuration, startup checks, signals.
 *
 *	  ferry-sink -c ferry.yaml                run
 *	  ferry-sink -c ferry.yaml --check-config validate, reach Kafka, check
 *	                                          the bucket, exit
 *	  ferry-sink -c ferry.yaml --dump-config  print the effective settings
 *	  ferry-sink --help | --version
 *
 * The file is the one the relay reads; the sink reads the sections kafka:
 * (shared pass-through) and sink:, and skips postgres: and relay:.
 *
 * IDENTIFICATION
 *	  sink/main.c
 *
 *-------------------------------------------------------------------------
 */
#include <getopt.h>
#include <regex.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <librdkafka/rdkafka.h>

#include "cfg.h"
#include "log.h"
#include "sink.h"
#include "target.h"
#include "template.h"



static const char *const envelope_choices[] = {"payload", "keep", NULL};
static const char *const tombstone_choices[] = {"write", "skip", NULL};
static const char *const invalid_choices[] = {"stop", "raw", "dlq", NULL};
static const char *const compression_choices[] = {"none", "gzip", NULL};
static const char *const level_choices[] = {"error", "warning", "info", "debug", NULL};
static const char *const path_style_choices[] = {"auto", "true", "false", NULL};
static const char *const commit_choices[] = {"sync", "async", NULL};

#define OFF(f) offsetof(sink_config_t, f)
/* librdkafka consumer defaults of the sink (see build_kafka_conf) */
#define SINK_DEFAULT_QUEUED_KBYTES "16384"
#define SINK_DEFAULT_FETCH_MAX_BYTES "8388608"
#define MiB (1024 * 1024)

static const cfg_option_t sink_options[] = {
	{"kafka", CFG_MAP, OFF(kafka), NULL, 0, 0, NULL, NULL, 0,
	"librdkafka properties shared with the relay (bootstrap.servers, security), passed verbatim"},
	{"sink/kafka", CFG_MAP, OFF(sink_kafka), NULL, 0, 0, NULL, NULL, 0,
	"librdkafka consumer properties for the sink only, applied after kafka:; the sink's own defaults "
	"bound memory: queued.max.messages.kbytes " SINK_DEFAULT_QUEUED_KBYTES ", fetch.max.bytes "
	SINK_DEFAULT_FETCH_MAX_BYTES " (override them here)"},
	{"sink/topics", CFG_LIST, OFF(topics), "^debezium\\..*", 0, 0, NULL, NULL, 0,
	"topics to drain: names, or regular expressions starting with ^"},
	{"sink/group.id", CFG_STRING, OFF(group_id), "ferry-sink", 0, 0, NULL, NULL, 0,
	"Kafka consumer group; sink processes in one group share the partitions"},
	{"sink/target", CFG_STRING, OFF(target), "s3://commerce", 0, 0, NULL, "FERRY_SINK_TARGET", 0,
	"where objects go: s3://bucket[/prefix] or file:///directory"},
	{"sink/template", CFG_STRING, OFF(template_text), SINK_DEFAULT_TEMPLATE, 0, 0, NULL, NULL, 0,
	"object name: {topic} {partition[:padding=true]} {start_offset[:padding=true]} {timestamp:unit=yyyy|MM|dd|HH} (Aiven {{...}} too)"},
	{"sink/fields", CFG_LIST, OFF(fields), "value", 0, 0, NULL, NULL, 0,
	"fields of each JSON line, in order: key, value, offset, timestamp, headers, topic, partition"},
	{"sink/value.envelope", CFG_ENUM, OFF(value_envelope), "payload", 0, 0, envelope_choices, NULL, 0,
	"payload: write the payload of {\"schema\":...,\"payload\":...} envelopes; keep: write values as they are"},
	{"sink/tombstones", CFG_ENUM, OFF(tombstones), "write", 0, 0, tombstone_choices, NULL, 0,
	"records with a null value: write them as {\"value\":null} (every offset has a line) or skip them (offsets still advance)"},
	{"sink/invalid.records", CFG_ENUM, OFF(invalid_records), "stop", 0, 0, invalid_choices, NULL, 0,
	"a value that is not JSON: stop (exit 1, nothing committed), raw (write it as a JSON string), dlq (store it under dlq.prefix)"},
	{"sink/dlq.prefix", CFG_STRING, OFF(dlq_prefix), "dead-letter/", 0, 0, NULL, NULL, 0,
	"name prefix of dead-letter objects: <prefix><topic>/<partition>-<offset>.bin"},
	{"sink/compression", CFG_ENUM, OFF(compression), "none", 0, 0, compression_choices, NULL, 0,
	"none, or gzip (names get .gz appended)"},
	{"sink/flush.size", CFG_INT, OFF(flush_size), "20", 1, 100000000, NULL, NULL, 0,
	"records per object (per partition)"},
	{"sink/flush.bytes", CFG_INT, OFF(flush_bytes), "67108864", 1024, 4294967295LL, NULL, NULL, 0,
	"store a batch when its uncompressed size reaches this many bytes"},
	{"sink/flush.interval.ms", CFG_INT, OFF(flush_interval_ms), "60000", 0, 86400000, NULL, NULL, 0,
	"store a batch this long after its first record even if no more records come (0: never)"},
	{"sink/buffer.max.bytes", CFG_INT, OFF(buffer_max_bytes), "33554432", 1024, 68719476736LL, NULL, NULL, 0,
	"all partitions' batches together (open, waiting and being stored); above it the largest batch is stored early"},
	{"sink/recovery.scan", CFG_BOOL, OFF(recovery_scan), "true", 0, 0, NULL, NULL, 0,
	"on assignment, delete objects of the partition that start beyond its committed offset"},
	{"sink/commit.mode", CFG_ENUM, OFF(commit_mode), "sync", 0, 0, commit_choices, NULL, 0,
	"sync: commit each object's offset before storing the partition's next object; async: don't wait (faster; needs recovery.scan)"},
	{"sink/upload.threads", CFG_INT, OFF(upload_threads), "4", 1, 32, NULL, NULL, 0,
	"objects of different partitions stored in parallel (each partition's objects stay in order)"},
	{"sink/stats.interval.ms", CFG_INT, OFF(stats_interval_ms), "60000", 0, 86400000, NULL, NULL, 0,
	"period of the stats log line (0: off)"},
	{"sink/log.level", CFG_ENUM, OFF(log_level), "info", 0, 0, level_choices, "FERRY_LOG_LEVEL", 0,
	"error, warning, info or debug"},
	{"sink/s3/endpoint", CFG_STRING, OFF(s3_endpoint), NULL, 0, 0, NULL, "AWS_ENDPOINT_URL", 0,
	"S3 endpoint URL, e.g. http://127.0.0.1:9000 (default https://s3.<region>.amazonaws.com)"},
	{"sink/s3/region", CFG_STRING, OFF(s3_region), "us-east-1", 0, 0, NULL, "AWS_REGION", 0,
	"signing region"},
	{"sink/s3/access.key.id", CFG_STRING, OFF(s3_access_key_id), NULL, 0, 0, NULL, "AWS_ACCESS_KEY_ID", 0,
	"access key id"},
	{"sink/s3/secret.access.key", CFG_STRING, OFF(s3_secret_access_key), NULL, 0, 0, NULL, "AWS_SECRET_ACCESS_KEY", CFG_SECRET,
	"secret access key"},
	{"sink/s3/session.token", CFG_STRING, OFF(s3_session_token), NULL, 0, 0, NULL, "AWS_SESSION_TOKEN", CFG_SECRET,
	"session token of temporary credentials"},
	{"sink/s3/path.style", CFG_ENUM, OFF(s3_path_style), "auto", 0, 0, path_style_choices, NULL, 0,
	"path-style URLs (http://host/bucket/key): auto = when an endpoint is set; false = virtual-hosted"},
	{"sink/s3/tls.verify", CFG_BOOL, OFF(s3_tls_verify), "true", 0, 0, NULL, NULL, 0,
	"verify the server certificate for https endpoints"},
	{"sink/s3/ca.file", CFG_STRING, OFF(s3_ca_file), NULL, 0, 0, NULL, NULL, 0,
	"CA bundle for https endpoints (default: the system's)"},
	{"sink/s3/part.size", CFG_INT, OFF(s3_part_size), "16777216", 5 * MiB, 5368709120LL, NULL, NULL, 0,
	"objects larger than this are sent as a multipart upload with parts of this size"},
	{"sink/s3/connect.timeout.ms", CFG_INT, OFF(s3_connect_timeout_ms), "10000", 100, 600000, NULL, NULL, 0,
	"TCP/TLS connect timeout"},
	{"sink/s3/request.timeout.ms", CFG_INT, OFF(s3_request_timeout_ms), "120000", 1000, 3600000, NULL, NULL, 0,
	"timeout of one request"},
	{"sink/s3/retries", CFG_INT, OFF(s3_retries), "-1", -1, 1000000, NULL, NULL, 0,
	"retries of a failing request (5xx, throttling, timeouts); -1: forever"},
	{"sink/s3/retry.backoff.ms", CFG_INT, OFF(s3_retry_backoff_ms), "200", 1, 600000, NULL, NULL, 0,
	"first retry delay, doubled each time"},
	{"sink/s3/retry.backoff.max.ms", CFG_INT, OFF(s3_retry_backoff_max_ms), "10000", 1, 3600000, NULL, NULL, 0,
	"longest retry delay"},
	{"sink/file/fsync", CFG_BOOL, OFF(file_fsync), "true", 0, 0, NULL, NULL, 0,
	"file:// target: fsync each object and its directory before committing"},
	{NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0, NULL}
};

static const char *const foreign_sections[] = {"postgres", "relay", NULL};

static void
usage(FILE *out)
{
	fprintf(out,
			"ferry-sink drains Kafka table topics into S3 or a directory, every record exactly once.\n\n"
			"Usage:\n"
			"  ferry-sink -c FILE [--check-config | --dump-config]\n\n"
			"Options:\n"
			"  -c, --config=FILE   configuration file (sections kafka: and sink:)\n"
			"      --check-config  validate the file, reach Kafka, check the bucket, then exit\n"
			"      --dump-config   print the effective settings (secrets redacted), then exit\n"
			"  -v, --verbose       log at debug level\n"
			"  -V, --version       print the version, then exit\n"
			"  -h, --help          show this help, then exit\n\n"
			"Exit status: 0 stopped by SIGTERM/SIGINT (after storing and committing what was\n"
			"buffered) or check passed; 1 runtime failure (record not JSON with\n"
			"invalid.records=stop, fatal Kafka error, S3 retries exhausted); 2 usage or\n"
			"configuration error; 3 bucket or directory unusable (AccessDenied,\n"
			"SignatureDoesNotMatch, InvalidAccessKeyId, NoSuchBucket, ...); 4 Kafka unreachable\n"
			"(--check-config).\n\n"
			"Settings (path, type, default, environment override):\n");
	cfg_help(sink_options, out);
}

static void
handle_stop(int sig)
{
	(void) sig;
	sink_stop_requested = 1;
}

/* SIGHUP: there is nothing to reload; say so rather than die (the default action) */
static void
handle_hup(int sig)
{
	static const char msg[] = "ferry-sink: SIGHUP ignored: restart ferry-sink to apply a new configuration\n";

	(void) sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
	{
		/* nothing to do */
	}
}

static void
kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void) rk;
	if (level <= 3)
		log_error("librdkafka %s: %s", fac, buf);
	else if (level == 4)
		log_warning("librdkafka %s: %s", fac, buf);
	else if (level <= 6)
		log_info("librdkafka %s: %s", fac, buf);
	else
		log_debug("librdkafka %s: %s", fac, buf);
}

static int
kafka_set(rd_kafka_conf_t *rkconf, const char *file, int line,
		  const char *key, const char *value)
{
	char		errstr[512];

	if (rd_kafka_conf_set(rkconf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
	{
		if (line > 0)
			log_error("%s:%d: invalid Kafka property \"%s\": %s", file, line, key, errstr);
		else
			log_error("invalid Kafka property \"%s\": %s", key, errstr);
		return -1;
	}
	return 0;
}

/* the librdkafka configuration: our defaults, kafka:, sink/kafka:, forced settings */
static rd_kafka_conf_t *
build_kafka_conf(const sink_config_t *conf, const char *file)
{
	rd_kafka_conf_t *rkconf = rd_kafka_conf_new();
	const cfg_map_t *maps[] = {&conf->kafka, &conf->sink_kafka};

	if (kafka_set(rkconf, file, 0, "client.id", "ferry-sink") ||
		kafka_set(rkconf, file, 0, "auto.offset.reset", "earliest") ||
		kafka_set(rkconf, file, 0, "topic.metadata.refresh.interval.ms", "10000") ||
		/* bound librdkafka's prefetch (its defaults, 64 MiB queued and 50 MiB per fetch,
		 * dominate the sink's memory); kafka: or sink/kafka: override these */
		kafka_set(rkconf, file, 0, "queued.max.messages.kbytes", SINK_DEFAULT_QUEUED_KBYTES) ||
		kafka_set(rkconf, file, 0, "fetch.max.bytes", SINK_DEFAULT_FETCH_MAX_BYTES))
		goto fail;
	for (int m = 0; m < 2; m++)
		for (cfg_pair_t *kv = maps[m]->head; kv; kv = kv->next)
		{
			if ((strcmp(kv->key, "enable.auto.commit") == 0 ||
				 strcmp(kv->key, "enable.auto.offset.store") == 0) &&
				strcmp(kv->value, "false") != 0)
			{
				log_error("%s:%d: Kafka property \"%s\" must be false: the sink commits offsets "
						  "itself, after the objects holding them are stored", file, kv->line, kv->key);
				goto fail;
			}
			if (strcmp(kv->key, "group.id") == 0)
			{
				log_error("%s:%d: set the consumer group with sink/group.id, not in a kafka map",
						  file, kv->line);
				goto fail;
			}
			if (kafka_set(rkconf, file, kv->line, kv->key, kv->value) != 0)
				goto fail;
		}
	if (kafka_set(rkconf, file, 0, "group.id", conf->group_id) ||
		kafka_set(rkconf, file, 0, "enable.auto.commit", "false") ||
		kafka_set(rkconf, file, 0, "enable.auto.offset.store", "false"))
		goto fail;
	rd_kafka_conf_set_log_cb(rkconf, kafka_log_cb);
	return rkconf;

fail:
	rd_kafka_conf_destroy(rkconf);
	return NULL;
}

/* --check-config: reach the brokers and list the topics we would drain */
static int
check_kafka(const sink_config_t *conf, const char *file)
{
	rd_kafka_conf_t *rkconf = build_kafka_conf(conf, file);
	rd_kafka_t *rk;
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;
	char		errstr[512];
	int			matched = 0;

	if (rkconf == NULL)
		return SINK_EXIT_CONFIG;
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkconf, errstr, sizeof(errstr));
	if (rk == NULL)
	{
		rd_kafka_conf_destroy(rkconf);
		log_error("could not create Kafka consumer: %s", errstr);
		return SINK_EXIT_CONFIG;
	}
	err = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
	if (err)
	{
		log_error("could not reach Kafka: %s", rd_kafka_err2str(err));
		rd_kafka_destroy(rk);
		return SINK_EXIT_KAFKA;
	}
	for (int i = 0; i < md->topic_cnt; i++)
		for (cfg_pair_t *t = conf->topics.head; t; t = t->next)
		{
			bool		hit;

			if (t->value[0] == '^')
			{
				regex_t		re;

				hit = regcomp(&re, t->value, REG_EXTENDED | REG_NOSUB) == 0 &&
					regexec(&re, md->topics[i].topic, 0, NULL, 0) == 0;
				regfree(&re);
			}
			else
				hit = strcmp(t->value, md->topics[i].topic) == 0;
			if (hit)
			{
				log_info("topic \"%s\" (%d partitions) matches \"%s\"", md->topics[i].topic,
						 md->topics[i].partition_cnt, t->value);
				matched++;
				break;
			}
		}
	log_info("Kafka reachable: %d brokers, %d topics, %d of them to drain",
			 md->broker_cnt, md->topic_cnt, matched);
	rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	return SINK_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 1},
		{"dump-config", no_argument, NULL, 2},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *file = NULL;
	bool		check = false,
				dump = false,
				verbose = false;
	sink_config_t conf;
	char		errbuf[2048];
	log_level_t level;
	sink_s3_conf_t s3conf;
	sink_target_t *target = NULL;	/* targets[0] */
	sink_target_t *targets[32] = {NULL};
	int			ntargets = 0;
	sink_template_t *tmpl = NULL;
	sink_consumer_t *consumer = NULL;
	rd_kafka_conf_t *rkconf;
	struct sigaction sa;
	int			c;
	int			rc;

	log_init("ferry-sink", LOG_LEVEL_INFO);

	/*
	 * Signal handlers first: a SIGTERM that arrives while the sink is still
	 * checking its target or joining the group must end in an orderly stop
	 * (exit 0), not in the default action.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handle_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = handle_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "c:vVh", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'c':
				file = optarg;
				break;
			case 1:
				check = true;
				break;
			case 2:
				dump = true;
				break;
			case 'v':
				verbose = true;
				break;
			case 'V':
				printf("ferry-sink %s (librdkafka %s, %s)\n", SINK_VERSION,
					   rd_kafka_version_str(), curl_version());
				return SINK_EXIT_OK;
			case 'h':
				usage(stdout);
				return SINK_EXIT_OK;
			default:
				fprintf(stderr, "Try \"ferry-sink --help\" for more information.\n");
				return SINK_EXIT_CONFIG;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "ferry-sink: unexpected argument \"%s\"\n"
				"Try \"ferry-sink --help\" for more information.\n", argv[optind]);
		return SINK_EXIT_CONFIG;
	}
	if (file == NULL)
	{
		fprintf(stderr, "ferry-sink: no configuration file given (use -c FILE)\n"
				"Try \"ferry-sink --help\" for more information.\n");
		return SINK_EXIT_CONFIG;
	}

	memset(&conf, 0, sizeof(conf));
	if (cfg_load(file, sink_options, foreign_sections, &conf, errbuf, sizeof(errbuf)) != 0)
	{
		log_error("%s", errbuf);
		cfg_free(sink_options, &conf);	/* what was loaded before the error */
		return SINK_EXIT_CONFIG;
	}
	if (log_level_parse(conf.log_level, &level))
		log_min_level = level;
	if (verbose)
		log_min_level = LOG_LEVEL_DEBUG;
	if (dump)
	{
		cfg_dump(sink_options, &conf, stdout);
		cfg_free(sink_options, &conf);
		return SINK_EXIT_OK;
	}

	/* validate what the loader cannot */
	rc = SINK_EXIT_CONFIG;
	if (conf.topics.count == 0)
	{
		log_error("%s: sink/topics is empty", file);
		goto done;
	}
	tmpl = sink_template_parse(conf.template_text,
							   strcmp(conf.compression, "gzip") == 0 ? ".gz" : NULL,
							   errbuf, sizeof(errbuf));
	if (tmpl == NULL)
	{
		log_error("%s:%d: %s", file, cfg_line_of(sink_options, &conf, "sink/template"), errbuf);
		goto done;
	}
	conf.commit_sync = strcmp(conf.commit_mode, "sync") == 0;
	if (!conf.commit_sync && !conf.recovery_scan)
	{
		log_error("%s:%d: sink/commit.mode \"async\" needs sink/recovery.scan: after a crash, "
				  "objects beyond the committed offset must be deleted", file,
				  cfg_line_of(sink_options, &conf, "sink/commit.mode"));
		goto done;
	}
	if (conf.s3_retry_backoff_max_ms < conf.s3_retry_backoff_ms)
		conf.s3_retry_backoff_max_ms = conf.s3_retry_backoff_ms;

	memset(&s3conf, 0, sizeof(s3conf));
	s3conf.endpoint = conf.s3_endpoint;
	s3conf.region = conf.s3_region;
	s3conf.access_key_id = conf.s3_access_key_id;
	s3conf.secret_access_key = conf.s3_secret_access_key;
	s3conf.session_token = conf.s3_session_token;
	s3conf.path_style = conf.s3_path_style;
	s3conf.tls_verify = conf.s3_tls_verify;
	s3conf.ca_file = conf.s3_ca_file;
	s3conf.part_size = conf.s3_part_size;
	s3conf.connect_timeout_ms = conf.s3_connect_timeout_ms;
	s3conf.request_timeout_ms = conf.s3_request_timeout_ms;
	s3conf.retries = conf.s3_retries;
	s3conf.retry_backoff_ms = conf.s3_retry_backoff_ms;
	s3conf.retry_backoff_max_ms = conf.s3_retry_backoff_max_ms;

	/* Kafka properties first: a rejected one is a configuration error */
	rkconf = build_kafka_conf(&conf, file);
	if (rkconf == NULL)
		goto done;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	srandom((unsigned) time(NULL) ^ (unsigned) getpid());
	/* one target (and so one HTTP connection) per upload thread */
	for (ntargets = 0; ntargets < conf.upload_threads; ntargets++)
	{
		targets[ntargets] = sink_target_new(conf.target, &s3conf, conf.file_fsync,
											&sink_stop_requested, errbuf, sizeof(errbuf));
		if (targets[ntargets] == NULL)
		{
			log_error("%s", errbuf);
			rd_kafka_conf_destroy(rkconf);
			goto done;
		}
	}
	target = targets[0];

	rc = sink_target_check(target, errbuf, sizeof(errbuf));
	if (rc == SINK_ERR_FATAL)
	{
		log_error("%s", errbuf);
		rd_kafka_conf_destroy(rkconf);
		rc = SINK_EXIT_TARGET;
		goto done;
	}
	if (rc != SINK_OK)
	{
		if (check)
		{
			log_error("%s", errbuf);
			rd_kafka_conf_destroy(rkconf);
			rc = SINK_EXIT_TARGET;
			goto done;
		}
		log_warning("%s; continuing, stores will be retried", errbuf);
	}
	else
		log_info("target %s is usable", sink_target_describe(target));

	if (check)
	{
		rd_kafka_conf_destroy(rkconf);
		rc = check_kafka(&conf, file);
		if (rc == SINK_EXIT_OK)
			printf("ferry-sink: configuration \"%s\" is valid; Kafka and %s are reachable\n",
				   file, sink_target_describe(target));
		goto done;
	}

	consumer = sink_consumer_new(&conf, rkconf, targets, ntargets, tmpl, errbuf, sizeof(errbuf));
	rkconf = NULL;				/* owned by the consumer now, also on failure */
	if (consumer == NULL)
	{
		log_error("%s", errbuf);
		rc = SINK_EXIT_CONFIG;
		goto done;
	}
	{
		sink_buf_t	topics = SINK_BUF_INIT;

		for (cfg_pair_t *t = conf.topics.head; t; t = t->next)
			sink_buf_appendf(&topics, "%s\"%s\"", topics.len ? ", " : "", t->value);
		log_info("ferry-sink %s started: topics %s, group \"%s\", target %s, flush.size %lld, "
				 "flush.interval.ms %lld", SINK_VERSION, topics.data, conf.group_id,
				 sink_target_describe(target), (long long) conf.flush_size,
				 (long long) conf.flush_interval_ms);
		sink_buf_free(&topics);
	}
	rc = sink_consumer_run(consumer);
	log_info("ferry-sink stopped%s", rc ? " on an error" : "");

done:
	sink_consumer_free(consumer);
	for (int i = 0; i < ntargets; i++)
		sink_target_free(targets[i]);
	sink_template_free(tmpl);
	cfg_free(sink_options, &conf);
	curl_global_cleanup();
	return rc;
}
