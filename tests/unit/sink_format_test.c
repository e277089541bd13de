/*-------------------------------------------------------------------------
 *
 * sink_format_test.c
 *	  Record -> JSON line: the Aiven line, envelopes, tombstones, invalid
 *	  values, fields, gzip.
 *
 * IDENTIFICATION
 *	  tests/unit/sink_format_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "unit.h"
#include "../../sink/format.h"

static sink_format_t
fmt(const char *fields, const char *envelope, const char *tombstones, const char *invalid)
{
	sink_format_t f;
	char		err[256];
	char	   *copy = strdup(fields);
	const char *words[8];
	int			n = 0;

	for (char *w = strtok(copy, ","); w && n < 8; w = strtok(NULL, ","))
		words[n++] = w;
	if (sink_format_init(&f, words, n, envelope, tombstones, invalid, err, sizeof(err)) != 0)
		printf("# %s\n", err);
	free(copy);
	return f;
}

static int
line(const sink_format_t *f, const char *value, const char *key, sink_buf_t *out)
{
	char		err[256];
	sink_record_t r = {0};
	sink_header_t h[2] = {{"__debezium.newkey", "{\"id\":1}", 8}, {"n", NULL, 0}};

	r.topic = "debezium.commerce.products";
	r.partition = 0;
	r.offset = 42;
	r.timestamp = 1677669285154LL;
	r.value = value;
	r.value_len = value ? strlen(value) : 0;
	r.key = key;
	r.key_len = key ? strlen(key) : 0;
	r.headers = h;
	r.nheaders = 2;
	sink_buf_reset(out);
	return sink_format_record(f, &r, out, err, sizeof(err));
}

/* the real line of the original setup, and the envelope it came from */
static const char *envelope =
	"{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}],"
	"\"optional\":false,\"name\":\"debezium.commerce.products.Envelope\"},"
	"\"payload\":{\"before\":null,\"after\":{\"id\":66,\"name\":\"Veronica Roberts\",\"price\":\"DOQ=\"},"
	"\"op\":\"c\",\"ts_ms\":1677669285154,\"transaction\":null}}";
static const char *expected =
	"{\"value\":{\"before\":null,\"after\":{\"id\":66,\"name\":\"Veronica Roberts\",\"price\":\"DOQ=\"},"
	"\"op\":\"c\",\"ts_ms\":1677669285154,\"transaction\":null}}\n";

static void
test_default_line(void)
{
	sink_format_t f = fmt("value", "payload", "write", "stop");
	sink_buf_t	b = SINK_BUF_INIT;

	/* envelope is written */
	CHECK(line(&f, envelope, NULL, &b) == SINK_FORMAT_WRITTEN);
	/* {"value":<payload>} as the Aiven sink wrote it */
	CHECK_STR(b.data, expected);
	/* payload with spaces and newlines */
	CHECK(line(&f, "{\"schema\" : {}, \n \"payload\" : {\"x\": 1.10, \"big\": 123456789012345678901234567890}}", NULL, &b) == 0);
	/* numbers are copied byte for byte, not re-serialized */
	CHECK_STR(b.data, "{\"value\":{\"x\": 1.10, \"big\": 123456789012345678901234567890}}\n");
	/* schemaless value */
	CHECK(line(&f, "{\"after\":{\"id\":1}}", NULL, &b) == 0);
	/* a value that is not an envelope is written as is */
	CHECK_STR(b.data, "{\"value\":{\"after\":{\"id\":1}}}\n");
	/* pretty-printed value */
	CHECK(line(&f, "{\n  \"a\": \"x\\ny\"\n}\n", NULL, &b) == 0);
	/* line breaks of pretty JSON become spaces */
	CHECK_STR(b.data, "{\"value\":{   \"a\": \"x\\ny\" }}\n");
	/* string payload with escapes */
	CHECK(line(&f, "{\"schema\":null,\"payload\":\"s\\\"}\"}", NULL, &b) == 0);
	/* string payload */
	CHECK_STR(b.data, "{\"value\":\"s\\\"}\"}\n");
	/* tombstone written */
	CHECK(line(&f, NULL, "{\"schema\":{},\"payload\":{\"id\":1}}", &b) == SINK_FORMAT_WRITTEN);
	/* tombstone line */
	CHECK_STR(b.data, "{\"value\":null}\n");
	sink_buf_free(&b);
}

static void
test_options(void)
{
	sink_format_t keep = fmt("value", "keep", "write", "stop");
	sink_format_t skip = fmt("value", "payload", "skip", "stop");
	sink_format_t raw = fmt("value", "payload", "write", "raw");
	sink_format_t stop = fmt("value", "payload", "write", "stop");
	sink_format_t all = fmt("key,value,offset,timestamp,headers,topic,partition", "payload", "write", "stop");
	sink_buf_t	b = SINK_BUF_INIT;
	sink_format_t bad;
	char		err[256];
	const char *w[] = {"value", "nope"};

	/* keep */
	CHECK(line(&keep, "{\"schema\":{},\"payload\":{\"id\":1}}", NULL, &b) == 0);
	/* value.envelope=keep writes the envelope */
	CHECK_STR(b.data, "{\"value\":{\"schema\":{},\"payload\":{\"id\":1}}}\n");
	/* tombstones=skip skips */
	CHECK(line(&skip, NULL, NULL, &b) == SINK_FORMAT_SKIPPED && b.len == 0);
	/* invalid JSON is reported, nothing written */
	CHECK(line(&stop, "not json", NULL, &b) == SINK_FORMAT_INVALID && b.len == 0);
	/* invalid.records=raw writes */
	CHECK(line(&raw, "not \"json\"\n\xff", NULL, &b) == SINK_FORMAT_WRITTEN);
	/* raw value as a JSON string */
	CHECK_STR(b.data, "{\"value\":\"not \\\"json\\\"\\n\\u00ff\"}\n");
	/* all fields */
	CHECK(line(&all, envelope, "{\"schema\":{\"type\":\"struct\"},\"payload\":{\"id\":66}}", &b) == 0);
	{
		sink_buf_t	want = SINK_BUF_INIT;

		sink_buf_appends(&want, "{\"key\":{\"id\":66},\"value\":");
		sink_buf_append(&want, expected + 9, strlen(expected) - 9 - 2);
		sink_buf_appends(&want, ",\"offset\":42,\"timestamp\":1677669285154,\"headers\":[{\"key\":\"__debezium.newkey\",\"value\":\"{\\\"id\\\":1}\"},{\"key\":\"n\",\"value\":null}],\"topic\":\"debezium.commerce.products\",\"partition\":0}\n");
		/* key, value, offset, timestamp, headers, topic, partition in order */
		CHECK_STR(b.data, want.data);
		sink_buf_free(&want);
	}
	/* non-JSON key */
	CHECK(line(&all, "{}", "plain-key", &b) == 0);
	/* a key that is not JSON is written as a string */
	CHECK(strncmp(b.data, "{\"key\":\"plain-key\",", 19) == 0);
	/* unknown field rejected */
	CHECK(sink_format_init(&bad, w, 2, "payload", "write", "stop", err, sizeof(err)) == -1 &&
		  strstr(err, "nope") != NULL);
	sink_buf_free(&b);
}

static void
test_gzip(void)
{
	sink_buf_t	gz = SINK_BUF_INIT;
	char		err[128];
	char		out[256];
	z_stream	zs;

	/* gzip */
	CHECK(sink_gzip(expected, strlen(expected), &gz, err, sizeof(err)) == 0);
	/* gzip magic */
	CHECK(gz.len > 10 && (unsigned char) gz.data[0] == 0x1f && (unsigned char) gz.data[1] == 0x8b);
	memset(&zs, 0, sizeof(zs));
	inflateInit2(&zs, 15 + 16);
	zs.next_in = (Bytef *) gz.data;
	zs.avail_in = (uInt) gz.len;
	zs.next_out = (Bytef *) out;
	zs.avail_out = sizeof(out) - 1;
	/* gunzip */
	CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
	out[zs.total_out] = '\0';
	inflateEnd(&zs);
	/* gzip round trip */
	CHECK_STR(out, expected);
	sink_buf_free(&gz);
}

int
main(void)
{
	RUN(test_default_line);
	RUN(test_options);
	RUN(test_gzip);
	UNIT_MAIN_END("sink_format");
}
