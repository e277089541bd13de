/*-------------------------------------------------------------------------
 *
 * ferry-gen.c
 *	  The data generator of the original CDC tutorial, in C with libpq.
 *
 *	  For each id: insert one commerce.users row and one commerce.products
 *	  row with that id and commit; then, with 10% probability, update the
 *	  user's username and the product's name and commit; then, with 5%
 *	  probability, delete both rows and commit.  Values come from a seeded
 *	  PRNG, so a run is reproducible.
 *
 *	  ferry-gen [options] [CONNINFO]
 *
 *	  At the end (and on SIGTERM/SIGINT, after the current transaction) it
 *	  prints one JSON line on stdout, the count of committed row changes per
 *	  table and operation, which is what a CDC pipeline must deliver:
 *
 *	  {"users":{"c":N,"u":N,"d":N},"products":{"c":N,"u":N,"d":N},
 *	   "iterations":N,"transactions":N,"first_id":N,"last_id":N,
 *	   "seconds":F,"rate":F}
 *
 * IDENTIFICATION
 *	  tests/tools/ferry-gen.c
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define DEFAULT_ITERATIONS 1000

typedef struct gen_counts
{
	int64_t		c;
	int64_t		u;
	int64_t		d;
} gen_counts_t;

typedef struct gen_state
{
	/* options */
	const char *conninfo;
	double		rate;			/* iterations per second, 0 = unthrottled */
	double		duration;		/* seconds, 0 = no limit */
	int64_t		iterations;		/* 0 = no limit */
	int64_t		start_id;		/* -1 = after the highest id present */
	uint64_t	seed;
	int			batch;			/* iterations per transaction */
	int			update_pct;
	int			delete_pct;
	const char *progress_file;
	const char *wait_slot;		/* wait for this replication slot to be active */
	double		wait_timeout;
	bool		quiet;

	/* run */
	PGconn	   *conn;
	uint64_t	rng;
	gen_counts_t users;
	gen_counts_t products;
	gen_counts_t pend_users;	/* changes of the open transaction */
	gen_counts_t pend_products;
	int64_t		done_iterations;
	int64_t		transactions;
	int64_t		first_id;
	int64_t		last_id;
	double		t0;
} gen_state_t;

static volatile sig_atomic_t stop_requested = 0;

static void
stop_handler(int signo)
{
	(void) signo;
	stop_requested = 1;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
sleep_until(double t)
{
	double		d = t - now_seconds();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t) d;
	ts.tv_nsec = (long) ((d - (double) ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);		/* EINTR: the loop checks stop_requested */
}

/* splitmix64: small, fast, and the same on every platform */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t	z = (*s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static unsigned
rng_below(uint64_t *s, unsigned n)
{
	return (unsigned) (rng_next(s) % n);
}

#define PICK(s, arr) ((arr)[rng_below((s), sizeof(arr) / sizeof((arr)[0]))])

static const char *const first_names[] = {
	"Veronica", "James", "Mary", "Robert", "Patricia", "John", "Jennifer",
	"Michael", "Linda", "David", "Elizabeth", "William", "Barbara", "Richard",
	"Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
	"Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
	"Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly",
	"Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kenneth",
	"Carol", "Kevin", "Amanda", "Brian", "Dorothy", "George", "Melissa", "Zoë"
};

static const char *const last_names[] = {
	"Roberts", "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia",
	"Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez",
	"Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
	"Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
	"Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
	"King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "O'Brien"
};

static const char *const words[] = {
	"treat", "one", "role", "individual", "activity", "gun", "let", "toward",
	"fine", "music", "argue", "common", "ago", "director", "environmental",
	"over", "always", "national", "find", "prevent", "religious", "finally",
	"table", "serve", "market", "green", "across", "provide", "window",
	"simple", "quality", "voice", "remember", "north", "whose", "travel",
	"energy", "garden", "build", "picture", "several", "modern", "support",
	"thank", "report", "light", "agency", "yourself", "between", "strong"
};

static void
append(char *buf, size_t size, size_t *len, const char *s)
{
	size_t		n = strlen(s);

	if (*len + n >= size)
		n = size - *len - 1;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

/* "Treat one role individual activity gun. Let toward fine music." */
static void
fake_description(uint64_t *s, char *buf, size_t size)
{
	size_t		len = 0;
	unsigned	sentences = 1 + rng_below(s, 4);

	buf[0] = '\0';
	for (unsigned i = 0; i < sentences; i++)
	{
		unsigned	nwords = 4 + rng_below(s, 6);

		for (unsigned w = 0; w < nwords; w++)
		{
			char		word[32];

			snprintf(word, sizeof(word), "%s", PICK(s, words));
			if (w == 0)
				word[0] = (char) (word[0] - 'a' + 'A');
			if (len > 0)
				append(buf, size, &len, " ");
			append(buf, size, &len, word);
		}
		append(buf, size, &len, ".");
	}
}

static void
fake_username(uint64_t *s, char *buf, size_t size)
{
	char		first[32];
	const char *last = PICK(s, last_names);

	snprintf(first, sizeof(first), "%s", PICK(s, first_names));
	for (char *p = first; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char) (*p - 'A' + 'a');
	snprintf(buf, size, "%s.%c%u", first, last[0] - 'A' + 'a', rng_below(s, 1000));
}

static void
fake_password(uint64_t *s, char *buf, size_t size)
{
	static const char alphabet[] =
		"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!@#$%^&*()_+";
	size_t		n = 10 + rng_below(s, 7);

	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = alphabet[rng_below(s, sizeof(alphabet) - 1)];
	buf[n] = '\0';
}

/* a growable SQL text for one transaction */
typedef struct sqlbuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} sqlbuf_t;

static void
sqlbuf_append(sqlbuf_t *b, const char *s)
{
	size_t		n = strlen(s);

	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 4096;

		while (b->len + n + 1 > cap)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (b->data == NULL)
		{
			fprintf(stderr, "ferry-gen: out of memory\n");
			exit(1);
		}
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n + 1);
	b->len += n;
}

static void
sqlbuf_literal(sqlbuf_t *b, PGconn *conn, const char *s)
{
	char	   *lit = PQescapeLiteral(conn, s, strlen(s));

	if (lit == NULL)
	{
		fprintf(stderr, "ferry-gen: could not escape literal: %s", PQerrorMessage(conn));
		exit(1);
	}
	sqlbuf_append(b, lit);
	PQfreemem(lit);
}

static void
sqlbuf_printf(sqlbuf_t *b, const char *fmt, int64_t v)
{
	char		tmp[128];

	snprintf(tmp, sizeof(tmp), fmt, v);
	sqlbuf_append(b, tmp);
}

/* the statements of one iteration's step, appended to b; counts go to pending */
static void
step_insert(gen_state_t *st, sqlbuf_t *b, int64_t id)
{
	char		username[64];
	char		password[32];
	char		name[96];
	char		description[1024];
	char		price[32];

	fake_username(&st->rng, username, sizeof(username));
	fake_password(&st->rng, password, sizeof(password));
	snprintf(name, sizeof(name), "%s %s", PICK(&st->rng, first_names), PICK(&st->rng, last_names));
	fake_description(&st->rng, description, sizeof(description));
	snprintf(price, sizeof(price), "%u.%02u", rng_below(&st->rng, 1000), rng_below(&st->rng, 100));

	sqlbuf_printf(b, "INSERT INTO commerce.users (id, username, password) VALUES (%" PRId64 ", ", id);
	sqlbuf_literal(b, st->conn, username);
	sqlbuf_append(b, ", ");
	sqlbuf_literal(b, st->conn, password);
	sqlbuf_printf(b, ");\nINSERT INTO commerce.products (id, name, description, price) VALUES (%" PRId64 ", ", id);
	sqlbuf_literal(b, st->conn, name);
	sqlbuf_append(b, ", ");
	sqlbuf_literal(b, st->conn, description);
	sqlbuf_append(b, ", ");
	sqlbuf_append(b, price);
	sqlbuf_append(b, ");\n");
	st->pend_users.c++;
	st->pend_products.c++;
}

static void
step_update(gen_state_t *st, sqlbuf_t *b, int64_t id)
{
	char		username[64];
	char		name[96];

	fake_username(&st->rng, username, sizeof(username));
	snprintf(name, sizeof(name), "%s %s", PICK(&st->rng, first_names), PICK(&st->rng, last_names));
	sqlbuf_append(b, "UPDATE commerce.users SET username = ");
	sqlbuf_literal(b, st->conn, username);
	sqlbuf_printf(b, " WHERE id = %" PRId64 ";\n", id);
	sqlbuf_append(b, "UPDATE commerce.products SET name = ");
	sqlbuf_literal(b, st->conn, name);
	sqlbuf_printf(b, " WHERE id = %" PRId64 ";\n", id);
	st->pend_users.u++;
	st->pend_products.u++;
}

static void
step_delete(gen_state_t *st, sqlbuf_t *b, int64_t id)
{
	sqlbuf_printf(b, "DELETE FROM commerce.users WHERE id = %" PRId64 ";\n", id);
	sqlbuf_printf(b, "DELETE FROM commerce.products WHERE id = %" PRId64 ";\n", id);
	st->pend_users.d++;
	st->pend_products.d++;
}

/*
 * Run b as one transaction (a multi-statement simple query is one implicit
 * transaction) and move the pending counts to the committed ones.
 */
static bool
commit_step(gen_state_t *st, sqlbuf_t *b)
{
	PGresult   *res;
	bool		ok;

	if (b->len == 0)
		return true;
	res = PQexec(st->conn, b->data);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "ferry-gen: could not execute transaction: %s", PQerrorMessage(st->conn));
	PQclear(res);
	/* drain: PQexec returns the last result, but be safe with the connection state */
	while ((res = PQgetResult(st->conn)) != NULL)
		PQclear(res);
	if (ok)
	{
		st->users.c += st->pend_users.c;
		st->users.u += st->pend_users.u;
		st->users.d += st->pend_users.d;
		st->products.c += st->pend_products.c;
		st->products.u += st->pend_products.u;
		st->products.d += st->pend_products.d;
		st->transactions++;
	}
	memset(&st->pend_users, 0, sizeof(st->pend_users));
	memset(&st->pend_products, 0, sizeof(st->pend_products));
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	return ok;
}

static void
summary_write(const gen_state_t *st, FILE *out)
{
	double		secs = now_seconds() - st->t0;

	fprintf(out,
			"{\"users\":{\"c\":%" PRId64 ",\"u\":%" PRId64 ",\"d\":%" PRId64 "},"
			"\"products\":{\"c\":%" PRId64 ",\"u\":%" PRId64 ",\"d\":%" PRId64 "},"
			"\"iterations\":%" PRId64 ",\"transactions\":%" PRId64 ","
			"\"first_id\":%" PRId64 ",\"last_id\":%" PRId64 ","
			"\"seconds\":%.3f,\"rate\":%.1f}\n",
			st->users.c, st->users.u, st->users.d,
			st->products.c, st->products.u, st->products.d,
			st->done_iterations, st->transactions,
			st->first_id, st->last_id,
			secs, secs > 0 ? (double) st->done_iterations / secs : 0.0);
}

/* rewrite the progress file atomically (temp file + rename) */
static void
progress_write(const gen_state_t *st)
{
	char		tmp[4096];
	FILE	   *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", st->progress_file);
	f = fopen(tmp, "w");
	if (f == NULL)
	{
		fprintf(stderr, "ferry-gen: could not open file \"%s\": %s\n", tmp, strerror(errno));
		return;
	}
	summary_write(st, f);
	if (fclose(f) != 0 || rename(tmp, st->progress_file) != 0)
		fprintf(stderr, "ferry-gen: could not write file \"%s\": %s\n",
				st->progress_file, strerror(errno));
}

static int64_t
next_free_id(PGconn *conn)
{
	PGresult   *res;
	int64_t		id = 1;

	res = PQexec(conn,
				 "SELECT greatest((SELECT coalesce(max(id), 0) FROM commerce.users),"
				 " (SELECT coalesce(max(id), 0) FROM commerce.products)) + 1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		fprintf(stderr, "ferry-gen: could not read the highest id: %s", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		exit(1);
	}
	id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return id;
}

/*
 * Wait until a CDC reader streams from `slot`, so every change of the run is
 * captured (a change before the slot exists would be missed).
 */
static void
wait_for_slot(gen_state_t *st)
{
	const char *params[1] = {st->wait_slot};
	double		deadline = now_seconds() + st->wait_timeout;
	bool		said = false;

	for (;;)
	{
		PGresult   *res = PQexecParams(st->conn,
									   "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
									   1, NULL, params, NULL, NULL, 0);
		bool		active;

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			fprintf(stderr, "ferry-gen: could not query replication slots: %s", PQerrorMessage(st->conn));
			PQclear(res);
			PQfinish(st->conn);
			exit(1);
		}
		active = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (active)
			return;
		if (stop_requested || (st->wait_timeout > 0 && now_seconds() >= deadline))
		{
			fprintf(stderr, "ferry-gen: replication slot \"%s\" is not active\n", st->wait_slot);
			PQfinish(st->conn);
			exit(1);
		}
		if (!said && !st->quiet)
			fprintf(stderr, "ferry-gen: waiting for replication slot \"%s\" to be active\n", st->wait_slot);
		said = true;
		sleep_until(now_seconds() + 0.5);
	}
}

static void
usage(FILE *out)
{
	fprintf(out,
			"ferry-gen: the original tutorial's data generator for commerce.users/products\n"
			"\n"
			"usage: ferry-gen [options] [CONNINFO]\n"
			"  CONNINFO            libpq connection string or URI (default: PG* environment)\n"
			"  -r, --rate N        iterations per second, 0 = as fast as possible (default 0)\n"
			"  -t, --duration S    stop after S seconds (default: no limit)\n"
			"  -n, --iterations N  stop after N iterations (default %d, or no limit with --duration)\n"
			"  -i, --start-id N    first id (default: highest id in either table + 1)\n"
			"  -s, --seed N        PRNG seed (default 42)\n"
			"  -b, --batch N       iterations per transaction (default 1: insert, update and\n"
			"                      delete each commit separately, as the original)\n"
			"      --update-pct N  probability of the update step in percent (default 10)\n"
			"      --delete-pct N  probability of the delete step in percent (default 5)\n"
			"  -p, --progress-file FILE  rewrite the summary JSON to FILE every second\n"
			"  -w, --wait-slot NAME  first wait until replication slot NAME is active\n"
			"      --wait-timeout S  give up waiting after S seconds (default 300, 0 = never)\n"
			"  -q, --quiet         no progress lines on stderr\n"
			"Prints the committed changes per table as one JSON line on stdout at the end;\n"
			"SIGTERM/SIGINT stop after the current transaction.\n",
			DEFAULT_ITERATIONS);
}

static double
parse_number(const char *s, const char *what, double min, double max)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
	{
		fprintf(stderr, "ferry-gen: invalid value \"%s\" for %s\n", s, what);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"rate", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 't'},
		{"iterations", required_argument, NULL, 'n'},
		{"start-id", required_argument, NULL, 'i'},
		{"seed", required_argument, NULL, 's'},
		{"batch", required_argument, NULL, 'b'},
		{"update-pct", required_argument, NULL, 1},
		{"delete-pct", required_argument, NULL, 2},
		{"progress-file", required_argument, NULL, 'p'},
		{"wait-slot", required_argument, NULL, 'w'},
		{"wait-timeout", required_argument, NULL, 3},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	gen_state_t st;
	bool		iterations_given = false;
	sqlbuf_t	b = {0};
	struct sigaction sa;
	double		next_progress;
	int			opt;
	int			rc = 0;

	memset(&st, 0, sizeof(st));
	st.conninfo = "";
	st.start_id = -1;
	st.seed = 42;
	st.batch = 1;
	st.update_pct = 10;
	st.delete_pct = 5;
	st.wait_timeout = 300;

	while ((opt = getopt_long(argc, argv, "r:t:n:i:s:b:p:w:qh", long_options, NULL)) != -1)
	{
		switch (opt)
		{
			case 'r':
				st.rate = parse_number(optarg, "--rate", 0, 1e9);
				break;
			case 't':
				st.duration = parse_number(optarg, "--duration", 0, 1e9);
				break;
			case 'n':
				st.iterations = (int64_t) parse_number(optarg, "--iterations", 0, 1e15);
				iterations_given = true;
				break;
			case 'i':
				st.start_id = (int64_t) parse_number(optarg, "--start-id", 1, 2147483647.0);
				break;
			case 's':
				st.seed = (uint64_t) parse_number(optarg, "--seed", 0, 1e18);
				break;
			case 'b':
				st.batch = (int) parse_number(optarg, "--batch", 1, 100000);
				break;
			case 1:
				st.update_pct = (int) parse_number(optarg, "--update-pct", 0, 100);
				break;
			case 2:
				st.delete_pct = (int) parse_number(optarg, "--delete-pct", 0, 100);
				break;
			case 'p':
				st.progress_file = optarg;
				break;
			case 'w':
				st.wait_slot = optarg;
				break;
			case 3:
				st.wait_timeout = parse_number(optarg, "--wait-timeout", 0, 1e9);
				break;
			case 'q':
				st.quiet = true;
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 2;
		}
	}
	if (optind < argc)
		st.conninfo = argv[optind++];
	if (optind < argc)
	{
		usage(stderr);
		return 2;
	}
	if (!iterations_given && st.duration == 0)
		st.iterations = DEFAULT_ITERATIONS;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	st.conn = PQconnectdb(st.conninfo);
	if (PQstatus(st.conn) != CONNECTION_OK)
	{
		fprintf(stderr, "ferry-gen: could not connect to database: %s", PQerrorMessage(st.conn));
		PQfinish(st.conn);
		return 1;
	}
	if (st.wait_slot)
		wait_for_slot(&st);
	if (st.start_id < 0)
		st.start_id = next_free_id(st.conn);
	st.rng = st.seed;
	st.first_id = st.start_id;
	st.last_id = st.start_id - 1;
	st.t0 = now_seconds();
	next_progress = st.t0 + 1.0;

	if (!st.quiet)
		fprintf(stderr, "ferry-gen: ids from %" PRId64 ", rate %s, %s\n",
				st.start_id, st.rate > 0 ? "limited" : "unlimited",
				st.batch > 1 ? "batched" : "one transaction per step");

	for (int64_t id = st.start_id;; id++)
	{
		double		now = now_seconds();
		bool		last_of_batch;

		if (stop_requested ||
			(st.iterations > 0 && st.done_iterations >= st.iterations) ||
			(st.duration > 0 && now - st.t0 >= st.duration))
			break;
		if (st.rate > 0)
		{
			sleep_until(st.t0 + (double) st.done_iterations / st.rate);
			if (stop_requested ||
				(st.duration > 0 && now_seconds() - st.t0 >= st.duration))
				break;
		}

		/*
		 * One iteration.  With --batch 1 each step is its own transaction,
		 * as in the original; otherwise all steps of --batch iterations go
		 * into one.  The PRNG is drawn in the same order either way.
		 */
		step_insert(&st, &b, id);
		if (st.batch == 1 && !commit_step(&st, &b))
		{
			rc = 1;
			break;
		}
		if ((int) rng_below(&st.rng, 100) < st.update_pct)
		{
			step_update(&st, &b, id);
			if (st.batch == 1 && !commit_step(&st, &b))
			{
				rc = 1;
				break;
			}
		}
		if ((int) rng_below(&st.rng, 100) < st.delete_pct)
		{
			step_delete(&st, &b, id);
			if (st.batch == 1 && !commit_step(&st, &b))
			{
				rc = 1;
				break;
			}
		}
		st.done_iterations++;
		st.last_id = id;

		last_of_batch = st.done_iterations % st.batch == 0 ||
			(st.iterations > 0 && st.done_iterations >= st.iterations);
		if (st.batch > 1 && last_of_batch && !commit_step(&st, &b))
		{
			rc = 1;
			break;
		}

		now = now_seconds();
		if (now >= next_progress)
		{
			if (st.progress_file)
				progress_write(&st);
			if (!st.quiet)
				fprintf(stderr, "ferry-gen: %" PRId64 " iterations, %" PRId64 " transactions, %.0f/s\n",
						st.done_iterations, st.transactions,
						(double) st.done_iterations / (now - st.t0));
			next_progress = now + 1.0;
		}
	}
	/* a partial batch (stopped by time or signal) still commits */
	if (rc == 0 && !commit_step(&st, &b))
		rc = 1;

	if (st.progress_file)
		progress_write(&st);
	summary_write(&st, stdout);
	fflush(stdout);
	PQfinish(st.conn);
	free(b.data);
	return rc;
}
