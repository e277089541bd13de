/*
 * common_cfg_test.c
 *	  Unit tests of the YAML configuration loader (common/cfg.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "unit.h"

typedef struct test_conf
{
	char	   *conninfo;
	char	   *password;
	char	   *prefix;
	int64_t		partitions;
	bool		tombstones;
	char	   *mode;
	cfg_list_t	tables;
	cfg_map_t	kafka;
} test_conf_t;

static const char *const modes[] = {"initial", "never", NULL};

static const cfg_option_t opts[] = {
	{"postgres/conninfo", CFG_STRING, offsetof(test_conf_t, conninfo), "dbname=postgres", 0, 0, NULL, NULL, 0, "libpq conninfo"},
	{"postgres/password", CFG_STRING, offsetof(test_conf_t, password), NULL, 0, 0, NULL, "FERRY_TEST_PGPASSWORD", CFG_SECRET, "password"},
	{"relay/topic.prefix", CFG_STRING, offsetof(test_conf_t, prefix), "ferry", 0, 0, NULL, NULL, 0, "prefix"},
	{"relay/topic.partitions", CFG_INT, offsetof(test_conf_t, partitions), "1", 1, 10000, NULL, NULL, 0, "partitions"},
	{"relay/tombstones.on.delete", CFG_BOOL, offsetof(test_conf_t, tombstones), "true", 0, 0, NULL, NULL, 0, "tombstones"},
	{"relay/snapshot.mode", CFG_ENUM, offsetof(test_conf_t, mode), "initial", 0, 0, modes, NULL, 0, "mode"},
	{"relay/table.include.list", CFG_LIST, offsetof(test_conf_t, tables), NULL, 0, 0, NULL, NULL, 0, "tables"},
	{"kafka", CFG_MAP, offsetof(test_conf_t, kafka), NULL, 0, 0, NULL, NULL, 0, "librdkafka"},
	{NULL}
};

static const char *const foreign[] = {"sink", NULL};

static char path[64];

static int
load(const char *yaml, test_conf_t *conf, char *err, size_t errlen)
{
	FILE	   *fp;

	snprintf(path, sizeof(path), "/tmp/ferry_cfg_test_%d.yaml", (int) getpid());
	fp = fopen(path, "w");
	fputs(yaml, fp);
	fclose(fp);
	memset(conf, 0, sizeof(*conf));
	err[0] = '\0';
	return cfg_load(path, opts, foreign, conf, err, errlen);
}

static void
test_values_and_defaults(void)
{
	test_conf_t conf;
	char		err[512];
	int			rc = load("postgres:\n"
						  "  conninfo: host=db\n"
						  "relay:\n"
						  "  topic.prefix: debezium\n"
						  "  table.include.list: [commerce.users, commerce.products]\n"
						  "  tombstones.on.delete: off\n"
						  "kafka:\n"
						  "  bootstrap.servers: 127.0.0.1:9092\n"
						  "  socket:\n"
						  "    timeout.ms: 1000\n"
						  "sink:\n"
						  "  anything: goes\n", &conf, err, sizeof(err));

	CHECK(rc == 0);
	CHECK_STR(conf.conninfo, "host=db");
	CHECK_STR(conf.prefix, "debezium");
	CHECK(conf.partitions == 1);
	CHECK(conf.tombstones == false);
	CHECK_STR(conf.mode, "initial");
	CHECK(conf.tables.count == 2);
	CHECK_STR(conf.tables.head->value, "commerce.users");
	CHECK(conf.kafka.count == 2);
	CHECK_STR(cfg_map_get(&conf.kafka, "socket.timeout.ms"), "1000");
	CHECK(cfg_map_get(&conf.kafka, "socket.timeout.ms") &&
		  conf.kafka.tail->line == 10);
	CHECK(cfg_line_of(opts, &conf, "relay/topic.prefix") == 4);
	CHECK(cfg_line_of(opts, &conf, "relay/snapshot.mode") == 0);
	cfg_free(opts, &conf);
}

static void
test_unknown_key_has_position(void)
{
	test_conf_t conf;
	char		err[512];
	int			rc = load("relay:\n  topic.prefx: x\n", &conf, err, sizeof(err));

	CHECK(rc == -1);
	CHECK(strstr(err, ":2:3: unrecognized configuration key \"relay/topic.prefx\"") != NULL);
	cfg_free(opts, &conf);
}

static void
test_bad_values(void)
{
	test_conf_t conf;
	char		err[512];

	CHECK(load("relay:\n  topic.partitions: 0\n", &conf, err, sizeof(err)) == -1);
	CHECK(strstr(err, "out of range") != NULL);
	cfg_free(opts, &conf);
	CHECK(load("relay:\n  topic.partitions: 3x\n", &conf, err, sizeof(err)) == -1);
	CHECK(strstr(err, ":2:21: invalid integer \"3x\"") != NULL);
	cfg_free(opts, &conf);
	CHECK(load("relay:\n  snapshot.mode: sometimes\n", &conf, err, sizeof(err)) == -1);
	CHECK(strstr(err, "expected one of initial, never") != NULL);
	cfg_free(opts, &conf);
	CHECK(load("relay:\n  tombstones.on.delete: perhaps\n", &conf, err, sizeof(err)) == -1);
	cfg_free(opts, &conf);
	CHECK(load("relay:\n  topic.prefix: a\n  topic.prefix: b\n", &conf, err, sizeof(err)) == -1);
	CHECK(strstr(err, ":3:3: duplicate configuration key") != NULL);
	cfg_free(opts, &conf);
	CHECK(load("relay: [1, 2\n", &conf, err, sizeof(err)) == -1);
	CHECK(strstr(err, "could not parse configuration") != NULL);
	cfg_free(opts, &conf);
	CHECK(load("other:\n  x: 1\n", &conf, err, sizeof(err)) == -1);
	CHECK(strstr(err, "unrecognized configuration key \"other\"") != NULL);
	cfg_free(opts, &conf);
}

static void
test_env_override(void)
{
	test_conf_t conf;
	char		err[512];

	setenv("FERRY_TEST_PGPASSWORD", "s3cret", 1);
	CHECK(load("postgres:\n  password: inline\n", &conf, err, sizeof(err)) == 0);
	CHECK_STR(conf.password, "s3cret");
	unsetenv("FERRY_TEST_PGPASSWORD");
	cfg_free(opts, &conf);
}

static void
test_missing_file(void)
{
	test_conf_t conf;
	char		err[512];

	memset(&conf, 0, sizeof(conf));
	CHECK(cfg_load("/nonexistent/ferry.yaml", opts, foreign, &conf, err, sizeof(err)) == -1);
	CHECK(strstr(err, "could not open configuration file \"/nonexistent/ferry.yaml\"") != NULL);
}

static void
test_lsn_parse(void)
{
	uint64_t	lsn = 0;

	CHECK(lsn_parse("16/B374D848", &lsn) && lsn == 0x16B374D848ULL);
	CHECK(!lsn_parse("16-B374D848", &lsn));
	CHECK(!lsn_parse("16/B374D848x", &lsn));
}

int
main(void)
{
	RUN(test_values_and_defaults);
	RUN(test_unknown_key_has_position);
	RUN(test_bad_values);
	RUN(test_env_override);
	RUN(test_missing_file);
	RUN(test_lsn_parse);
	unlink(path);
	UNIT_MAIN_END("common_cfg");
}
