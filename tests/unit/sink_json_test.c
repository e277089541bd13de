/*-------------------------------------------------------------------------
 *
 * sink_json_test.c
 *	  The strict JSON scanner of format.c: valid and invalid texts, nesting,
 *	  escapes, UTF-8, payload span extraction, and the lines written with
 *	  value.envelope payload and keep.
 *
 * IDENTIFICATION
 *	  tests/unit/sink_json_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "../../sink/format.h"

static int
scan(const char *text)
{
	sink_json_scan_t js;

	return sink_json_scan(text, strlen(text), &js);
}

/* the payload span as a string ("" when not an envelope) */
static const char *
payload(const char *text)
{
	static char out[4096];
	sink_json_scan_t js;

	if (sink_json_scan(text, strlen(text), &js) != 0)
		return "(invalid)";
	if (!js.envelope)
		return "";
	memcpy(out, js.payload, js.payload_len);
	out[js.payload_len] = '\0';
	return out;
}

static void
test_valid(void)
{
	static const char *const ok[] = {
		"{}", "[]", "0", "-0", "1", "-12", "1.5", "1e10", "1E+2", "-0.5e-3", "123456789012345678901234567890",
		"true", "false", "null", "\"\"", "\"abc\"", " \t\r\n{ \"a\" : [ 1 , 2 ] }\n ",
		"{\"a\":{\"b\":{\"c\":[[],{},[null]]}}}", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
		"\"\\u0041\\u00e9\\u20AC\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"",
		"\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"",
		"{\"schema\":null,\"payload\":null}", "[1,\"x\",true,false,null,{\"k\":-1.0e0}]",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
	{
		if (scan(ok[i]) != 0)
			fprintf(stderr, "# rejected valid: %s\n", ok[i]);
		CHECK(scan(ok[i]) == 0);
	}
}

static void
test_invalid(void)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{'a':1}",
		"{\"a\":1 \"b\":2}", "[1 2]", "01", "-", "+1", "1.", ".5", "1e", "1e+", "0x10", "NaN",
		"Infinity", "tru", "nul", "True", "null x", "{} {}", "\"abc", "\"a\\x\"", "\"\\u12\"",
		"\"\\u12G4\"", "\"\\ud83d\"", "\"\\ud83dx\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"",
		"\"a\tb\"", "\"a\nb\"", "\"\x01\"", "\"\x80\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"",
		"\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"", "\"\xff\"",
		"not json at all", "{\"schema\":{},\"payload\":}", "[1]]", "{\"a\":1}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (scan(bad[i]) == 0)
			fprintf(stderr, "# accepted invalid: %s\n", bad[i]);
		CHECK(scan(bad[i]) != 0);
	}
	/* a NUL byte inside (length given, not strlen) */
	{
		sink_json_scan_t js;

		CHECK(sink_json_scan("\"a\0b\"", 5, &js) != 0);
		CHECK(sink_json_scan("[1]\0", 4, &js) != 0);
		/* truncated texts: every proper prefix of a value is invalid */
		for (size_t n = 0; n < 21; n++)
			CHECK(sink_json_scan("{\"a\":[1,\"\\u00e9\",{}]}", n, &js) != 0);
		CHECK(sink_json_scan("{\"a\":[1,\"\\u00e9\",{}]}", 21, &js) == 0);
	}
}

static void
test_depth(void)
{
	char	   *deep = malloc(4000);
	int			n;

	/* 1024 levels pass, 1025 do not */
	for (int levels = 1024; levels <= 1025; levels++)
	{
		n = 0;
		for (int i = 0; i < levels; i++)
			deep[n++] = '[';
		for (int i = 0; i < levels; i++)
			deep[n++] = ']';
		deep[n] = '\0';
		CHECK(scan(deep) == (levels <= 1024 ? 0 : -1));
	}
	/* much deeper: rejected without exhausting the stack */
	n = 0;
	for (int i = 0; i < 3999; i++)
		deep[n++] = i % 2 ? '[' : '[';
	deep[n] = '\0';
	CHECK(scan(deep) == -1);
	free(deep);
}

static void
test_payload_span(void)
{
	sink_json_scan_t js;
	const char *text = "  {\"schema\":{\"type\":\"struct\"},\"payload\":{\"id\":1,\"s\":\"}\\\"{\"}} \n";

	CHECK_STR(payload("{\"schema\":{\"a\":[1,2]},\"payload\":{\"after\":{\"id\":66}}}"),
			  "{\"after\":{\"id\":66}}");
	/* order does not matter; whitespace around the value is not part of it */
	CHECK_STR(payload("{ \"payload\" :  [1, 2]  , \"schema\" : null }"), "[1, 2]");
	CHECK_STR(payload("{\"schema\":1,\"payload\":\"x\"}"), "\"x\"");
	CHECK_STR(payload("{\"schema\":1,\"payload\":-1.5e3}"), "-1.5e3");
	/* escaped member names count */
	CHECK_STR(payload("{\"sch\\u0065ma\":1,\"p\\u0061yload\":true}"), "true");
	/* not an envelope: a third member, a missing schema, other names, an array */
	CHECK_STR(payload("{\"schema\":1,\"payload\":2,\"x\":3}"), "");
	CHECK_STR(payload("{\"payload\":2}"), "");
	CHECK_STR(payload("{\"schema\":1,\"payloads\":2}"), "");
	CHECK_STR(payload("{\"a\":{\"schema\":1,\"payload\":2}}"), "");
	CHECK_STR(payload("[{\"schema\":1,\"payload\":2}]"), "");
	CHECK_STR(payload("{\"schema\":1,\"payload\":2"), "(invalid)");

	CHECK(sink_json_scan(text, strlen(text), &js) == 0);
	CHECK(js.envelope);
	CHECK(js.newline);
	CHECK(js.start == text + 2);
	CHECK(js.len == strlen(text) - 4);
	CHECK(js.payload_len == strlen("{\"id\":1,\"s\":\"}\\\"{\"}"));
	CHECK(memcmp(js.payload, "{\"id\":1,\"s\":\"}\\\"{\"}", js.payload_len) == 0);
}

static sink_format_t
fmt(const char *envelope, const char *invalid)
{
	sink_format_t f;
	char		err[256];
	const char *words[] = {"value"};

	if (sink_format_init(&f, words, 1, envelope, "write", invalid, err, sizeof(err)) != 0)
		printf("# %s\n", err);
	return f;
}

static int
line(const sink_format_t *f, const char *value, sink_buf_t *out)
{
	char		err[256];
	sink_record_t r = {0};

	r.topic = "t";
	r.value = value;
	r.value_len = strlen(value);
	sink_buf_reset(out);
	return sink_format_record(f, &r, out, err, sizeof(err));
}

static void
test_lines(void)
{
	sink_format_t pay = fmt("payload", "stop");
	sink_format_t keep = fmt("keep", "stop");
	sink_format_t raw = fmt("payload", "raw");
	sink_buf_t	out = SINK_BUF_INIT;
	const char *env = "{\n  \"schema\": {\"type\": \"struct\"},\n  \"payload\": {\"op\": \"c\",\n \"after\": {\"n\": \"\\u00e9\\n\"}}\n}\n";

	CHECK(line(&pay, env, &out) == SINK_FORMAT_WRITTEN);
	CHECK_STR(out.data, "{\"value\":{\"op\": \"c\",  \"after\": {\"n\": \"\\u00e9\\n\"}}}\n");
	CHECK(line(&keep, env, &out) == SINK_FORMAT_WRITTEN);
	CHECK_STR(out.data, "{\"value\":{   \"schema\": {\"type\": \"struct\"},   \"payload\": {\"op\": \"c\",  "
			  "\"after\": {\"n\": \"\\u00e9\\n\"}} }}\n");
	CHECK(line(&pay, " 42 ", &out) == SINK_FORMAT_WRITTEN);
	CHECK_STR(out.data, "{\"value\":42}\n");
	CHECK(line(&pay, "{\"schema\":1}", &out) == SINK_FORMAT_WRITTEN);
	CHECK_STR(out.data, "{\"value\":{\"schema\":1}}\n");
	/* invalid: stop leaves the buffer as it was; raw writes a string */
	sink_buf_reset(&out);
	sink_buf_appends(&out, "kept\n");
	{
		char		err[256];
		sink_record_t r = {0};

		r.topic = "t";
		r.value = "{\"a\":\"\xff\"}";
		r.value_len = strlen(r.value);
		CHECK(sink_format_record(&pay, &r, &out, err, sizeof(err)) == SINK_FORMAT_INVALID);
		CHECK_STR(out.data, "kept\n");
	}
	CHECK(line(&raw, "{\"a\":tru}", &out) == SINK_FORMAT_WRITTEN);
	CHECK_STR(out.data, "{\"value\":\"{\\\"a\\\":tru}\"}\n");
	sink_buf_free(&out);
}

int
main(void)
{
	RUN(test_valid);
	RUN(test_invalid);
	RUN(test_depth);
	RUN(test_payload_span);
	RUN(test_lines);
	UNIT_MAIN_END("sink_json");
}
