/*-------------------------------------------------------------------------
 *
 * relay_core_test.c
 *	  Unit tests of ferry-relay's frame parser, in-flight FIFO and schema
 *	  cache (relay/frame.c, relay/inflight.c, relay/schemas.c).
 *
 * IDENTIFICATION
 *	  tests/unit/relay_core_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "unit.h"
#include "wire.h"

volatile sig_atomic_t relay_stop_requested = 0;

/* ---- frame builders ---- */
typedef struct fb
{
	char		buf[4096];
	size_t		len;
} fb_t;

static void
put8(fb_t *b, uint8_t v)
{
	b->buf[b->len++] = (char) v;
}

static void
put16(fb_t *b, uint16_t v)
{
	put8(b, v >> 8);
	put8(b, v & 0xff);
}

static void
put32(fb_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b, v & 0xffff);
}

static void
put64(fb_t *b, uint64_t v)
{
	put32(b, (uint32_t) (v >> 32));
	put32(b, (uint32_t) v);
}

static void
putstr16(fb_t *b, const char *s)
{
	put16(b, (uint16_t) strlen(s));
	memcpy(b->buf + b->len, s, strlen(s));
	b->len += strlen(s);
}

static void
putstr32(fb_t *b, const char *s)
{
	if (!s)
	{
		put32(b, FERRY_WIRE_NULL_LEN);
		return;
	}
	put32(b, (uint32_t) strlen(s));
	memcpy(b->buf + b->len, s, strlen(s));
	b->len += strlen(s);
}

static int
slice_eq(relay_str_t s, const char *want)
{
	if (!want)
		return s.isnull;
	return !s.isnull && s.len == strlen(want) && memcmp(s.data, want, s.len) == 0;
}

static void
test_frame_begin_commit(void)
{
	fb_t		b = {0};
	relay_frame_t f;
	char		err[256];

	put8(&b, 'B');
	put32(&b, 777);
	put64(&b, 0x16B374D848ULL);
	put64(&b, (uint64_t) INT64_C(123456789));
	CHECK(relay_frame_parse(b.buf, b.len, &f, err, sizeof(err)) == 0);
	CHECK(f.type == 'B' && f.xid == 777 && f.final_lsn == 0x16B374D848ULL);
	CHECK(f.commit_time == 123456789);

	memset(&b, 0, sizeof(b));
	put8(&b, 'C');
	put32(&b, 777);
	put64(&b, 100);
	put64(&b, 200);
	put64(&b, 5);
	CHECK(relay_frame_parse(b.buf, b.len, &f, err, sizeof(err)) == 0);
	CHECK(f.type == 'C' && f.final_lsn == 100 && f.end_lsn == 200 && f.commit_time == 5);

	/* truncated and trailing bytes are errors */
	CHECK(relay_frame_parse(b.buf, b.len - 1, &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "truncated") != NULL);
	b.buf[b.len++] = 0;
	CHECK(relay_frame_parse(b.buf, b.len, &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "trailing") != NULL);
	CHECK(relay_frame_parse("X", 1, &f, err, sizeof(err)) == -1);
	CHECK(relay_frame_parse("", 0, &f, err, sizeof(err)) == -1);
}

static void
test_frame_schema_record(void)
{
	fb_t		b = {0};
	relay_frame_t f;
	char		err[256];
	const char *cur;
	relay_str_t n,
				v;

	put8(&b, 'S');
	put32(&b, 3);
	putstr16(&b, "debezium.commerce.users");
	putstr32(&b, NULL);
	putstr32(&b, "{\"type\":\"struct\"}");
	CHECK(relay_frame_parse(b.buf, b.len, &f, err, sizeof(err)) == 0);
	CHECK(f.schema_id == 3);
	CHECK(slice_eq(f.topic, "debezium.commerce.users"));
	CHECK(f.key_schema.isnull);
	CHECK(slice_eq(f.value_schema, "{\"type\":\"struct\"}"));

	memset(&b, 0, sizeof(b));
	put8(&b, 'R');
	put32(&b, 3);
	putstr32(&b, "{\"id\":1}");
	putstr32(&b, NULL);
	put16(&b, 2);
	putstr16(&b, "__debezium.newkey");
	putstr32(&b, "{\"id\":2}");
	putstr16(&b, "h2");
	putstr32(&b, NULL);
	CHECK(relay_frame_parse(b.buf, b.len, &f, err, sizeof(err)) == 0);
	CHECK(slice_eq(f.key, "{\"id\":1}"));
	CHECK(f.value.isnull);
	CHECK(f.n_headers == 2);
	cur = f.headers;
	relay_frame_header_next(&cur, &n, &v);
	CHECK(slice_eq(n, "__debezium.newkey") && slice_eq(v, "{\"id\":2}"));
	relay_frame_header_next(&cur, &n, &v);
	CHECK(slice_eq(n, "h2") && v.isnull);
	CHECK(cur == b.buf + b.len);

	/* a header count larger than the headers present */
	memset(&b, 0, sizeof(b));
	put8(&b, 'R');
	put32(&b, 0);
	putstr16(&b, "debezium.message");
	putstr32(&b, "k");
	putstr32(&b, "v");
	put16(&b, 1);
	CHECK(relay_frame_parse(b.buf, b.len, &f, err, sizeof(err)) == -1);
	put16(&b, 0);				/* turn it into a header named "" ... */
	put32(&b, 0);				/* ... with value "" */
	CHECK(relay_frame_parse(b.buf, b.len, &f, err, sizeof(err)) == 0);
	CHECK(f.schema_id == 0 && slice_eq(f.topic, "debezium.message"));

	/* schema id 0 in an S frame is invalid */
	memset(&b, 0, sizeof(b));
	put8(&b, 'S');
	put32(&b, 0);
	putstr16(&b, "t");
	putstr32(&b, NULL);
	putstr32(&b, NULL);
	CHECK(relay_frame_parse(b.buf, b.len, &f, err, sizeof(err)) == -1);

	/* a str32 length running past the end */
	memset(&b, 0, sizeof(b));
	put8(&b, 'R');
	put32(&b, 1);
	put32(&b, 0x7fffffff);
	CHECK(relay_frame_parse(b.buf, b.len, &f, err, sizeof(err)) == -1);
}

static void
test_inflight_order(void)
{
	relay_inflight_t fl;
	uint64_t	a,
				b;

	relay_inflight_init(&fl, 50);
	CHECK(relay_inflight_idle(&fl));
	a = relay_inflight_begin(&fl, 100);
	relay_inflight_add(&fl, a);
	relay_inflight_add(&fl, a);
	relay_inflight_commit(&fl, a, 110);
	b = relay_inflight_begin(&fl, 200);
	relay_inflight_add(&fl, b);
	relay_inflight_commit(&fl, b, 210);
	CHECK(fl.acked_lsn == 50);
	/* the later transaction is acknowledged first: nothing moves */
	relay_inflight_ack(&fl, b, true);
	CHECK(fl.acked_lsn == 50);
	relay_inflight_ack(&fl, a, true);
	CHECK(fl.acked_lsn == 50);
	relay_inflight_ack(&fl, a, true);
	/* both done: confirms the newest end LSN */
	CHECK(fl.acked_lsn == 210);
	CHECK(relay_inflight_idle(&fl));
	CHECK(fl.outstanding == 0);

	/* keepalive advance only when idle */
	relay_inflight_advance_idle(&fl, 300);
	CHECK(fl.acked_lsn == 300);
	a = relay_inflight_begin(&fl, 400);
	relay_inflight_advance_idle(&fl, 500);
	CHECK(fl.acked_lsn == 300);
	relay_inflight_commit(&fl, a, 410);	/* empty transaction */
	CHECK(fl.acked_lsn == 410);
	relay_inflight_free(&fl);
}

static void
test_inflight_failure(void)
{
	relay_inflight_t fl;
	uint64_t	a,
				b;

	relay_inflight_init(&fl, 0);
	a = relay_inflight_begin(&fl, 100);
	relay_inflight_add(&fl, a);
	relay_inflight_commit(&fl, a, 110);
	b = relay_inflight_begin(&fl, 200);
	relay_inflight_add(&fl, b);
	relay_inflight_commit(&fl, b, 210);
	relay_inflight_ack(&fl, a, false);
	relay_inflight_ack(&fl, b, true);
	/* nothing confirmed past a failed delivery, ever */
	CHECK(fl.acked_lsn == 0);
	CHECK(fl.failed);
	relay_inflight_advance_idle(&fl, 1000);
	CHECK(fl.acked_lsn == 0);
	relay_inflight_free(&fl);
}

static void
test_inflight_discard_and_grow(void)
{
	relay_inflight_t fl;
	uint64_t	seqs[5000];

	relay_inflight_init(&fl, 0);
	/* many transactions in flight: the ring grows, order is kept */
	for (int i = 0; i < 5000; i++)
	{
		seqs[i] = relay_inflight_begin(&fl, (uint64_t) (i + 1) * 10);
		relay_inflight_add(&fl, seqs[i]);
		relay_inflight_commit(&fl, seqs[i], (uint64_t) (i + 1) * 10 + 5);
	}
	CHECK(relay_inflight_txns(&fl) == 5000);
	for (int i = 4999; i >= 1; i--)
		relay_inflight_ack(&fl, seqs[i], true);
	CHECK(fl.acked_lsn == 0);
	relay_inflight_ack(&fl, seqs[0], true);
	CHECK(fl.acked_lsn == 50005);
	CHECK(relay_inflight_txns(&fl) == 0);

	/* connection lost mid-transaction: the open entry is dropped */
	seqs[0] = relay_inflight_begin(&fl, 60000);
	relay_inflight_add(&fl, seqs[0]);
	relay_inflight_ack(&fl, seqs[0], true);
	CHECK(!relay_inflight_idle(&fl));
	relay_inflight_discard_open(&fl);
	CHECK(relay_inflight_idle(&fl));
	CHECK(fl.acked_lsn == 50005);
	relay_inflight_free(&fl);
}

static void
test_schemas(void)
{
	relay_schemas_t sc;
	relay_schema_t *s;

	relay_schemas_init(&sc);
	for (uint32_t id = 1; id <= 1000; id++)
	{
		s = relay_schemas_put(&sc, id);
		s->key_schema = strdup("k");
		s->key_schema_len = 1;
	}
	CHECK(sc.count == 1000);
	for (uint32_t id = 1; id <= 1000; id++)
	{
		s = relay_schemas_get(&sc, id);
		CHECK(s && s->id == id && s->key_schema && s->key_schema[0] == 'k');
	}
	CHECK(relay_schemas_get(&sc, 1001) == NULL);
	/* redefinition clears the old schemas */
	s = relay_schemas_put(&sc, 7);
	CHECK(s->key_schema == NULL && s->id == 7);
	relay_schemas_reset(&sc);
	CHECK(relay_schemas_get(&sc, 7) == NULL);
	relay_schemas_free(&sc);
}

static void
test_plugin_options(void)
{
	relay_config_t cfg;
	char		out[8192];

	memset(&cfg, 0, sizeof(cfg));
	cfg.topic_prefix = "it's";
	cfg.decimal_mode = "precise";
	cfg.time_mode = "adaptive";
	cfg.binary_mode = "bytes";
	cfg.skipped_operations = "t";
	cfg.schemas_enable = true;
	cfg.run_id = "r1";
	cfg_map_set(&cfg.schema_include, NULL, "commerce", 1);
	cfg_map_set(&cfg.schema_include, NULL, "sales_\\d+", 1);

	relay_plugin_options(&cfg, false, out, sizeof(out));
	CHECK(strncmp(out, "(\"format\" 'relay', \"wire-version\" '1', \"topic.prefix\" 'it''s', ", 56) == 0);
	CHECK(strstr(out, "\"schema.include.list\" 'commerce,sales_\\d+'") != NULL);
	CHECK(strstr(out, "\"schemas.enable\" 'true'") != NULL);
	CHECK(strstr(out, "\"run.id\" 'r1')") != NULL);
	CHECK(strstr(out, "table.include.list") == NULL);

	relay_plugin_options(&cfg, true, out, sizeof(out));
	CHECK(strncmp(out, "ARRAY['format=relay', 'wire-version=1', 'topic.prefix=it''s', ", 61) == 0);
	CHECK(strstr(out, "]::text[]") != NULL);
	for (cfg_pair_t *e = cfg.schema_include.head, *next; e; e = next)
	{
		next = e->next;
		free(e->key);
		free(e->value);
		free(e);
	}
}

int
main(void)
{
	RUN(test_frame_begin_commit);
	RUN(test_frame_schema_record);
	RUN(test_inflight_order);
	RUN(test_inflight_failure);
	RUN(test_inflight_discard_and_grow);
	RUN(test_schemas);
	RUN(test_plugin_options);
	UNIT_MAIN_END("relay_core_test");
}
