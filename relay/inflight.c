/*-------------------------------------------------------------------------
 *
 * inflight.c
 *	  FIFO of transactions whose records await Kafka delivery reports.
 *
 * This is the relay's delivery guarantee.  Every transaction read from the
 * slot gets an entry (a sequence number) at its 'B' frame; every record
 * produced for it bumps the entry's outstanding count, and every delivery
 * report decrements it.  At 'C' the entry learns its end LSN.  The entries
 * leave the FIFO only from the head, and only when committed with nothing
 * outstanding: acked_lsn is then the end LSN of the newest such entry, so
 * an LSN is reported as flushed only when every record of every
 * transaction committed at or before it has been acknowledged by Kafka.
 *
 * A failed delivery marks its entry failed; a failed entry never leaves
 * the FIFO, so nothing past it is ever confirmed.
 *
 * Offsets are therefore (commit LSN, position in transaction): a
 * transaction is confirmed whole or not at all, and after a restart the
 * slot replays it from its first record, so records sharing one LSN are
 * never skipped.
 *
 * Sequence numbers grow forever; an entry lives at ring[seq & (cap - 1)].
 * The ring doubles when full.
 *
 * IDENTIFICATION
 *	  relay/inflight.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "relay.h"

#define INFLIGHT_INITIAL_CAP 1024

static relay_txn_t *
entry(const relay_inflight_t *fl, uint64_t seq)
{
	return &fl->ring[seq & (fl->cap - 1)];
}

void
relay_inflight_init(relay_inflight_t *fl, relay_lsn_t start)
{
	memset(fl, 0, sizeof(*fl));
	fl->cap = INFLIGHT_INITIAL_CAP;
	fl->ring = calloc(fl->cap, sizeof(relay_txn_t));
	if (!fl->ring)
		log_fatal("out of memory");
	fl->acked_lsn = start;
	/* seq 0 is reserved for "untracked" in delivery opaques */
	fl->head = fl->tail = 1;
}

void
relay_inflight_free(relay_inflight_t *fl)
{
	free(fl->ring);
	fl->ring = NULL;
}

static void
grow(relay_inflight_t *fl)
{
	uint64_t	ncap = fl->cap * 2;
	relay_txn_t *nring = calloc(ncap, sizeof(relay_txn_t));

	if (!nring)
		log_fatal("out of memory");
	for (uint64_t s = fl->head; s < fl->tail; s++)
		nring[s & (ncap - 1)] = *entry(fl, s);
	free(fl->ring);
	fl->ring = nring;
	fl->cap = ncap;
}

/* pop every finished entry at the head and advance acked_lsn */
static void
advance(relay_inflight_t *fl)
{
	while (fl->head < fl->tail)
	{
		relay_txn_t *t = entry(fl, fl->head);

		if (!t->committed || t->outstanding > 0 || t->failed)
			break;
		if (t->end_lsn > fl->acked_lsn)
			fl->acked_lsn = t->end_lsn;
		if (t->produced > 0 && t->end_lsn > fl->last_commit)
			fl->last_commit = t->end_lsn;
		fl->head++;
	}
}

uint64_t
relay_inflight_begin(relay_inflight_t *fl, relay_lsn_t commit_lsn)
{
	relay_txn_t *t;
	uint64_t	seq;

	if (fl->tail - fl->head == fl->cap)
		grow(fl);
	seq = fl->tail++;
	t = entry(fl, seq);
	memset(t, 0, sizeof(*t));
	t->commit_lsn = commit_lsn;
	fl->open = true;
	return seq;
}

void
relay_inflight_add(relay_inflight_t *fl, uint64_t seq)
{
	relay_txn_t *t = entry(fl, seq);

	t->outstanding++;
	t->produced++;
	fl->outstanding++;
}

void
relay_inflight_commit(relay_inflight_t *fl, uint64_t seq, relay_lsn_t end_lsn)
{
	relay_txn_t *t = entry(fl, seq);

	t->committed = true;
	t->end_lsn = end_lsn;
	if (seq == fl->tail - 1)
		fl->open = false;
	advance(fl);
}

/*
 * A delivery report for a record of txn `seq`.  Called from the delivery
 * callback (main thread, inside rd_kafka_poll/flush).
 */
void
relay_inflight_ack(relay_inflight_t *fl, uint64_t seq, bool ok)
{
	relay_txn_t *t;

	if (seq < fl->head || seq >= fl->tail)
	{
		log_warning("delivery report for unknown transaction entry %llu",
					(unsigned long long) seq);
		return;
	}
	t = entry(fl, seq);
	if (t->outstanding > 0)
		t->outstanding--;
	if (fl->outstanding > 0)
		fl->outstanding--;
	if (!ok)
	{
		t->failed = true;
		fl->failed = true;
	}
	advance(fl);
}

/* nothing open and nothing awaiting a report */
bool
relay_inflight_idle(const relay_inflight_t *fl)
{
	return fl->head == fl->tail && !fl->open;
}

/*
 * The replication connection was lost in the middle of a transaction: its
 * open entry is dropped once its records are delivered (the slot will send
 * the transaction again).  Call only when fl->outstanding == 0.
 */
void
relay_inflight_discard_open(relay_inflight_t *fl)
{
	if (fl->open && fl->tail > fl->head)
	{
		relay_txn_t *t = entry(fl, fl->tail - 1);

		if (t->outstanding == 0 && !t->failed)
		{
			fl->tail--;
			fl->open = false;
		}
	}
	advance(fl);
}

/*
 * Nothing is in flight and the server says it has sent everything up to
 * lsn (a keepalive's walEnd): lsn may be confirmed, so that an idle slot
 * does not retain WAL written by other tables or databases.
 */
void
relay_inflight_advance_idle(relay_inflight_t *fl, relay_lsn_t lsn)
{
	if (relay_inflight_idle(fl) && !fl->failed && lsn > fl->acked_lsn)
		fl->acked_lsn = lsn;
}

uint64_t
relay_inflight_txns(const relay_inflight_t *fl)
{
	return fl->tail - fl->head;
}
