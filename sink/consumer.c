/*-------------------------------------------------------------------------
 *
 * consumer.c
 *	  The consume -> batch -> store -> commit loop of ferry-sink.
 *
 * One consuming thread.  Each assigned partition has an open batch: a
 * contiguous buffer of formatted lines, the offset of its first record
 * (start offset), the Kafka timestamp of that record, and the offset after
 * its last record.  A batch is complete when it reaches flush.size records
 * or flush.bytes bytes, when flush.interval.ms has passed since its first
 * record (checked by the loop every 100 ms, whether or not records
 * arrive), when the buffers of all partitions together pass
 * buffer.max.bytes (the largest batch goes first), when its partition is
 * revoked, and at shutdown.  A complete batch is moved to the sealed queue
 * (upload.threads entries).  The queue becomes a "round" when no round is
 * in flight, when it is full, when Kafka's local queue is empty, or at once
 * for timers, revocations and shutdown: a round thread stores its batches
 * (one upload thread and target per batch), then commits their offsets in
 * one request, while the consuming thread goes on reading and batching.
 * A round starts only after the previous one has finished (stored and
 * committed), and a batch belongs to one thread at a time: the partition
 * while open, the queue, then the round.  Batch buffers are reused (a
 * small pool), so steady state allocates nothing per record.
 *
 * Exactly once in the bucket, the argument:
 *	1. An object's name depends only on (topic, partition, start offset,
 *	   timestamp of the record at the start offset).  Batches of a
 *	   partition are contiguous, so every committed offset is the end of
 *	   one object and the start of the next.
 *	2. A partition's offset (last + 1) is committed only after its object
 *	   is stored.  With commit.mode sync (the default) the commit completes
 *	   before the partition's next object is stored (the queue never holds
 *	   two batches of one partition, and the next round starts after the
 *	   previous round's commit returned), so at any time at most
 *	   one object per partition holds records beyond the committed offset
 *	   C, and it starts exactly at C.
 *	3. After a crash or a rebalance, consumption resumes at C: the first
 *	   batch starts at C and is stored under the same name, replacing the
 *	   uncommitted object whatever its end was.  Records after the new
 *	   object's end go to later objects.  Nothing is lost (offsets are
 *	   committed only after the object is stored) and nothing is doubled.
 *	4. Recovery scan (sink/recovery.scan, on by default): when partitions
 *	   are assigned, objects of those partitions whose start offset is
 *	   greater than the committed offset are deleted before consuming.
 *	   They exist when (2) did not hold: a commit that failed after its
 *	   store (coordinator error, lost partition, a zombie process that
 *	   stored after its partition moved), or commit.mode async, where
 *	   several uncommitted objects may be stored before a crash.  With
 *	   the scan, (3) holds for them too.  The scan lists the template's
 *	   fixed prefix for each topic ("<topic>/" by default), so its cost
 *	   grows with the number of objects of the topic.
 *	Revoked partitions and shutdown always commit synchronously.
 *
 * IDENTIFICATION
 *	  sink/consumer.c
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "buf.h"
#include "format.h"
#include "log.h"
#include "sink.h"
#include "target.h"
#include "template.h"

typedef struct sink_part
{
	char	   *topic;
	int32_t		partition;
	bool		active;			/* currently assigned to us */
	sink_buf_t	buf;			/* formatted lines of the open batch */
	int64_t		start_offset;	/* -1: no open batch */
	int64_t		next_offset;	/* offset after the batch's last record */
	int64_t		first_ts;		/* Kafka timestamp of the batch's first record */
	int64_t		opened_ms;		/* monotonic time the batch was opened */
	int64_t		count;			/* records in the batch (skipped ones too) */
	int64_t		written;		/* lines in buf */
	int64_t		consumed;		/* offset after the last consumed record, -1 */
	int			nsealed;		/* its batches waiting in the sealed queue */
	bool		failed;			/* a batch could not be stored while stopping:
								 * nothing more of it is stored or committed */
	struct sink_part *next;
} sink_part_t;

/* set by the signal handlers in main.c; polled by the loop and by S3 retries */
volatile sig_atomic_t sink_stop_requested = 0;

struct sink_consumer
{
	const sink_config_t *conf;
	rd_kafka_t *rk;
	sink_target_t *target;		/* targets[0]: scans, dead letters */
	sink_target_t **targets;	/* one per upload thread */
	int			ntargets;
	struct sealed *sealed;		/* complete batches waiting to be stored */
	int			nsealed;		/* at most ntargets */
	/* the round in flight: batches being stored, then committed, by round_thread */
	struct sealed *inflight;
	int			ninflight;
	bool		round_running;	/* round_thread started and not yet joined */
	bool		round_sync;		/* commit synchronously */
	const char *round_why;
	atomic_int	round_done;		/* set by the round thread when it is finished */
	/* the round thread lives as long as the consumer; it waits for work */
	pthread_t	round_thread;
	bool		round_thread_ok;
	bool		round_go;		/* a round is handed over (under round_mu) */
	bool		round_quit;
	pthread_mutex_t round_mu;
	pthread_cond_t round_cv;
	/* batch buffers kept for reuse (their capacity stays) */
	sink_buf_t *pool;
	int			npool;
	int			pool_max;
	size_t		pool_bytes;
	sink_template_t *tmpl;
	sink_format_t fmt;
	bool		gzip;
	sink_part_t *parts;
	sink_part_t *last_part;		/* lookup cache: records come in runs */
	size_t		buffered;		/* bytes in all batches */
	int			exit_code;		/* non-zero: stop with this code */

	/* stats */
	uint64_t	n_records;
	uint64_t	n_objects;
	uint64_t	n_bytes;
	uint64_t	last_records;
	uint64_t	last_objects;
	uint64_t	last_bytes;
	int64_t		last_stats_ms;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sink_part_t *
part_find(sink_consumer_t *c, const char *topic, int32_t partition)
{
	sink_part_t *p = c->last_part;

	if (p && p->partition == partition && strcmp(p->topic, topic) == 0)
		return p;
	for (p = c->parts; p; p = p->next)
		if (p->partition == partition && strcmp(p->topic, topic) == 0)
			return c->last_part = p;
	return NULL;
}

static sink_part_t *
part_get(sink_consumer_t *c, const char *topic, int32_t partition)
{
	sink_part_t *p = part_find(c, topic, partition);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	p->topic = strdup(topic);
	p->partition = partition;
	p->start_offset = -1;
	p->consumed = -1;
	p->next = c->parts;
	c->parts = p;
	return p;
}

static void pool_put(sink_consumer_t *c, sink_buf_t *b);

/* drop the open batch without storing or committing it */
static void
part_discard(sink_consumer_t *c, sink_part_t *p)
{
	c->buffered -= p->buf.len;
	pool_put(c, &p->buf);
	p->start_offset = -1;
	p->count = p->written = 0;
}

static void
set_exit(sink_consumer_t *c, int code)
{
	if (c->exit_code == 0)
		c->exit_code = code;
	sink_stop_requested = 1;
}

/* a cleared batch buffer, reused when one is spare */
static sink_buf_t
pool_get(sink_consumer_t *c)
{
	sink_buf_t	b = SINK_BUF_INIT;

	if (c->npool > 0)
	{
		b = c->pool[--c->npool];
		c->pool_bytes -= b.cap;
	}
	return b;
}

/* give a buffer back; it is kept (emptied) while the pool is small */
static void
pool_put(sink_consumer_t *c, sink_buf_t *b)
{
	if (b->data && c->npool < c->pool_max &&
		c->pool_bytes + b->cap <= (size_t) c->conf->buffer_max_bytes / 2)
	{
		b->len = 0;
		b->data[0] = '\0';
		c->pool_bytes += b->cap;
		c->pool[c->npool++] = *b;
	}
	else
		sink_buf_free(b);
	*b = (sink_buf_t) SINK_BUF_INIT;
}

/*
 * Commit offsets; false on failure (logged).  Asynchronous commits
 * (commit.mode async) report failures through commit_cb.
 */
static bool
commit_offsets(sink_consumer_t *c, rd_kafka_topic_partition_list_t *offsets, bool sync)
{
	rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, offsets, sync ? 0 : 1);
	bool		ok = true;

	for (int i = 0; i < offsets->cnt; i++)
	{
		rd_kafka_topic_partition_t *tp = &offsets->elems[i];
		rd_kafka_resp_err_t e = err ? err : (sync ? tp->err : RD_KAFKA_RESP_ERR_NO_ERROR);

		if (e)
		{
			log_warning("could not commit offset %lld of partition %d of topic \"%s\": %s",
						(long long) tp->offset, (int) tp->partition, tp->topic, rd_kafka_err2str(e));
			ok = false;
		}
		else
			log_debug("%s offset %lld of partition %d of topic \"%s\"",
					  sync ? "committed" : "committing", (long long) tp->offset,
					  (int) tp->partition, tp->topic);
	}
	return ok;
}

/* result of an asynchronous commit, served by rd_kafka_consumer_poll() on our thread */
static void
commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
		  rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	(void) rk;
	(void) opaque;
	if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
		return;
	for (int i = 0; offsets && i < offsets->cnt; i++)
	{
		rd_kafka_resp_err_t e = err ? err : offsets->elems[i].err;

		if (e)
			log_warning("could not commit offset %lld of partition %d of topic \"%s\": %s",
						(long long) offsets->elems[i].offset, (int) offsets->elems[i].partition,
						offsets->elems[i].topic, rd_kafka_err2str(e));
	}
}

/*
 * A complete batch, taken out of its partition so the partition can start
 * the next one, waiting in the sealed queue to be stored by an upload
 * thread.  The queue holds at most one entry per upload thread.
 */
typedef struct sealed
{
	sink_consumer_t *c;
	sink_part_t *p;
	sink_buf_t	buf;			/* the lines, moved out of p->buf */
	int64_t		start_offset;
	int64_t		next_offset;
	int64_t		first_ts;
	int64_t		written;
	/* upload */
	sink_target_t *target;
	sink_buf_t	name;
	sink_buf_t	gz;
	size_t		len;			/* bytes stored */
	int			rc;
	char		errbuf[2048];
} sealed_t;

/* an upload thread: gzip (if asked) and store one batch; touches nothing shared */
static void *
upload_run(void *arg)
{
	sealed_t   *b = arg;
	const void *data = b->buf.data;

	b->len = b->buf.len;
	if (b->c->gzip)
	{
		if (sink_gzip(b->buf.data, b->buf.len, &b->gz, b->errbuf, sizeof(b->errbuf)) != 0)
		{
			b->rc = SINK_ERR_FATAL;
			return NULL;
		}
		data = b->gz.data;
		b->len = b->gz.len;
	}
	b->rc = sink_target_put(b->target, b->name.data, data, b->len, b->errbuf, sizeof(b->errbuf));
	return NULL;
}

static void
sealed_release(sink_consumer_t *c, sealed_t *b)
{
	c->buffered -= b->buf.len;
	pool_put(c, &b->buf);
	sink_buf_free(&b->name);
	sink_buf_free(&b->gz);
}

/* drop p's (or every) waiting batch without storing it (a lost partition, an error) */
static void
drop_sealed(sink_consumer_t *c, sink_part_t *p)
{
	int			j = 0;

	for (int i = 0; i < c->nsealed; i++)
	{
		if (p == NULL || c->sealed[i].p == p)
		{
			c->sealed[i].p->nsealed--;
			sealed_release(c, &c->sealed[i]);
		}
		else
			c->sealed[j++] = c->sealed[i];
	}
	c->nsealed = j;
}

/*
 * The round thread: store every batch of the round, each in its own
 * thread (one target per thread), then commit, per partition, the end of
 * the batches stored without a gap.  Touches only the round's batches and
 * librdkafka (rd_kafka_commit is thread-safe); results are looked at by
 * finish_round on the consuming thread.
 */
static void *
round_run(void *arg)
{
	sink_consumer_t *c = arg;
	pthread_t	threads[64];
	bool		started[64];
	rd_kafka_topic_partition_list_t *offsets;
	int			n = c->ninflight;

	for (int i = 0; i < n; i++)
	{
		sealed_t   *b = &c->inflight[i];

		started[i] = false;
		if (b->written == 0)
			continue;			/* skipped records only: nothing to store */
		if (i == n - 1)
			upload_run(b);		/* the last one on this thread */
		else if (pthread_create(&threads[i], NULL, upload_run, b) == 0)
			started[i] = true;
		else
			upload_run(b);		/* no thread: do it here */
	}
	for (int i = 0; i < n; i++)
		if (started[i])
			pthread_join(threads[i], NULL);

	/* commit per partition up to the first batch that failed */
	offsets = rd_kafka_topic_partition_list_new(n);
	for (int i = 0; i < n; i++)
	{
		sealed_t   *b = &c->inflight[i];
		rd_kafka_topic_partition_t *tp;
		bool		blocked = false;

		for (int j = 0; j < i; j++)
			if (c->inflight[j].p == b->p && c->inflight[j].rc != SINK_OK)
				blocked = true;
		if (b->rc != SINK_OK || blocked)
			continue;
		tp = rd_kafka_topic_partition_list_find(offsets, b->p->topic, b->p->partition);
		if (tp == NULL)
			tp = rd_kafka_topic_partition_list_add(offsets, b->p->topic, b->p->partition);
		tp->offset = b->next_offset;
	}
	if (offsets->cnt > 0)
		commit_offsets(c, offsets, c->round_sync);
	rd_kafka_topic_partition_list_destroy(offsets);
	atomic_store(&c->round_done, 1);
	return NULL;
}

/* the round thread: runs the rounds handed over by launch_round */
static void *
round_worker(void *arg)
{
	sink_consumer_t *c = arg;

	pthread_mutex_lock(&c->round_mu);
	for (;;)
	{
		while (!c->round_go && !c->round_quit)
			pthread_cond_wait(&c->round_cv, &c->round_mu);
		if (c->round_quit)
			break;
		c->round_go = false;
		pthread_mutex_unlock(&c->round_mu);
		round_run(c);
		pthread_mutex_lock(&c->round_mu);
		pthread_cond_broadcast(&c->round_cv);
	}
	pthread_mutex_unlock(&c->round_mu);
	return NULL;
}

/*
 * Account for a finished round: stats, and on
 * a failed store the exit code (fatal, or retries exhausted), or, when the
 * failure came from a stop request, the partition is marked failed so that
 * nothing after the failed batch is stored or committed.  Returns 0 or -1.
 */
static int
account_round(sink_consumer_t *c)
{
	int			result = 0;

	for (int i = 0; i < c->ninflight; i++)
	{
		sealed_t   *b = &c->inflight[i];

		if (b->rc != SINK_OK)
		{
			if (b->rc == SINK_ERR_FATAL)
			{
				log_error("%s", b->errbuf);
				set_exit(c, SINK_EXIT_TARGET);
			}
			else if (!sink_stop_requested)
			{
				log_error("%s", b->errbuf);
				set_exit(c, SINK_EXIT_RUNTIME);
			}
			else
				log_warning("%s", b->errbuf);
			if (!b->p->failed)
			{
				/* later batches of p must not be stored: they would be committed */
				b->p->failed = true;
				drop_sealed(c, b->p);
				part_discard(c, b->p);
			}
			result = -1;
		}
		else if (b->written > 0)
		{
			log_debug("stored object \"%s%s\" (%lld records, offsets %lld..%lld, %zu bytes, %s)",
					  sink_target_prefix(c->target), b->name.data, (long long) b->written,
					  (long long) b->start_offset, (long long) b->next_offset - 1, b->len,
					  c->round_why);
			c->n_objects++;
			c->n_bytes += b->len;
		}
		sealed_release(c, b);
	}
	c->ninflight = 0;
	return result;
}

static int
finish_round(sink_consumer_t *c)
{
	if (!c->round_running)
		return 0;
	pthread_mutex_lock(&c->round_mu);
	while (!atomic_load(&c->round_done))
		pthread_cond_wait(&c->round_cv, &c->round_mu);
	pthread_mutex_unlock(&c->round_mu);
	c->round_running = false;
	return account_round(c);
}

/*
 * Start storing the waiting batches (after the round in flight, which is
 * waited for first) in the background: the consuming thread goes on
 * batching meanwhile.  With commit.mode sync the queue never holds two
 * batches of one partition (seal_batch sees to it) and a round starts only
 * after the previous one committed, so no partition's next object is
 * stored before its previous one is committed.  With commit.mode async
 * several batches of a partition go up at once and the recovery scan
 * cleans up after a crash.  `sync` (revocation, shutdown) commits
 * synchronously whatever the mode.  Returns -1 when stopping on an error
 * (the queue is dropped), else 0.
 */
static int
launch_round(sink_consumer_t *c, const char *why, bool sync)
{
	sealed_t   *tmp;

	/* a batch that failed while stopping only blocks its own partition */
	finish_round(c);
	if (c->exit_code)
	{
		drop_sealed(c, NULL);
		return -1;
	}
	if (c->nsealed == 0)
		return 0;
	log_debug("storing %d batches (%s)", c->nsealed, why);
	/* the queue becomes the round; the round's (empty) array becomes the queue */
	tmp = c->inflight;
	c->inflight = c->sealed;
	c->ninflight = c->nsealed;
	c->sealed = tmp;
	c->nsealed = 0;
	for (int i = 0; i < c->ninflight; i++)
	{
		sealed_t   *b = &c->inflight[i];

		b->c = c;
		b->target = c->targets[i];
		b->rc = SINK_OK;
		b->p->nsealed--;
		if (b->written > 0)
		{
			sink_buf_reset(&b->name);
			sink_template_render(c->tmpl, b->p->topic, b->p->partition, b->start_offset,
								 b->first_ts, &b->name);
		}
	}
	c->round_sync = sync || c->conf->commit_sync;
	c->round_why = why;
	atomic_store(&c->round_done, 0);
	if (!c->round_thread_ok)
	{
		round_run(c);			/* no thread: do it here */
		account_round(c);
		return c->exit_code ? -1 : 0;
	}
	c->round_running = true;
	pthread_mutex_lock(&c->round_mu);
	c->round_go = true;
	pthread_cond_broadcast(&c->round_cv);
	pthread_mutex_unlock(&c->round_mu);
	return 0;
}

/* store the waiting batches and wait until they are stored and committed */
static int
flush_round(sink_consumer_t *c, const char *why, bool sync)
{
	int			rc = launch_round(c, why, sync);

	if (finish_round(c) != 0)
		rc = -1;
	return rc;
}

/*
 * Move p's open batch to the sealed queue (starting the queue first when
 * it is full, or, with commit.mode sync, when it already holds a batch of
 * p).
 */
static int
seal_batch(sink_consumer_t *c, sink_part_t *p, const char *why)
{
	sealed_t   *b;

	if (p->start_offset < 0)
		return 0;
	if (c->nsealed >= c->ntargets || (p->nsealed > 0 && c->conf->commit_sync))
	{
		if (launch_round(c, why, false) != 0 || p->start_offset < 0)
			return -1;
	}
	b = &c->sealed[c->nsealed++];
	memset(b, 0, sizeof(*b));
	b->p = p;
	b->buf = p->buf;			/* moved: p starts its next batch in a spare buffer */
	b->start_offset = p->start_offset;
	b->next_offset = p->next_offset;
	b->first_ts = p->first_ts;
	b->written = p->written;
	p->nsealed++;
	p->buf = (sink_buf_t) SINK_BUF_INIT;	/* the next batch takes a spare one */
	p->start_offset = -1;
	p->count = p->written = 0;
	return 0;
}

/* store a record that is not valid JSON under the dead-letter prefix */
static int
store_dead_letter(sink_consumer_t *c, const rd_kafka_message_t *rkm, const char *topic)
{
	sink_buf_t	name = SINK_BUF_INIT;
	char		errbuf[2048];
	int			rc;

	sink_buf_appendf(&name, "%s%s/%010d-%020lld.bin", c->conf->dlq_prefix, topic,
					 (int) rkm->partition, (long long) rkm->offset);
	/* targets[0] may be storing a batch: wait for the round first */
	if (finish_round(c) != 0)
	{
		sink_buf_free(&name);
		return -1;
	}
	rc = sink_target_put(c->target, name.data, rkm->payload, rkm->len, errbuf, sizeof(errbuf));
	if (rc != SINK_OK)
	{
		log_error("%s", errbuf);
		set_exit(c, rc == SINK_ERR_FATAL ? SINK_EXIT_TARGET : SINK_EXIT_RUNTIME);
	}
	else
		log_warning("record at offset %lld of partition %d of topic \"%s\" is not valid JSON; "
					"stored as \"%s\"", (long long) rkm->offset, (int) rkm->partition, topic,
					name.data);
	sink_buf_free(&name);
	return rc == SINK_OK ? 0 : -1;
}

static sink_part_t *
largest_batch(sink_consumer_t *c)
{
	sink_part_t *best = NULL;

	for (sink_part_t *p = c->parts; p; p = p->next)
		if (p->start_offset >= 0 && (best == NULL || p->buf.len > best->buf.len))
			best = p;
	return best;
}

static void
handle_message(sink_consumer_t *c, rd_kafka_message_t *rkm)
{
	const char *topic = rd_kafka_topic_name(rkm->rkt);
	sink_part_t *p = part_get(c, topic, rkm->partition);
	rd_kafka_timestamp_type_t tstype;
	int64_t		ts = rd_kafka_message_timestamp(rkm, &tstype);
	rd_kafka_headers_t *hdrs = NULL;
	sink_header_t hbuf[64];
	sink_record_t r;
	size_t		before = p->buf.len;
	char		errbuf[1024];
	int			rc;

	if (p->start_offset >= 0 && rkm->offset < p->next_offset)
		return;					/* redelivered after a seek: already batched */
	if (p->failed)
		return;					/* stopping: read again from the committed offset next time */
	memset(&r, 0, sizeof(r));
	r.topic = topic;
	r.partition = rkm->partition;
	r.offset = rkm->offset;
	r.timestamp = ts;
	r.key = rkm->key;
	r.key_len = rkm->key_len;
	r.value = rkm->payload;
	r.value_len = rkm->len;
	if (c->fmt.nfields > 1 || c->fmt.fields[0] != SINK_FIELD_VALUE)
	{
		if (rd_kafka_message_headers(rkm, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			const char *name;
			const void *val;
			size_t		size;

			for (size_t i = 0; r.nheaders < 64 &&
				 rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
				hbuf[r.nheaders++] = (sink_header_t) {name, val, size};
			r.headers = hbuf;
		}
	}

	if (p->start_offset < 0)
	{
		if (p->buf.data == NULL)
			p->buf = pool_get(c);
		p->start_offset = rkm->offset;
		p->first_ts = ts;
		p->opened_ms = now_ms();
	}
	rc = sink_format_record(&c->fmt, &r, &p->buf, errbuf, sizeof(errbuf));
	if (rc == SINK_FORMAT_INVALID)
	{
		if (c->fmt.invalid == SINK_INVALID_DLQ)
		{
			if (store_dead_letter(c, rkm, topic) != 0)
				return;
		}
		else
		{
			log_error("%s; stopping (sink/invalid.records is \"stop\"; use \"raw\" or \"dlq\" "
					  "to store such records)", errbuf);
			if (p->count == 0)
				p->start_offset = -1;
			set_exit(c, SINK_EXIT_RUNTIME);
			return;
		}
	}
	else if (rc == SINK_FORMAT_WRITTEN)
		p->written++;
	p->count++;
	p->next_offset = rkm->offset + 1;
	p->consumed = rkm->offset + 1;
	c->buffered += p->buf.len - before;
	c->n_records++;

	if (p->count >= c->conf->flush_size)
		seal_batch(c, p, "flush.size");
	else if ((int64_t) p->buf.len >= c->conf->flush_bytes)
		seal_batch(c, p, "flush.bytes");
	if (!c->exit_code && (int64_t) c->buffered > c->conf->buffer_max_bytes)
	{
		sink_part_t *big;

		/* the round in flight holds memory too: wait for it first */
		finish_round(c);
		if (!c->exit_code && (int64_t) c->buffered > c->conf->buffer_max_bytes &&
			(big = largest_batch(c)) != NULL && seal_batch(c, big, "buffer.max.bytes") == 0)
			launch_round(c, "buffer.max.bytes", false);
		if (!c->exit_code && (int64_t) c->buffered > c->conf->buffer_max_bytes)
			flush_round(c, "buffer.max.bytes", false);
	}
}

/* flush batches whose interval has passed */
static void
check_timers(sink_consumer_t *c)
{
	int64_t		now = now_ms();
	bool		due = false;

	if (c->conf->flush_interval_ms <= 0)
		return;

	for (sink_part_t *p = c->parts; p && !c->exit_code; p = p->next)
		if (p->start_offset >= 0 && now - p->opened_ms >= c->conf->flush_interval_ms)
		{
			seal_batch(c, p, "flush.interval.ms");
			due = true;
		}
	if (due && !c->exit_code)
		launch_round(c, "flush.interval.ms", false);
}

static void
log_stats(sink_consumer_t *c, bool force)
{
	int64_t		now = now_ms();
	double		secs;
	sink_buf_t	lag = SINK_BUF_INIT;
	int			nparts = 0,
				shown = 0;
	sink_target_stats_t ts;

	if (c->conf->stats_interval_ms <= 0 && !force)
		return;
	if (!force && now - c->last_stats_ms < c->conf->stats_interval_ms)
		return;
	secs = (now - c->last_stats_ms) / 1000.0;
	if (secs <= 0)
		secs = 1;
	for (sink_part_t *p = c->parts; p; p = p->next)
	{
		int64_t		lo,
					hi;

		if (!p->active)
			continue;
		nparts++;
		if (shown >= 32)
			continue;
		if (rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &lo, &hi) ==
			RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0 && p->consumed >= 0)
		{
			sink_buf_appendf(&lag, "%s%s[%d]=%lld", shown ? " " : "", p->topic,
							 (int) p->partition, (long long) (hi > p->consumed ? hi - p->consumed : 0));
			shown++;
		}
	}
	memset(&ts, 0, sizeof(ts));
	finish_round(c);			/* the targets' counters belong to the round's threads */
	for (int i = 0; i < c->ntargets; i++)
	{
		sink_target_stats_t one;

		sink_target_get_stats(c->targets[i], &one);
		ts.requests += one.requests;
		ts.retries += one.retries;
	}
	log_info("stats: %.1f records/s, %.1f objects/s, %.0f bytes/s; totals %llu records, "
			 "%llu objects, %llu bytes, %llu S3 retries; %zu bytes buffered; %d partitions; lag: %s",
			 (c->n_records - c->last_records) / secs, (c->n_objects - c->last_objects) / secs,
			 (c->n_bytes - c->last_bytes) / secs,
			 (unsigned long long) c->n_records, (unsigned long long) c->n_objects,
			 (unsigned long long) c->n_bytes, (unsigned long long) ts.retries, c->buffered,
			 nparts, lag.data ? lag.data : "-");
	sink_buf_free(&lag);
	c->last_records = c->n_records;
	c->last_objects = c->n_objects;
	c->last_bytes = c->n_bytes;
	c->last_stats_ms = now;
}

/* --- recovery scan --- */

typedef struct scan_ctx
{
	sink_consumer_t *c;
	const char *topic;
	rd_kafka_topic_partition_list_t *committed;
	sink_buf_t	stale;			/* NUL-separated names */
	int			nstale;
} scan_ctx_t;

static int
scan_cb(const char *name, void *arg)
{
	scan_ctx_t *sc = arg;
	int32_t		partition;
	int64_t		start;

	if (!sink_template_match(sc->c->tmpl, name, sc->topic, &partition, &start))
		return 0;
	for (int i = 0; i < sc->committed->cnt; i++)
	{
		rd_kafka_topic_partition_t *tp = &sc->committed->elems[i];

		if (tp->partition == partition && strcmp(tp->topic, sc->topic) == 0 &&
			tp->offset >= 0 && start > tp->offset)
		{
			log_info("deleting stale object \"%s%s\": starts at offset %lld, beyond the "
					 "committed offset %lld of partition %d of topic \"%s\"",
					 sink_target_prefix(sc->c->target), name, (long long) start,
					 (long long) tp->offset, (int) partition, sc->topic);
			sink_buf_append(&sc->stale, name, strlen(name) + 1);
			sc->nstale++;
		}
	}
	return 0;
}

/*
 * Delete objects of the assigned partitions that start beyond the
 * committed offset (see the header comment).  Called from the rebalance
 * callback before the partitions are assigned.
 */
static int
recover_partitions(sink_consumer_t *c, const rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
	rd_kafka_resp_err_t err;
	int			rc = 0;

	for (int i = 0; i < committed->cnt; i++)
		committed->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
	err = rd_kafka_committed(c->rk, committed, 30000);
	if (err)
	{
		log_warning("could not fetch committed offsets for the recovery scan: %s",
					rd_kafka_err2str(err));
		rd_kafka_topic_partition_list_destroy(committed);
		return 0;
	}
	for (int i = 0; i < committed->cnt && rc == 0; i++)
	{
		const char *topic = committed->elems[i].topic;
		bool		seen = false;
		scan_ctx_t	sc;
		sink_buf_t	prefix = SINK_BUF_INIT;
		char		errbuf[2048];

		for (int j = 0; j < i; j++)
			if (strcmp(committed->elems[j].topic, topic) == 0)
				seen = true;
		if (seen)
			continue;
		memset(&sc, 0, sizeof(sc));
		sc.c = c;
		sc.topic = topic;
		sc.committed = committed;
		sink_template_list_prefix(c->tmpl, topic, &prefix);
		if (sink_target_list(c->target, prefix.data, scan_cb, &sc, errbuf, sizeof(errbuf)) != SINK_OK)
		{
			log_error("%s", errbuf);
			rc = -1;
		}
		for (const char *n = sc.stale.data; rc == 0 && sc.nstale-- > 0; n += strlen(n) + 1)
		{
			int			drc = sink_target_delete(c->target, n, errbuf, sizeof(errbuf));

			if (drc != SINK_OK)
			{
				log_error("%s", errbuf);
				rc = -1;
				if (drc == SINK_ERR_FATAL)
					set_exit(c, SINK_EXIT_TARGET);
			}
		}
		sink_buf_free(&sc.stale);
		sink_buf_free(&prefix);
	}
	rd_kafka_topic_partition_list_destroy(committed);
	return rc;
}

static void
describe_parts(const rd_kafka_topic_partition_list_t *parts, sink_buf_t *out)
{
	for (int i = 0; i < parts->cnt && i < 64; i++)
		sink_buf_appendf(out, "%s%s[%d]", i ? ", " : "", parts->elems[i].topic,
						 (int) parts->elems[i].partition);
	if (parts->cnt > 64)
		sink_buf_appendf(out, ", ... (%d in all)", parts->cnt);
	if (out->data == NULL)
		sink_buf_appends(out, "none");
}

/*
 * Called by librdkafka from rd_kafka_consumer_poll() / close(), on our
 * thread.  Assigned partitions start from their committed offsets (we
 * assign without offsets); revoked ones are flushed and committed first
 * unless the assignment was lost, in which case they are dropped.
 */
static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	sink_consumer_t *c = opaque;
	bool		cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	sink_buf_t	desc = SINK_BUF_INIT;
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;

	describe_parts(parts, &desc);
	/* the round in flight stores and commits before anything moves */
	finish_round(c);
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
	{
		log_info("partitions assigned: %s", desc.data);
		/* a scan cut short by a stop request is no error: nothing was consumed yet */
		if (c->conf->recovery_scan && !c->exit_code && recover_partitions(c, parts) != 0 &&
			!sink_stop_requested)
			set_exit(c, c->exit_code ? c->exit_code : SINK_EXIT_RUNTIME);
		for (int i = 0; i < parts->cnt; i++)
		{
			sink_part_t *p = part_get(c, parts->elems[i].topic, parts->elems[i].partition);

			part_discard(c, p);
			p->active = true;
			p->failed = false;
			p->consumed = -1;
		}
		if (cooperative)
			error = rd_kafka_incremental_assign(rk, parts);
		else
			aerr = rd_kafka_assign(rk, parts);
	}
	else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
	{
		bool		lost = rd_kafka_assignment_lost(rk);

		log_info("partitions %s: %s", lost ? "lost" : "revoked", desc.data);
		for (int i = 0; i < parts->cnt; i++)
		{
			sink_part_t *p = part_find(c, parts->elems[i].topic, parts->elems[i].partition);

			if (p == NULL)
				continue;
			if (!lost && !c->exit_code)
				seal_batch(c, p, "revoked");
			else
			{
				drop_sealed(c, p);
				part_discard(c, p);
			}
		}
		/* store and commit (synchronously) before the partitions move */
		if (!c->exit_code)
			flush_round(c, "revoked", true);
		else
			drop_sealed(c, NULL);
		for (int i = 0; i < parts->cnt; i++)
		{
			sink_part_t *p = part_find(c, parts->elems[i].topic, parts->elems[i].partition);

			if (p == NULL)
				continue;
			part_discard(c, p);	/* what could not be stored is read again by the next owner */
			p->active = false;
		}
		if (cooperative)
			error = rd_kafka_incremental_unassign(rk, parts);
		else
			aerr = rd_kafka_assign(rk, NULL);
	}
	else
	{
		log_error("rebalance failed: %s", rd_kafka_err2str(err));
		aerr = rd_kafka_assign(rk, NULL);
	}
	if (error)
	{
		log_error("could not apply the new assignment: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
	if (aerr)
		log_error("could not apply the new assignment: %s", rd_kafka_err2str(aerr));
	sink_buf_free(&desc);
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	sink_consumer_t *c = opaque;

	if (err == RD_KAFKA_RESP_ERR__FATAL)
	{
		char		buf[512];

		rd_kafka_fatal_error(rk, buf, sizeof(buf));
		log_error("fatal Kafka error: %s", buf);
		set_exit(c, SINK_EXIT_RUNTIME);
		return;
	}
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT)
		log_warning("Kafka: %s", reason);
	else
		log_warning("Kafka error: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t) err), reason);
}

static void
stop_round_worker(sink_consumer_t *c)
{
	if (c->round_thread_ok)
	{
		pthread_mutex_lock(&c->round_mu);
		c->round_quit = true;
		pthread_cond_broadcast(&c->round_cv);
		pthread_mutex_unlock(&c->round_mu);
		pthread_join(c->round_thread, NULL);
		c->round_thread_ok = false;
	}
	pthread_mutex_destroy(&c->round_mu);
	pthread_cond_destroy(&c->round_cv);
}

sink_consumer_t *
sink_consumer_new(const sink_config_t *conf, rd_kafka_conf_t *rkconf,
				  sink_target_t **targets, int ntargets, sink_template_t *tmpl,
				  char *errbuf, size_t errlen)
{
	sink_consumer_t *c = calloc(1, sizeof(*c));
	const char *fields[SINK_MAX_FIELDS + 1];
	int			nfields = 0;
	rd_kafka_topic_partition_list_t *subs;
	rd_kafka_resp_err_t err;

	c->conf = conf;
	c->targets = targets;
	c->ntargets = ntargets > 64 ? 64 : ntargets;
	c->sealed = calloc((size_t) c->ntargets, sizeof(sealed_t));
	c->inflight = calloc((size_t) c->ntargets, sizeof(sealed_t));
	c->pool_max = 2 * c->ntargets + 2;
	c->pool = calloc((size_t) c->pool_max, sizeof(sink_buf_t));
	pthread_mutex_init(&c->round_mu, NULL);
	pthread_cond_init(&c->round_cv, NULL);
	c->round_thread_ok = pthread_create(&c->round_thread, NULL, round_worker, c) == 0;
	c->target = targets[0];
	c->tmpl = tmpl;
	c->gzip = strcmp(conf->compression, "gzip") == 0;
	for (cfg_pair_t *f = conf->fields.head; f && nfields <= SINK_MAX_FIELDS; f = f->next)
		fields[nfields++] = f->value;
	if (sink_format_init(&c->fmt, fields, nfields, conf->value_envelope, conf->tombstones,
						 conf->invalid_records, errbuf, errlen) != 0)
	{
		rd_kafka_conf_destroy(rkconf);
		stop_round_worker(c);
		free(c->sealed);
		free(c->inflight);
		free(c->pool);
		free(c);
		return NULL;
	}
	rd_kafka_conf_set_opaque(rkconf, c);
	rd_kafka_conf_set_rebalance_cb(rkconf, rebalance_cb);
	rd_kafka_conf_set_error_cb(rkconf, error_cb);
	rd_kafka_conf_set_offset_commit_cb(rkconf, commit_cb);
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkconf, errbuf, errlen);
	if (c->rk == NULL)
	{
		rd_kafka_conf_destroy(rkconf);
		stop_round_worker(c);
		free(c->sealed);
		free(c->inflight);
		free(c->pool);
		free(c);
		return NULL;
	}
	rkconf = NULL;				/* now owned by c->rk */
	rd_kafka_poll_set_consumer(c->rk);

	subs = rd_kafka_topic_partition_list_new(conf->topics.count);
	for (cfg_pair_t *t = conf->topics.head; t; t = t->next)
		rd_kafka_topic_partition_list_add(subs, t->value, RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(c->rk, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	if (err)
	{
		snprintf(errbuf, errlen, "could not subscribe to the topics: %s", rd_kafka_err2str(err));
		rd_kafka_destroy(c->rk);
		stop_round_worker(c);
		free(c->sealed);
		free(c->inflight);
		free(c->pool);
		free(c);
		return NULL;
	}
	c->last_stats_ms = now_ms();
	return c;
}

int
sink_consumer_run(sink_consumer_t *c)
{
	while (!sink_stop_requested)
	{
		rd_kafka_message_t *rkm;

		/* a finished round is accounted for; waiting batches go up when no round is */
		if (c->round_running && atomic_load(&c->round_done))
			finish_round(c);
		if (c->nsealed > 0 && !c->round_running && !c->exit_code)
			launch_round(c, "flush.size", false);
		/* with batches waiting, start them as soon as the local queue is empty */
		rkm = rd_kafka_consumer_poll(c->rk, c->nsealed > 0 ? 0 : 100);
		if (rkm == NULL && c->nsealed > 0 && !c->exit_code)
			launch_round(c, "flush.size", false);
		if (rkm)
		{
			if (rkm->err)
			{
				if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
					log_warning("consumer error: %s%s%s", rd_kafka_message_errstr(rkm),
								rkm->rkt ? " on topic " : "",
								rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "");
			}
			else
				handle_message(c, rkm);
			rd_kafka_message_destroy(rkm);
		}
		if (!c->exit_code)
			check_timers(c);
		log_stats(c, false);
	}

	/* shutdown: store and commit what is buffered, unless stopping on an error */
	if (!c->exit_code)
	{
		log_info("shutting down: storing buffered batches");
		/* the wait loops in s3.c look at the stop flag: let them retry */
		sink_stop_requested = 0;
	}
	finish_round(c);
	if (!c->exit_code)
	{
		for (sink_part_t *p = c->parts; p && !c->exit_code; p = p->next)
			if (p->active && !p->failed)
				seal_batch(c, p, "shutdown");
		if (!c->exit_code)
			flush_round(c, "shutdown", true);
		sink_stop_requested = 1;
	}
	if (c->exit_code)
	{
		/* don't let the revoke in close() store anything */
		drop_sealed(c, NULL);
		for (sink_part_t *p = c->parts; p; p = p->next)
			part_discard(c, p);
	}
	log_stats(c, true);
	rd_kafka_consumer_close(c->rk);
	return c->exit_code;
}

void
sink_consumer_free(sink_consumer_t *c)
{
	sink_part_t *p,
			   *next;

	if (c == NULL)
		return;
	finish_round(c);
	stop_round_worker(c);
	if (c->rk)
		rd_kafka_destroy(c->rk);
	drop_sealed(c, NULL);
	free(c->sealed);
	free(c->inflight);
	for (int i = 0; i < c->npool; i++)
		sink_buf_free(&c->pool[i]);
	free(c->pool);
	for (p = c->parts; p; p = next)
	{
		next = p->next;
		sink_buf_free(&p->buf);
		free(p->topic);
		free(p);
	}
	free(c);
}
