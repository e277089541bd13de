/*-------------------------------------------------------------------------
 *
 * producer.c
 *	  The librdkafka producer of ferry-relay: configuration, topic handles,
 *	  record assembly, delivery reports, backpressure.
 *
 * Delivery reports are the only source of truth for Kafka progress: each
 * record carries its in-flight transaction's sequence number as msg_opaque
 * and dr_msg_cb() (called from rd_kafka_poll() on the main thread) hands
 * the result to inflight.c.  A record that finally fails marks its
 * transaction failed, so nothing at or past it is ever confirmed, and stops
 * the relay.  librdkafka's fatal errors (idempotence) do the same.
 *
 * Records are assembled in place: for a schema'd table the Kafka key and
 * value are {"schema":<from the S frame>,"payload":<from the R frame>},
 * written into two reusable buffers and produced with RD_KAFKA_MSG_F_COPY,
 * so the relay owns no per-record memory.
 *
 * IDENTIFICATION
 *	  relay/producer.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "log.h"
#include "relay.h"

typedef struct relay_topic
{
	char	   *name;
	rd_kafka_topic_t *rkt;
} relay_topic_t;

struct relay_producer
{
	rd_kafka_t *rk;
	rd_kafka_queue_t *mainq;
	int			evfd[2];		/* librdkafka writes to [1] when events wait */
	const relay_config_t *cfg;
	relay_inflight_t *fl;

	relay_topic_t **topics;		/* few topics: linear search by name */
	int			ntopics;
	int			captopics;

	relay_buf_t kbuf;			/* reusable key/value assembly buffers */
	relay_buf_t vbuf;

	relay_wait_cb wait_cb;
	void	   *wait_arg;

	uint64_t	pending;		/* produced, no delivery report yet */
	bool		failed;
	char		failmsg[1024];
	bool		brokers_down;
	relay_counters_t counters;

	relay_topic_t *hb_topic;
	char	   *hb_key;
};

/* librdkafka properties the relay sets unless the kafka: section does */
static const char *const default_props[][2] = {
	{"bootstrap.servers", "localhost:9092"},
	{"client.id", "ferry-relay"},
	{"enable.idempotence", "true"},
	{"acks", "all"},
	/* the Java client's partitioner: keys land where Debezium put them */
	{"partitioner", "murmur2_random"},
	/* wait out a broker outage instead of failing records after 5 min */
	{"message.timeout.ms", "0"},
	{"linger.ms", "20"},
	/*
	 * Debezium-shaped JSON (the schema repeated in every record) shrinks
	 * ~10-20x: the broker writes and validates a tenth of the bytes.  On a
	 * loaded host this mattered most: librdkafka 2.0's broker thread
	 * busy-polls while a partition has 5 idempotent requests in flight, so
	 * the sooner the broker answers the less CPU is burnt.  Measured with
	 * tests/bench/run.sh relay (BENCH_SCALE=0.3): 0.21-0.35x -> 0.52x of the
	 * pg_recvlogical ceiling, Kafka log bytes 148 -> 7 MB/s, relay CPU -15%.
	 */
	{"compression.type", "lz4"},
	/*
	 * bound what a broker outage can buffer (then the relay stops reading);
	 * 16 MB kept the relay's RSS under 50 MB and measured no slower than
	 * 256 MB in make bench (61.9k vs 48.0k events/s); with lz4 batches 8 MB
	 * is as fast (1.00x vs 0.96x of the ceiling at BENCH_SCALE=1) at RSS
	 * 31 MB instead of 45 MB
	 */
	{"queue.buffering.max.kbytes", "8192"},
	{NULL, NULL}
};

/* environment variables that override secrets of the kafka: section */
static const char *const secret_env[][2] = {
	{"FERRY_KAFKA_SASL_USERNAME", "sasl.username"},
	{"FERRY_KAFKA_SASL_PASSWORD", "sasl.password"},
	{"FERRY_KAFKA_SSL_KEY_PASSWORD", "ssl.key.password"},
	{"FERRY_KAFKA_SSL_KEYSTORE_PASSWORD", "ssl.keystore.password"},
	{NULL, NULL}
};

/*
 * Delivery report: called once per record from rd_kafka_poll()/flush() on
 * the main thread.  msg_opaque is the in-flight sequence number (0 for
 * heartbeats, which are not tracked).
 */
static void
dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
	relay_producer_t *p = opaque;
	uint64_t	seq = (uint64_t) (uintptr_t) rkm->_private;

	(void) rk;
	if (p->pending > 0)
		p->pending--;
	if (rkm->err)
	{
		if (seq == 0)
		{
			log_warning("could not deliver heartbeat to topic \"%s\": %s",
						rd_kafka_topic_name(rkm->rkt), rd_kafka_err2str(rkm->err));
			return;
		}
		if (!p->failed)
		{
			p->failed = true;
			snprintf(p->failmsg, sizeof(p->failmsg),
					 "could not deliver record to topic \"%s\": %s",
					 rd_kafka_topic_name(rkm->rkt), rd_kafka_err2str(rkm->err));
		}
		relay_inflight_ack(p->fl, seq, false);
		return;
	}
	p->counters.delivered++;
	if (seq != 0)
		relay_inflight_ack(p->fl, seq, true);
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	relay_producer_t *p = opaque;

	if (err == RD_KAFKA_RESP_ERR__FATAL)
	{
		char		buf[256];
		rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, buf, sizeof(buf));

		if (!p->failed)
		{
			p->failed = true;
			snprintf(p->failmsg, sizeof(p->failmsg),
					 "fatal Kafka producer error: %s: %s",
					 rd_kafka_err2name(ferr), buf);
		}
		return;
	}
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
	{
		if (!p->brokers_down)
			log_warning("all Kafka brokers are down: %s", reason);
		p->brokers_down = true;
		return;
	}
	log_debug("Kafka client error: %s: %s", rd_kafka_err2name(err), reason);
}

/* librdkafka's own log lines (may run on its threads) */
static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void) rk;
	if (level <= 3)
		log_warning("librdkafka: %s: %s", fac, buf);
	else if (level <= 5)
		log_info("librdkafka: %s: %s", fac, buf);
	else
		log_debug("librdkafka: %s: %s", fac, buf);
}

relay_producer_t *
relay_producer_new(const relay_config_t *cfg, const char *cfg_file,
				   relay_inflight_t *fl, char *errbuf, size_t errlen)
{
	relay_producer_t *p = calloc(1, sizeof(*p));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char		errstr[512];

	if (!p)
		log_fatal("out of memory");
	p->cfg = cfg;
	p->fl = fl;
	p->evfd[0] = p->evfd[1] = -1;

	for (int i = 0; default_props[i][0]; i++)
	{
		if (cfg_map_get(&cfg->kafka, default_props[i][0]))
			continue;
		if (rd_kafka_conf_set(conf, default_props[i][0], default_props[i][1],
							  errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		{
			snprintf(errbuf, errlen, "could not set Kafka property \"%s\": %s",
					 default_props[i][0], errstr);
			goto error;
		}
	}
	for (cfg_pair_t *kv = cfg->kafka.head; kv; kv = kv->next)
	{
		if (rd_kafka_conf_set(conf, kv->key, kv->value, errstr,
							  sizeof(errstr)) != RD_KAFKA_CONF_OK)
		{
			snprintf(errbuf, errlen, "%s:%d: invalid Kafka property \"kafka/%s\": %s",
					 cfg_file ? cfg_file : "(defaults)", kv->line, kv->key, errstr);
			goto error;
		}
	}
	for (int i = 0; secret_env[i][0]; i++)
	{
		const char *v = getenv(secret_env[i][0]);

		if (v && *v &&
			rd_kafka_conf_set(conf, secret_env[i][1], v, errstr,
							  sizeof(errstr)) != RD_KAFKA_CONF_OK)
		{
			snprintf(errbuf, errlen, "environment variable %s: invalid Kafka property \"%s\": %s",
					 secret_env[i][0], secret_env[i][1], errstr);
			goto error;
		}
	}

	rd_kafka_conf_set_opaque(conf, p);
	rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_log_cb(conf, log_cb);

	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!p->rk)
	{
		snprintf(errbuf, errlen, "could not create Kafka producer: %s", errstr);
		goto error;
	}
	conf = NULL;				/* now owned by p->rk */

	/* wake the main loop's select() when delivery reports are waiting */
	if (pipe2(p->evfd, O_NONBLOCK | O_CLOEXEC) != 0)
	{
		snprintf(errbuf, errlen, "could not create pipe: %s", strerror(errno));
		relay_producer_free(p);
		return NULL;
	}
	p->mainq = rd_kafka_queue_get_main(p->rk);
	rd_kafka_queue_io_event_enable(p->mainq, p->evfd[1], "1", 1);
	return p;

error:
	if (conf)
		rd_kafka_conf_destroy(conf);
	free(p);
	return NULL;
}

void
relay_producer_free(relay_producer_t *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->ntopics; i++)
	{
		rd_kafka_topic_destroy(p->topics[i]->rkt);
		free(p->topics[i]->name);
		free(p->topics[i]);
	}
	free(p->topics);
	if (p->mainq)
	{
		rd_kafka_queue_io_event_enable(p->mainq, -1, NULL, 0);
		rd_kafka_queue_destroy(p->mainq);
	}
	if (p->rk)
		rd_kafka_destroy(p->rk);
	if (p->evfd[0] >= 0)
		close(p->evfd[0]);
	if (p->evfd[1] >= 0)
		close(p->evfd[1]);
	relay_buf_free(&p->kbuf);
	relay_buf_free(&p->vbuf);
	free(p->hb_key);
	free(p);
}

void
relay_producer_set_wait_cb(relay_producer_t *p, relay_wait_cb cb, void *arg)
{
	p->wait_cb = cb;
	p->wait_arg = arg;
}

int
relay_producer_fd(relay_producer_t *p)
{
	return p->evfd[0];
}

void
relay_producer_poll(relay_producer_t *p, int timeout_ms)
{
	char		drain[64];

	while (read(p->evfd[0], drain, sizeof(drain)) > 0)
		;
	{
		uint64_t	before = p->counters.delivered;

		rd_kafka_poll(p->rk, timeout_ms);
		if (p->brokers_down && p->counters.delivered > before)
		{
			log_info("Kafka brokers are reachable again: deliveries resumed");
			p->brokers_down = false;
		}
	}
}

/*
 * Check that the brokers answer (metadata request); used at start-up and by
 * --check-config.
 */
int
relay_producer_check(relay_producer_t *p, int timeout_ms, char *errbuf, size_t errlen)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err;
	char		servers[512] = "";
	size_t		len = sizeof(servers);
	rd_kafka_conf_t *conf = rd_kafka_conf_dup(rd_kafka_conf(p->rk));

	rd_kafka_conf_get(conf, "bootstrap.servers", servers, &len);
	rd_kafka_conf_destroy(conf);

	err = rd_kafka_metadata(p->rk, 0, NULL, &md, timeout_ms);
	if (err)
	{
		snprintf(errbuf, errlen, "could not connect to Kafka broker \"%s\": %s",
				 servers, rd_kafka_err2str(err));
		return -1;
	}
	log_info("connected to Kafka at \"%s\" (%d brokers)", servers, md->broker_cnt);
	rd_kafka_metadata_destroy(md);
	return 0;
}

/*
 * Create `name` with the configured partitions and replication factor if it
 * does not exist.  A failure is logged, not fatal: the broker may still
 * auto-create the topic, and producing will wait for it.
 */
static void
topic_create(relay_producer_t *p, const char *name, int partitions)
{
	char		errstr[512];
	rd_kafka_NewTopic_t *nt;
	rd_kafka_AdminOptions_t *opts;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	int			timeout = (int) p->cfg->kafka_timeout_ms;

	nt = rd_kafka_NewTopic_new(name, partitions, (int) p->cfg->topic_replication,
							   errstr, sizeof(errstr));
	if (!nt)
	{
		log_warning("could not create topic \"%s\": %s", name, errstr);
		return;
	}
	opts = rd_kafka_AdminOptions_new(p->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_request_timeout(opts, timeout, errstr, sizeof(errstr));
	rd_kafka_AdminOptions_set_operation_timeout(opts, timeout, errstr, sizeof(errstr));
	q = rd_kafka_queue_new(p->rk);
	rd_kafka_CreateTopics(p->rk, &nt, 1, opts, q);
	ev = rd_kafka_queue_poll(q, timeout + 5000);
	if (!ev)
		log_warning("could not create topic \"%s\": timed out", name);
	else if (rd_kafka_event_error(ev))
		log_warning("could not create topic \"%s\": %s", name,
					rd_kafka_event_error_string(ev));
	else
	{
		const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
		size_t		cnt = 0;
		const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);

		for (size_t i = 0; i < cnt; i++)
		{
			rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[i]);

			if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
				log_info("created topic \"%s\" with %d partitions", name, partitions);
			else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
				log_warning("could not create topic \"%s\": %s", name,
							rd_kafka_topic_result_error_string(tr[i]));
		}
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(opts);
	rd_kafka_NewTopic_destroy(nt);
}

/* the cached handle of a topic, created (in Kafka too) on first use */
static relay_topic_t *
topic_get(relay_producer_t *p, const char *name, size_t len, int partitions)
{
	relay_topic_t *t;

	for (int i = 0; i < p->ntopics; i++)
	{
		t = p->topics[i];
		if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
			return t;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->name = strndup(name, len)))
		log_fatal("out of memory");
	if (p->cfg->topic_create)
		topic_create(p, t->name, partitions);
	t->rkt = rd_kafka_topic_new(p->rk, t->name, NULL);
	if (!t->rkt)
		log_fatal("could not create topic handle \"%s\": %s", t->name,
				  rd_kafka_err2str(rd_kafka_last_error()));
	if (p->ntopics == p->captopics)
	{
		p->captopics = p->captopics ? p->captopics * 2 : 16;
		p->topics = realloc(p->topics, p->captopics * sizeof(*p->topics));
		if (!p->topics)
			log_fatal("out of memory");
	}
	p->topics[p->ntopics++] = t;
	return t;
}

int
relay_producer_schema(relay_producer_t *p, relay_schemas_t *sc,
					  const relay_frame_t *f, char *errbuf, size_t errlen)
{
	relay_schema_t *s = relay_schemas_put(sc, f->schema_id);

	(void) errbuf;
	(void) errlen;
	s->topic = topic_get(p, f->topic.data, f->topic.len, (int) p->cfg->topic_partitions);
	if (!f->key_schema.isnull)
	{
		s->key_schema = malloc(f->key_schema.len + 1);
		if (!s->key_schema)
			log_fatal("out of memory");
		memcpy(s->key_schema, f->key_schema.data, f->key_schema.len);
		s->key_schema_len = f->key_schema.len;
	}
	if (!f->value_schema.isnull)
	{
		s->value_schema = malloc(f->value_schema.len + 1);
		if (!s->value_schema)
			log_fatal("out of memory");
		memcpy(s->value_schema, f->value_schema.data, f->value_schema.len);
		s->value_schema_len = f->value_schema.len;
	}
	return 0;
}

/* {"schema":<schema>,"payload":<payload>} into b */
static void
envelope(relay_buf_t *b, const char *schema, size_t schema_len, const relay_str_t *payload)
{
	static const char s1[] = "{\"schema\":";
	static const char s2[] = ",\"payload\":";

	b->len = 0;
	relay_buf_reserve(b, schema_len + payload->len + sizeof(s1) + sizeof(s2) + 1);
	memcpy(b->data, s1, sizeof(s1) - 1);
	b->len = sizeof(s1) - 1;
	memcpy(b->data + b->len, schema, schema_len);
	b->len += schema_len;
	memcpy(b->data + b->len, s2, sizeof(s2) - 1);
	b->len += sizeof(s2) - 1;
	memcpy(b->data + b->len, payload->data, payload->len);
	b->len += payload->len;
	b->data[b->len++] = '}';
}

/*
 * Produce, waiting for queue space when librdkafka's queue is full: that
 * is the relay's backpressure (it stops reading from Postgres meanwhile).
 * Takes ownership of hdrs.
 */
static int
produce(relay_producer_t *p, rd_kafka_topic_t *rkt, int32_t partition,
		const void *key, size_t klen, const void *val, size_t vlen,
		rd_kafka_headers_t *hdrs, uint64_t seq, char *errbuf, size_t errlen)
{
	for (;;)
	{
		rd_kafka_resp_err_t err;

		err = rd_kafka_producev(p->rk,
								RD_KAFKA_V_RKT(rkt),
								RD_KAFKA_V_PARTITION(partition),
								RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
								RD_KAFKA_V_KEY(key, klen),
								RD_KAFKA_V_VALUE((void *) val, vlen),
								RD_KAFKA_V_HEADERS(hdrs),
								RD_KAFKA_V_OPAQUE((void *) (uintptr_t) seq),
								RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
		{
			if (hdrs)
				rd_kafka_headers_destroy(hdrs);
			snprintf(errbuf, errlen, "could not produce record to topic \"%s\": %s",
					 rd_kafka_topic_name(rkt), rd_kafka_err2str(err));
			return -1;
		}
		/* backpressure: serve delivery reports until there is room */
		if (relay_stop_requested || p->failed)
		{
			if (hdrs)
				rd_kafka_headers_destroy(hdrs);
			if (p->failed)
			{
				snprintf(errbuf, errlen, "%s", p->failmsg);
				return -1;
			}
			return 1;
		}
		if (p->wait_cb)
			p->wait_cb(p->wait_arg);
		relay_producer_poll(p, 50);
	}
	p->pending++;
	p->counters.events++;
	p->counters.bytes += klen + vlen;
	if (seq != 0)
		relay_inflight_add(p->fl, seq);
	return 0;
}

int
relay_producer_record(relay_producer_t *p, relay_schemas_t *sc,
					  const relay_frame_t *f, uint64_t seq,
					  char *errbuf, size_t errlen)
{
	rd_kafka_topic_t *rkt;
	const char *key = NULL;
	const char *val = NULL;
	size_t		klen = 0;
	size_t		vlen = 0;
	rd_kafka_headers_t *hdrs = NULL;

	if (f->schema_id != 0)
	{
		relay_schema_t *s = relay_schemas_get(sc, f->schema_id);

		if (!s)
		{
			snprintf(errbuf, errlen, "record refers to unknown schema id %u", f->schema_id);
			return -1;
		}
		rkt = s->topic->rkt;
		if (!f->key.isnull)
		{
			if (s->key_schema)
			{
				envelope(&p->kbuf, s->key_schema, s->key_schema_len, &f->key);
				key = p->kbuf.data;
				klen = p->kbuf.len;
			}
			else
			{
				key = f->key.data;
				klen = f->key.len;
			}
		}
		if (!f->value.isnull)
		{
			if (s->value_schema)
			{
				envelope(&p->vbuf, s->value_schema, s->value_schema_len, &f->value);
				val = p->vbuf.data;
				vlen = p->vbuf.len;
			}
			else
			{
				val = f->value.data;
				vlen = f->value.len;
			}
		}
	}
	else
	{
		rkt = topic_get(p, f->topic.data, f->topic.len, (int) p->cfg->topic_partitions)->rkt;
		if (!f->key.isnull)
		{
			key = f->key.data;
			klen = f->key.len;
		}
		if (!f->value.isnull)
		{
			val = f->value.data;
			vlen = f->value.len;
		}
	}
	/* a non-NULL empty key/value must stay non-NULL */
	if (!f->key.isnull && klen == 0)
		key = "";
	if (!f->value.isnull && vlen == 0)
		val = "";

	if (f->n_headers > 0)
	{
		const char *cur = f->headers;

		hdrs = rd_kafka_headers_new(f->n_headers);
		for (int i = 0; i < f->n_headers; i++)
		{
			relay_str_t name,
						value;

			relay_frame_header_next(&cur, &name, &value);
			rd_kafka_header_add(hdrs, name.data, name.len,
								value.isnull ? NULL : value.data,
								value.isnull ? 0 : (ssize_t) value.len);
		}
	}
	return produce(p, rkt, RD_KAFKA_PARTITION_UA, key, klen, val, vlen, hdrs,
				   seq, errbuf, errlen);
}

/*
 * Debezium's heartbeat record (topic __debezium-heartbeat.<prefix>,
 * partition 0, key ServerNameKey, value Heartbeat with ts_ms = now).
 */
int
relay_producer_heartbeat(relay_producer_t *p, char *errbuf, size_t errlen)
{
	char		value[512];
	struct timeval tv;
	int			vlen;
	int			rc;

	if (!p->hb_topic)
	{
		char		name[512];
		int			n = snprintf(name, sizeof(name), "%s.%s",
								 p->cfg->heartbeat_prefix, p->cfg->topic_prefix);
		size_t		kl = 512 + strlen(p->cfg->topic_prefix);

		p->hb_topic = topic_get(p, name, (size_t) n, 1);
		p->hb_key = malloc(kl);
		if (!p->hb_key)
			log_fatal("out of memory");
		snprintf(p->hb_key, kl,
				 "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"serverName\"}],\"optional\":false,\"name\":\"io.debezium.connector.common.ServerNameKey\",\"version\":1},\"payload\":{\"serverName\":\"%s\"}}",
				 p->cfg->topic_prefix);
	}
	gettimeofday(&tv, NULL);
	vlen = snprintf(value, sizeof(value),
					"{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,\"name\":\"io.debezium.connector.common.Heartbeat\",\"version\":1},\"payload\":{\"ts_ms\":%lld}}",
					(long long) tv.tv_sec * 1000 + tv.tv_usec / 1000);
	rc = produce(p, p->hb_topic->rkt, 0, p->hb_key, strlen(p->hb_key),
				 value, (size_t) vlen, NULL, 0, errbuf, errlen);
	return rc < 0 ? -1 : 0;
}

int
relay_producer_drain(relay_producer_t *p, int64_t timeout_ms, bool interruptible,
					 char *errbuf, size_t errlen)
{
	int64_t		deadline = timeout_ms >= 0 ? relay_now_ms() + timeout_ms : -1;
	int64_t		last_log = relay_now_ms();

	while (p->pending > 0)
	{
		if (p->failed)
		{
			snprintf(errbuf, errlen, "%s", p->failmsg);
			return -1;
		}
		if (interruptible && relay_stop_requested)
			return 1;
		if (deadline >= 0 && relay_now_ms() >= deadline)
		{
			snprintf(errbuf, errlen, "%" PRIu64 " records still awaiting delivery after %lld ms",
					 p->pending, (long long) timeout_ms);
			return -1;
		}
		if (relay_now_ms() - last_log >= 10000)
		{
			log_info("waiting for %" PRIu64 " records to be delivered to Kafka", p->pending);
			last_log = relay_now_ms();
		}
		if (p->wait_cb)
			p->wait_cb(p->wait_arg);
		relay_producer_poll(p, 100);
	}
	if (p->failed)
	{
		snprintf(errbuf, errlen, "%s", p->failmsg);
		return -1;
	}
	return 0;
}

bool
relay_producer_failed(relay_producer_t *p, char *errbuf, size_t errlen)
{
	if (p->failed && errbuf)
		snprintf(errbuf, errlen, "%s", p->failmsg);
	return p->failed;
}

const relay_counters_t *
relay_producer_counters(relay_producer_t *p)
{
	return &p->counters;
}
