/*-------------------------------------------------------------------------
 *
 * sink_template_test.c
 *	  Object names: the default layout, Aiven syntax, matching back.
 *
 * IDENTIFICATION
 *	  tests/unit/sink_template_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "../../sink/template.h"

/* 2023-03-01 11:14:44.960 UTC, the original setup's example record */
#define TS_2023_03_01_11 1677669284960LL

static char *
render(const char *text, const char *suffix, const char *topic, int partition,
	   long long offset, long long ts)
{
	char		err[256];
	sink_template_t *t = sink_template_parse(text, suffix, err, sizeof(err));
	sink_buf_t	b = SINK_BUF_INIT;

	if (t == NULL)
		return strdup(err);
	sink_template_render(t, topic, partition, offset, ts, &b);
	sink_template_free(t);
	return b.data;
}

static void
test_default_layout(void)
{
	char	   *s = render(SINK_DEFAULT_TEMPLATE, NULL, "debezium.commerce.products", 0, 0, TS_2023_03_01_11);

	/* default template gives the original layout */
	CHECK_STR(s, "debezium.commerce.products/2023-03-01/11/0000000000-00000000000000000000.json");
	free(s);
	s = render(SINK_DEFAULT_TEMPLATE, ".gz", "t", 3, 12345, 0);
	/* gzip appends .gz; epoch timestamp */
	CHECK_STR(s, "t/1970-01-01/00/0000000003-00000000000000012345.json.gz");
	free(s);
}

static void
test_aiven_syntax(void)
{
	const char *aiven = "/{{topic}}/{{timestamp:unit=yyyy}}-{{timestamp:unit=MM}}-{{timestamp:unit=dd}}/"
		"{{timestamp:unit=HH}}/{{partition:padding=true}}-{{start_offset:padding=true}}.json";
	char	   *s = render(aiven, NULL, "debezium.commerce.users", 2, 40, TS_2023_03_01_11);

	/* the original Aiven template pasted as is (leading '/' dropped) */
	CHECK_STR(s, "debezium.commerce.users/2023-03-01/11/0000000002-00000000000000000040.json");
	free(s);
	s = render("{{ topic }}-{{partition}}-{{start_offset}}", NULL, "x", 7, 99, 0);
	/* unpadded numbers, spaces inside braces */
	CHECK_STR(s, "x-7-99");
	free(s);
	s = render("{topic}/{partition:4}/{start_offset:8}.jsonl", NULL, "x", 7, 99, 0);
	/* explicit widths */
	CHECK_STR(s, "x/0007/00000099.jsonl");
	free(s);
}

static void
test_errors(void)
{
	char		err[256];
	const char *bad[] = {
		"{topic}/{partition}.json",			/* no start_offset */
		"{topic}/{start_offset}.json",		/* no partition */
		"{partition}-{start_offset}",		/* no topic */
		"{topic}/{partition}{start_offset}",	/* adjacent unpadded numbers */
		"{topic}/{partition}-{start_offset}-{key}",
		"{topic}/{timestamp:unit=ss}/{partition}-{start_offset}",
		"{topic}/{partition-{start_offset}",
		"{topic}}/{partition}-{start_offset}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		sink_template_t *t = sink_template_parse(bad[i], NULL, err, sizeof(err));

		/* rejects "%s" (%s) */
		CHECK(t == NULL && err[0] != '\0');
		sink_template_free(t);
	}
}

static void
test_match(void)
{
	char		err[256];
	sink_template_t *t = sink_template_parse(SINK_DEFAULT_TEMPLATE, NULL, err, sizeof(err));
	sink_template_t *u = sink_template_parse("{topic}-{partition}-{start_offset}", ".gz", err, sizeof(err));
	sink_buf_t	b = SINK_BUF_INIT;
	int32_t		p = -1;
	int64_t		o = -1;

	sink_template_list_prefix(t, "debezium.commerce.users", &b);
	/* list prefix of the default layout */
	CHECK_STR(b.data, "debezium.commerce.users/");
	/* match gives partition and start offset */
	CHECK(sink_template_match(t, "debezium.commerce.users/2023-03-01/11/0000000002-00000000000000000040.json",
							  "debezium.commerce.users", &p, &o) && p == 2 && o == 40);
	/* another topic does not match */
	CHECK(!sink_template_match(t, "debezium.commerce.users/2023-03-01/11/0000000002-00000000000000000040.json",
							   "debezium.commerce.user", &p, &o));
	/* wrong padding does not match */
	CHECK(!sink_template_match(t, "debezium.commerce.users/2023-03-01/11/0000000002-0000000000000000004.json",
							   "debezium.commerce.users", &p, &o));
	/* trailing text does not match */
	CHECK(!sink_template_match(t, "debezium.commerce.users/2023-03-01/11/0000000002-00000000000000000040.json.tmp",
							   "debezium.commerce.users", &p, &o));
	/* unpadded numbers and suffix match */
	CHECK(sink_template_match(u, "a.b-3-1234.gz", "a.b", &p, &o) && p == 3 && o == 1234);
	sink_buf_free(&b);
	sink_template_free(t);
	sink_template_free(u);
}

int
main(void)
{
	RUN(test_default_layout);
	RUN(test_aiven_syntax);
	RUN(test_errors);
	RUN(test_match);
	UNIT_MAIN_END("sink_template");
}
