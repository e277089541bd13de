/*-------------------------------------------------------------------------
 *
 * mock_kafka.c
 *	  A stand-alone Kafka broker for the demo and for tests: librdkafka's
 *	  mock cluster, served from this process until SIGTERM or SIGINT.
 *
 *	  mock_kafka [-b brokers] [-p partitions] [-t topic[:partitions]]...
 *	             [-f bootstrap-file]
 *
 * Prints "BOOTSTRAP=<host:port,...>" on stdout (and writes the bare address
 * to the -f file, atomically, when given) once the listeners are up, so a
 * script can start it in the background and wait for the file.
 *
 * What the mock cluster of librdkafka 2.0.2 serves (rdkafka_mock_handlers.c):
 * Produce, Fetch, ListOffsets, OffsetFetch, OffsetCommit, ApiVersions,
 * Metadata (with topic auto-creation), FindCoordinator, JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, InitProducerId and the transaction
 * requests.  It does NOT serve CreateTopics, DescribeConfigs or any other
 * admin request: a client that creates its topics with the Admin API gets
 * "broker: unsupported version" (or a timeout) and must fall back to
 * auto-creation.  Topics named in a Metadata request are auto-created with
 * the mock's own default of 4 partitions (there is no public setter in
 * 2.0.2); topics named with -t are created at start with -p partitions
 * (default 1, like a broker's num.partitions).  Data lives in memory only.
 *
 * IDENTIFICATION
 *	  tests/tools/mock_kafka.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_requested = 0;

static void
sigterm_handler(int signo)
{
	(void) signo;
	stop_requested = 1;
}

static void
usage(FILE *out)
{
	fprintf(out,
			"usage: mock_kafka [-b brokers] [-p partitions] [-t topic[:partitions]]... [-f file]\n"
			"  -b N      number of mock brokers (default 1)\n"
			"  -p N      partitions of the -t topics (default 1; auto-created topics get 4)\n"
			"  -t T[:N]  create topic T with N partitions (default -p) at start\n"
			"  -f FILE   also write the bootstrap address to FILE\n"
			"Runs until SIGTERM or SIGINT; prints BOOTSTRAP=<address> when ready.\n");
}

static int
parse_count(const char *s, const char *what)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 1000)
	{
		fprintf(stderr, "mock_kafka: invalid %s: \"%s\"\n", what, s);
		exit(2);
	}
	return (int) v;
}

/* write the address to path via a temporary file and rename(), so readers never see half */
static int
write_bootstrap_file(const char *path, const char *bootstraps)
{
	char		tmp[4096];
	FILE	   *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
	{
		fprintf(stderr, "mock_kafka: could not open file \"%s\": %s\n", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "%s\n", bootstraps);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
	{
		fprintf(stderr, "mock_kafka: could not write file \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int			brokers = 1;
	int			partitions = 1;
	const char *file = NULL;
	char	  **topics;
	int			ntopics = 0;
	int			opt;
	char		errstr[512];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mcluster;
	struct sigaction sa;
	const char *bootstraps;

	topics = calloc((size_t) argc, sizeof(char *));
	if (topics == NULL)
		return 1;

	while ((opt = getopt(argc, argv, "b:p:t:f:h")) != -1)
	{
		switch (opt)
		{
			case 'b':
				brokers = parse_count(optarg, "broker count");
				break;
			case 'p':
				partitions = parse_count(optarg, "partition count");
				break;
			case 't':
				topics[ntopics++] = optarg;
				break;
			case 'f':
				file = optarg;
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 2;
		}
	}
	if (optind != argc)
	{
		usage(stderr);
		return 2;
	}

	/*
	 * The mock cluster needs an rd_kafka_t for its bookkeeping; a producer
	 * that never produces does.  Its own broker connections are pointed at
	 * nothing useful, so keep its logs quiet.
	 */
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
	{
		fprintf(stderr, "mock_kafka: could not configure client: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL)
	{
		fprintf(stderr, "mock_kafka: could not create client: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	conf = NULL;				/* now owned by rk */

	mcluster = rd_kafka_mock_cluster_new(rk, brokers);
	if (mcluster == NULL)
	{
		fprintf(stderr, "mock_kafka: could not create mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}

	for (int i = 0; i < ntopics; i++)
	{
		char	   *name = topics[i];
		char	   *colon = strrchr(name, ':');
		int			n = partitions;
		rd_kafka_resp_err_t err;

		if (colon != NULL)
		{
			*colon = '\0';
			n = parse_count(colon + 1, "partition count");
		}
		err = rd_kafka_mock_topic_create(mcluster, name, n, brokers < 3 ? brokers : 3);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			fprintf(stderr, "mock_kafka: could not create topic \"%s\": %s\n",
					name, rd_kafka_err2str(err));
			rd_kafka_mock_cluster_destroy(mcluster);
			rd_kafka_destroy(rk);
			return 1;
		}
	}

	bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigterm_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (file != NULL && write_bootstrap_file(file, bootstraps) != 0)
	{
		rd_kafka_mock_cluster_destroy(mcluster);
		rd_kafka_destroy(rk);
		return 1;
	}
	printf("BOOTSTRAP=%s\n", bootstraps);
	fflush(stdout);

	while (!stop_requested)
		pause();

	fprintf(stderr, "mock_kafka: stopping\n");
	rd_kafka_mock_cluster_destroy(mcluster);
	rd_kafka_destroy(rk);
	free(topics);
	return 0;
}
