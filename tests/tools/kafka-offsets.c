/*-------------------------------------------------------------------------
 *
 * kafka-offsets.c
 *	  Print how many records each Kafka topic holds: the sum over its
 *	  partitions of high watermark minus low watermark.
 *
 *	  kafka-offsets [-X prop=value]... BOOTSTRAP TOPIC...
 *
 * One line per topic, "TOPIC N", N = -1 when the topic does not exist (yet)
 * or could not be queried.  Used by the demo to show what reached Kafka per
 * table; works against a real broker and the mock cluster alike.
 *
 * IDENTIFICATION
 *	  tests/tools/kafka-offsets.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define TIMEOUT_MS 5000

static int
set_prop(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char		errstr[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
	{
		fprintf(stderr, "kafka-offsets: could not set \"%s\": %s\n", name, errstr);
		return -1;
	}
	return 0;
}

/* records held by `topic`, or -1 */
static int64_t
topic_records(rd_kafka_t *rk, const char *topic)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	int64_t		total = 0;

	if (rkt == NULL)
		return -1;
	if (rd_kafka_metadata(rk, 0, rkt, &md, TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR ||
		md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
		total = -1;
	else
	{
		for (int i = 0; i < md->topics[0].partition_cnt && total >= 0; i++)
		{
			int64_t		lo,
						hi;

			if (rd_kafka_query_watermark_offsets(rk, topic, md->topics[0].partitions[i].id,
												 &lo, &hi, TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
				total = -1;
			else
				total += hi - lo;
		}
	}
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return total;
}

int
main(int argc, char **argv)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	char		errstr[512];
	int			opt;

	/* never create a topic by asking about it */
	if (set_prop(conf, "allow.auto.create.topics", "false") != 0 ||
		set_prop(conf, "log_level", "3") != 0)
		return 1;
	while ((opt = getopt(argc, argv, "X:h")) != -1)
	{
		char	   *eq;

		switch (opt)
		{
			case 'X':
				eq = strchr(optarg, '=');
				if (eq == NULL)
				{
					fprintf(stderr, "kafka-offsets: -X takes prop=value\n");
					return 2;
				}
				*eq = '\0';
				if (set_prop(conf, optarg, eq + 1) != 0)
					return 2;
				break;
			default:
				fprintf(opt == 'h' ? stdout : stderr,
						"usage: kafka-offsets [-X prop=value]... BOOTSTRAP TOPIC...\n");
				return opt == 'h' ? 0 : 2;
		}
	}
	if (argc - optind < 2)
	{
		fprintf(stderr, "usage: kafka-offsets [-X prop=value]... BOOTSTRAP TOPIC...\n");
		return 2;
	}
	if (set_prop(conf, "bootstrap.servers", argv[optind]) != 0)
		return 2;
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (rk == NULL)
	{
		fprintf(stderr, "kafka-offsets: could not create client: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	conf = NULL;				/* now owned by rk */
	for (int i = optind + 1; i < argc; i++)
		printf("%s %lld\n", argv[i], (long long) topic_records(rk, argv[i]));
	rd_kafka_destroy(rk);
	return 0;
}
