/*-------------------------------------------------------------------------
 *
 * main.c
 *	  ferry-relay: stream the `ferry` slot into one Kafka topic per table.
 *
 * Arguments, configuration, signals, --check-config, and the hand-over to
 * relay_stream_main() (stream.c).
 *
 * IDENTIFICATION
 *	  relay/main.c
 *
 *-------------------------------------------------------------------------
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "cfg.h"
#include "log.h"
#include "relay.h"
#include "wire.h"

volatile sig_atomic_t relay_stop_requested = 0;

static const char *progname = "ferry-relay";

static const char *const snapshot_modes[] = {"initial", "never", "initial_only", "always", NULL};
static const char *const decimal_modes[] = {"precise", "double", "string", NULL};
static const char *const time_modes[] = {"adaptive", "adaptive_time_microseconds", "connect", NULL};
static const char *const binary_modes[] = {"bytes", "base64", "base64-url-safe", "hex", NULL};
static const char *const log_levels[] = {"error", "warning", "info", "debug", NULL};

#define OFF(f) offsetof(relay_config_t, f)

const cfg_option_t relay_config_options[] = {
	{"postgres/conninfo", CFG_STRING, OFF(pg_conninfo), "host=127.0.0.1 port=5432 dbname=postgres user=postgres",
	0, 0, NULL, "FERRY_PG_CONNINFO", CFG_SECRET, "libpq connection string of the source database"},
	{"postgres/password", CFG_STRING, OFF(pg_password), NULL,
	0, 0, NULL, "FERRY_PG_PASSWORD", CFG_SECRET, "password (overrides the conninfo's; or use PGPASSWORD / .pgpass)"},

	{"kafka", CFG_MAP, OFF(kafka), NULL, 0, 0, NULL, NULL, 0,
	"librdkafka properties, passed verbatim (secrets: FERRY_KAFKA_SASL_USERNAME, FERRY_KAFKA_SASL_PASSWORD, FERRY_KAFKA_SSL_KEY_PASSWORD)"},

	{"relay/slot.name", CFG_STRING, OFF(slot_name), "ferry", 0, 0, NULL, NULL, 0,
	"logical replication slot (created with plugin ferry if absent, never dropped)"},
	{"relay/snapshot.mode", CFG_ENUM, OFF(snapshot_mode), "initial", 0, 0, snapshot_modes, NULL, 0,
	"initial: snapshot when the slot is created; never; initial_only: snapshot and exit; always: snapshot at every start"},
	{"relay/topic.prefix", CFG_STRING, OFF(topic_prefix), "debezium", 0, 0, NULL, NULL, 0,
	"topics are <topic.prefix>.<schema>.<table>"},
	{"relay/schema.include.list", CFG_LIST, OFF(schema_include), NULL, 0, 0, NULL, NULL, 0,
	"regular expressions matching whole schema names to capture"},
	{"relay/schema.exclude.list", CFG_LIST, OFF(schema_exclude), NULL, 0, 0, NULL, NULL, 0,
	"regular expressions matching whole schema names not to capture"},
	{"relay/table.include.list", CFG_LIST, OFF(table_include), NULL, 0, 0, NULL, NULL, 0,
	"regular expressions matching whole schema.table names to capture"},
	{"relay/table.exclude.list", CFG_LIST, OFF(table_exclude), NULL, 0, 0, NULL, NULL, 0,
	"regular expressions matching whole schema.table names not to capture"},
	{"relay/column.exclude.list", CFG_LIST, OFF(column_exclude), NULL, 0, 0, NULL, NULL, 0,
	"regular expressions matching whole schema.table.column names to leave out"},
	{"relay/decimal.handling.mode", CFG_ENUM, OFF(decimal_mode), "precise", 0, 0, decimal_modes, NULL, 0,
	"Debezium decimal.handling.mode"},
	{"relay/time.precision.mode", CFG_ENUM, OFF(time_mode), "adaptive", 0, 0, time_modes, NULL, 0,
	"Debezium time.precision.mode"},
	{"relay/binary.handling.mode", CFG_ENUM, OFF(binary_mode), "bytes", 0, 0, binary_modes, NULL, 0,
	"Debezium binary.handling.mode"},
	{"relay/schemas.enable", CFG_BOOL, OFF(schemas_enable), "true", 0, 0, NULL, NULL, 0,
	"JsonConverter schemas.enable: {\"schema\":...,\"payload\":...} keys and values"},
	{"relay/tombstones.on.delete", CFG_BOOL, OFF(tombstones_on_delete), "true", 0, 0, NULL, NULL, 0,
	"a null-value record after each delete"},
	{"relay/include.unknown.datatypes", CFG_BOOL, OFF(include_unknown), "false", 0, 0, NULL, NULL, 0,
	"Debezium include.unknown.datatypes"},
	{"relay/skipped.operations", CFG_STRING, OFF(skipped_operations), "t", 0, 0, NULL, NULL, 0,
	"operations not emitted (c,u,d,t or none)"},
	{"relay/provide.transaction.metadata", CFG_BOOL, OFF(provide_tx_metadata), "false", 0, 0, NULL, NULL, 0,
	"BEGIN/END records in <topic.prefix>.transaction"},
	{"relay/run.id", CFG_STRING, OFF(run_id), NULL, 0, 0, NULL, NULL, 0,
	"__debezium.context.runId header (default: a new UUID per start)"},
	{"relay/topic.creation.enable", CFG_BOOL, OFF(topic_create), "true", 0, 0, NULL, NULL, 0,
	"create missing topics with the admin API"},
	{"relay/topic.partitions", CFG_INT, OFF(topic_partitions), "1", 1, 100000, NULL, NULL, 0,
	"partitions of created topics"},
	{"relay/topic.replication.factor", CFG_INT, OFF(topic_replication), "-1", -1, 1000, NULL, NULL, 0,
	"replication factor of created topics (-1: broker default)"},
	{"relay/heartbeat.interval.ms", CFG_INT, OFF(heartbeat_interval_ms), "0", 0, INT32_MAX, NULL, NULL, 0,
	"Debezium heartbeat records every N ms (0: off)"},
	{"relay/topic.heartbeat.prefix", CFG_STRING, OFF(heartbeat_prefix), "__debezium-heartbeat", 0, 0, NULL, NULL, 0,
	"heartbeat topic is <topic.heartbeat.prefix>.<topic.prefix>"},
	{"relay/heartbeat.action.query", CFG_STRING, OFF(heartbeat_query), NULL, 0, 0, NULL, NULL, 0,
	"SQL run on each heartbeat, e.g. SELECT pg_logical_emit_message(false, 'heartbeat', now()::text)"},
	{"relay/status.interval.ms", CFG_INT, OFF(status_interval_ms), "10000", 100, 3600000, NULL, NULL, 0,
	"standby status update interval"},
	{"relay/stats.interval.ms", CFG_INT, OFF(stats_interval_ms), "10000", 100, 86400000, NULL, NULL, 0,
	"interval of the stats log line"},
	{"relay/slot.retained.wal.warn.bytes", CFG_INT, OFF(wal_warn_bytes), "1073741824", 0, INT64_MAX, NULL, NULL, 0,
	"warn when the slot retains more WAL than this"},
	{"relay/slot.check.interval.ms", CFG_INT, OFF(wal_check_interval_ms), "60000", 0, 86400000, NULL, NULL, 0,
	"how often retained WAL is checked (0: never)"},
	{"relay/slot.wait.ms", CFG_INT, OFF(slot_wait_ms), "5000", 0, 3600000, NULL, NULL, 0,
	"at start, how long to wait for a slot held by another process"},
	{"relay/replication.timeout.ms", CFG_INT, OFF(replication_timeout_ms), "120000", 1000, 3600000, NULL, NULL, 0,
	"reconnect when the server sends nothing for this long (a keepalive is requested at half)"},
	{"relay/reconnect.backoff.ms", CFG_INT, OFF(reconnect_min_ms), "500", 10, 3600000, NULL, NULL, 0,
	"first reconnect delay after a lost Postgres connection"},
	{"relay/reconnect.backoff.max.ms", CFG_INT, OFF(reconnect_max_ms), "30000", 10, 3600000, NULL, NULL, 0,
	"reconnect delay cap (doubles up to this)"},
	{"relay/kafka.timeout.ms", CFG_INT, OFF(kafka_timeout_ms), "10000", 100, 3600000, NULL, NULL, 0,
	"timeout of the start-up broker check and topic creation"},
	{"relay/shutdown.timeout.ms", CFG_INT, OFF(shutdown_timeout_ms), "30000", 0, 3600000, NULL, NULL, 0,
	"how long a stop waits for Kafka to acknowledge what is in flight"},
	{"relay/snapshot.fetch.size", CFG_INT, OFF(snapshot_fetch), "10000", 1, 10000000, NULL, NULL, 0,
	"rows fetched per round trip during the snapshot"},
	{"relay/log.level", CFG_ENUM, OFF(log_level), "info", 0, 0, log_levels, "FERRY_LOG_LEVEL", 0,
	"error, warning, info or debug"},
	{NULL}
};

static void
usage(void)
{
	printf("%s streams the \"ferry\" logical replication slot into Kafka, one topic per table.\n\n", progname);
	printf("Usage:\n  %s -c FILE [--check-config | --dump-config]\n\n", progname);
	printf("Options:\n"
		   "  -c, --config=FILE   YAML configuration (sections postgres:, kafka:, relay:;\n"
		   "                      a sink: section is ignored)\n"
		   "      --check-config  validate the file, connect to Postgres and Kafka, exit\n"
		   "      --dump-config   print the effective configuration (secrets hidden), exit\n"
		   "  -V, --version       print the version, exit\n"
		   "  -h, --help          show this help, exit\n\n");
	printf("Exit status:\n"
		   "  0  stopped by SIGTERM/SIGINT after delivering and confirming what was in\n"
		   "     flight; snapshot.mode=initial_only finished; --check-config passed\n"
		   "  1  runtime error: cannot connect to Postgres or Kafka at start, slot held by\n"
		   "     another process or made by another plugin, a record Kafka refused for good,\n"
		   "     a fatal producer error, a frame the relay cannot parse; or a second signal\n"
		   "  2  configuration or usage error (the message names file:line:col and key)\n\n");
	printf("Signals: SIGTERM/SIGINT stop reading, flush Kafka, send the final feedback,\n"
		   "exit 0; a second one exits at once (nothing more is confirmed). SIGHUP is\n"
		   "ignored (the configuration is read at start only).\n\n");
	printf("Configuration keys (defaults):\n");
	cfg_help(relay_config_options, stdout);
}

static void
sig_stop(int signo)
{
	(void) signo;
	if (relay_stop_requested)
	{
		static const char msg[] = "ferry-relay: second signal, exiting at once\n";

		(void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
		_exit(RELAY_EXIT_ERROR);
	}
	relay_stop_requested = 1;
}

static void
signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* no reload: the configuration is read once; SIGHUP must not kill the relay */
	sigaction(SIGHUP, &sa, NULL);
}

/* a random (version 4) UUID for run.id */
static void
uuid_new(char *out, size_t outlen)
{
	unsigned char b[16];
	int			fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t) sizeof(b))
	{
		for (int i = 0; i < 16; i++)
			b[i] = (unsigned char) (rand() ^ getpid());
	}
	if (fd >= 0)
		close(fd);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, outlen,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
			 b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* semantic checks the option table cannot express */
static int
config_validate(const relay_config_t *cfg, const char *file, char *errbuf, size_t errlen)
{
	const char *bad = NULL;
	const char *what = NULL;

	if (!cfg->topic_prefix || !*cfg->topic_prefix)
		bad = "relay/topic.prefix", what = "must not be empty";
	else if (!cfg->slot_name || !*cfg->slot_name)
		bad = "relay/slot.name", what = "must not be empty";
	else if (strspn(cfg->slot_name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(cfg->slot_name) ||
			 strlen(cfg->slot_name) > 63)
		bad = "relay/slot.name", what = "may contain only lower-case letters, digits and underscores (at most 63)";
	else if (cfg->schema_include.count && cfg->schema_exclude.count)
		bad = "relay/schema.exclude.list", what = "cannot be set together with schema.include.list";
	else if (cfg->table_include.count && cfg->table_exclude.count)
		bad = "relay/table.exclude.list", what = "cannot be set together with table.include.list";
	else if (cfg->reconnect_max_ms < cfg->reconnect_min_ms)
		bad = "relay/reconnect.backoff.max.ms", what = "must not be less than reconnect.backoff.ms";
	if (bad)
	{
		snprintf(errbuf, errlen, "%s:%d: invalid value for \"%s\": %s", file,
				 cfg_line_of(relay_config_options, cfg, bad), bad, what);
		return -1;
	}
	return 0;
}

/* --check-config: both ends reachable, slot usable; nothing streamed */
static int
check_config(const relay_config_t *cfg, relay_producer_t *p)
{
	char		err[1024];
	PGconn	   *conn;
	PGresult   *res;
	int			rc = RELAY_EXIT_OK;
	const char *params[1] = {cfg->slot_name};

	conn = relay_pg_connect(cfg, false, err, sizeof(err));
	if (!conn)
	{
		log_error("%s", err);
		return RELAY_EXIT_ERROR;
	}
	res = PQexecParams(conn,
					   "SELECT current_setting('wal_level'), "
					   "(SELECT plugin || ' ' || COALESCE(active_pid, 0) FROM pg_replication_slots WHERE slot_name = $1), "
					   "(SELECT count(*) FROM pg_extension WHERE extname = 'ferry')",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		log_error("could not query server settings: %s", PQerrorMessage(conn));
		rc = RELAY_EXIT_ERROR;
	}
	else
	{
		if (strcmp(PQgetvalue(res, 0, 0), "logical") != 0)
		{
			log_error("wal_level is \"%s\" on the server: logical decoding needs wal_level = logical",
					  PQgetvalue(res, 0, 0));
			rc = RELAY_EXIT_ERROR;
		}
		if (strcmp(PQgetvalue(res, 0, 2), "0") == 0 && strcmp(cfg->snapshot_mode, "never") != 0)
		{
			log_error("extension \"ferry\" is not installed in this database: run CREATE EXTENSION ferry "
					  "(the snapshot needs ferry.snapshot_table()), or set snapshot.mode to never");
			rc = RELAY_EXIT_ERROR;
		}
		if (PQgetisnull(res, 0, 1))
			log_info("replication slot \"%s\" does not exist yet: it will be created", cfg->slot_name);
		else
		{
			char		plugin[64];
			int			pid = 0;

			sscanf(PQgetvalue(res, 0, 1), "%63s %d", plugin, &pid);
			if (strcmp(plugin, "ferry") != 0)
			{
				log_error("replication slot \"%s\" uses output plugin \"%s\", not \"ferry\"",
						  cfg->slot_name, plugin);
				rc = RELAY_EXIT_ERROR;
			}
			else if (pid != 0)
				log_warning("replication slot \"%s\" is active for PID %d", cfg->slot_name, pid);
			else
				log_info("replication slot \"%s\" exists", cfg->slot_name);
		}
	}
	PQclear(res);
	PQfinish(conn);

	conn = relay_pg_connect(cfg, true, err, sizeof(err));
	if (!conn)
	{
		log_error("%s", err);
		return RELAY_EXIT_ERROR;
	}
	res = PQexec(conn, "IDENTIFY_SYSTEM");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		log_error("could not identify system: %s", PQerrorMessage(conn));
		rc = RELAY_EXIT_ERROR;
	}
	else
		log_info("connected to PostgreSQL (replication), system %s, timeline %s",
				 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	PQfinish(conn);

	if (relay_producer_check(p, (int) cfg->kafka_timeout_ms, err, sizeof(err)) < 0)
	{
		log_error("%s", err);
		rc = RELAY_EXIT_ERROR;
	}
	if (rc == RELAY_EXIT_OK)
		log_info("configuration ok");
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'C'},
		{"dump-config", no_argument, NULL, 'D'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *file = NULL;
	bool		check = false;
	bool		dump = false;
	relay_config_t cfg;
	relay_inflight_t fl;
	relay_producer_t *p;
	char		err[2048];
	char		run_id[40];
	log_level_t level;
	int			c;
	int			rc;

	log_init(progname, LOG_LEVEL_INFO);
	while ((c = getopt_long(argc, argv, "c:Vh", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'c':
				file = optarg;
				break;
			case 'C':
				check = true;
				break;
			case 'D':
				dump = true;
				break;
			case 'V':
				printf("ferry-relay %s (librdkafka %s, libpq %d, wire version %d)\n",
					   RELAY_VERSION, rd_kafka_version_str(), PQlibVersion(), FERRY_WIRE_VERSION);
				return RELAY_EXIT_OK;
			case 'h':
				usage();
				return RELAY_EXIT_OK;
			default:
				fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
				return RELAY_EXIT_CONFIG;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "%s: too many command-line arguments (first is \"%s\")\n"
				"Try \"%s --help\" for more information.\n", progname, argv[optind], progname);
		return RELAY_EXIT_CONFIG;
	}
	if (!file)
	{
		fprintf(stderr, "%s: no configuration file given (-c FILE)\n"
				"Try \"%s --help\" for more information.\n", progname, progname);
		return RELAY_EXIT_CONFIG;
	}

	memset(&cfg, 0, sizeof(cfg));
	{
		static const char *const foreign[] = {"sink", NULL};

		if (cfg_load(file, relay_config_options, foreign, &cfg, err, sizeof(err)) < 0)
		{
			log_error("%s", err);
			cfg_free(relay_config_options, &cfg);	/* what was loaded before the error */
			return RELAY_EXIT_CONFIG;
		}
	}
	if (config_validate(&cfg, file, err, sizeof(err)) < 0)
	{
		log_error("%s", err);
		cfg_free(relay_config_options, &cfg);
		return RELAY_EXIT_CONFIG;
	}
	if (log_level_parse(cfg.log_level, &level))
		log_min_level = level;
	if (!cfg.run_id || !*cfg.run_id)
	{
		uuid_new(run_id, sizeof(run_id));
		free(cfg.run_id);
		cfg.run_id = strdup(run_id);
	}
	if (dump)
	{
		cfg_dump(relay_config_options, &cfg, stdout);
		cfg_free(relay_config_options, &cfg);
		return RELAY_EXIT_OK;
	}

	relay_inflight_init(&fl, 0);
	p = relay_producer_new(&cfg, file, &fl, err, sizeof(err));
	if (!p)
	{
		log_error("%s", err);
		cfg_free(relay_config_options, &cfg);
		relay_inflight_free(&fl);
		return RELAY_EXIT_CONFIG;
	}

	if (check)
		rc = check_config(&cfg, p);
	else
	{
		signals_install();
		log_info("starting ferry-relay %s: slot \"%s\", topic prefix \"%s\", snapshot.mode %s",
				 RELAY_VERSION, cfg.slot_name, cfg.topic_prefix, cfg.snapshot_mode);
		if (relay_producer_check(p, (int) cfg.kafka_timeout_ms, err, sizeof(err)) < 0)
		{
			log_error("%s", err);
			rc = RELAY_EXIT_ERROR;
		}
		else
			rc = relay_stream_main(&cfg, p, &fl);
	}

	relay_producer_free(p);
	relay_inflight_free(&fl);
	cfg_free(relay_config_options, &cfg);
	return rc;
}
