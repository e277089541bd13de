# Shared helpers for the Ferry benchmarks (sourced by tests/bench/*.sh). Not a test.
# shellcheck shell=bash

BENCH_TOP=${BENCH_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BENCH_DIR=$BENCH_TOP/tests/bench
BENCH_SCALE=${BENCH_SCALE:-1}
BENCH_REPS=${BENCH_REPS:-3}
# one scratch directory per invocation: runs by different people at once must not wipe each other
BENCH_RUN=${BENCH_RUN:-$BENCH_TOP/build/bench/run.$$}
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_RUN/results.md}
export BENCH_RUN BENCH_RESULTS
export FERRY_CACHE=${FERRY_CACHE:-$HOME/.cache/ferry}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PEERS=$BENCH_TOP/tests/tools/peers

now() { date +%s.%N; }
# elapsed START -> seconds with 3 decimals
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b-a}'; }
# scaled N -> N * BENCH_SCALE, integer
scaled() { awk -v n="$1" -v s="$BENCH_SCALE" 'BEGIN{printf "%d", n*s}'; }
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# a free TCP port on 127.0.0.1 (bind to 0 and read the kernel's choice)
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# a free port P such that P+1 is free too (Kafka's controller listener)
free_port_pair() {
	local p
	for _ in $(seq 50); do
		p=$(free_port)
		python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.close()' $((p + 1)) 2>/dev/null && { echo "$p"; return; }
	done
	return 1
}

# append a line to the results file and print it
out() { printf '%s\n' "$*" | tee -a "$BENCH_RESULTS"; }

# PSQL: query against the bench cluster (BENCH_PGPORT, BENCH_DB)
q() { PGOPTIONS="-c statement_timeout=${BENCH_STMT_TIMEOUT:-900s}" PGCONNECT_TIMEOUT=10 "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$BENCH_PGPORT" -U postgres -d "${BENCH_DB:-bench}" -v ON_ERROR_STOP=1 "$@"; }

# start the bench postgres (tests/tools/peers/pg.sh) in $BENCH_RUN/pg, create db bench
bench_pg_start() {
	BENCH_PGPORT=${BENCH_PGPORT:-$(free_port)}
	export BENCH_PGPORT
	bash "$PEERS/pg.sh" start "$BENCH_RUN/pg" "$BENCH_PGPORT" >&2 || return 1
	# more slots, a bit more memory for the benchmark; checkpoints out of the way
	cat >>"$BENCH_RUN/pg/pgdata/postgresql.conf" <<EOPG
# --- tests/bench ---
max_replication_slots = 40
max_wal_senders = 40
max_wal_size = 8GB
checkpoint_timeout = 30min
wal_sender_timeout = 0
EOPG
	# decode with a private copy of ferry.so: others may reinstall it while the benchmark runs,
	# and overwriting a loaded library crashes the backends using it
	local libdir
	libdir=$("$PGBIN/pg_config" --pkglibdir 2>/dev/null || pg_config --pkglibdir)
	if [ -f "$libdir/ferry.so" ]; then
		mkdir -p "$BENCH_RUN/lib" && cp "$libdir/ferry.so" "$BENCH_RUN/lib/ferry.so" &&
			chmod 755 "$BENCH_RUN/lib" "$BENCH_RUN/lib/ferry.so" &&
			echo "dynamic_library_path = '$BENCH_RUN/lib:\$libdir'" >>"$BENCH_RUN/pg/pgdata/postgresql.conf"
		log "ferry.so: private copy of $libdir/ferry.so ($(date -r "$libdir/ferry.so" '+%H:%M:%S'), sha $(sha256sum "$libdir/ferry.so" | cut -c1-12))"
	fi
	as_postgres "$PGBIN/pg_ctl" -D "$BENCH_RUN/pg/pgdata" -l "$BENCH_RUN/pg/pg.log" -w -t 60 restart >/dev/null || return 1
	BENCH_DB=postgres q -c "CREATE DATABASE bench" || return 1
}
# after a failure: did the server crash? wait (up to 90 s) until it accepts connections again.
# returns 1 when it had crashed (its log has a new "terminated by signal"), 0 otherwise
bench_pg_recover() {
	local crashed=0 before=${1:-0}
	[ "$(grep -c 'terminated by signal' "$BENCH_RUN/pg/pg.log" 2>/dev/null)" -gt "$before" ] && crashed=1
	for _ in $(seq 450); do
		"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$BENCH_PGPORT" && q -c "SELECT 1" >/dev/null 2>&1 && break
		sleep 0.2
	done
	if [ "$crashed" = 1 ]; then
		log "postgres crashed (a backend was terminated by a signal); log:"
		grep -B2 'terminated by signal' "$BENCH_RUN/pg/pg.log" | tail -n 6 >&2
		return 1
	fi
	return 0
}
# wait_flushed LSN: wait until the WAL is flushed up to LSN (synchronous_commit=off leaves
# the tail of the workload unflushed for up to wal_writer_delay; decoding stops at the flush point)
wait_flushed() {
	for _ in $(seq 300); do
		[ "$(q -c "SELECT pg_current_wal_flush_lsn() >= '$1'::pg_lsn")" = t ] && return 0
		sleep 0.1
	done
	log "WAL not flushed up to $1 after 30 s"
	return 1
}
pg_crashes() { grep -c 'terminated by signal' "$BENCH_RUN/pg/pg.log" 2>/dev/null || echo 0; }
bench_pg_stop() { bash "$PEERS/pg.sh" stop "$BENCH_RUN/pg" >/dev/null 2>&1 || true; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# ferry plugin installed into this PG?
ferry_installed() { [ -f "$("$PGBIN/pg_config" --pkglibdir 2>/dev/null || pg_config --pkglibdir)/ferry.so" ]; }

# sample_mem PID OUTFILE INTERVAL: background sampler, writes "maxRssKB maxAnonKB hwmKB" at exit
# usage: sample_mem PID FILE & spid=$!; ...; kill $spid; wait $spid
sample_mem() {
	local pid=$1 file=$2 iv=${3:-0.05} rss=0 anon=0 hwm=0 r a h
	trap 'echo "$rss $anon $hwm" >"$file"; exit 0' TERM INT
	while [ -r "/proc/$pid/status" ]; do
		read -r r a h < <(awk '/^VmRSS:/{r=$2} /^RssAnon:/{a=$2} /^VmHWM:/{h=$2} END{print r+0, a+0, h+0}' "/proc/$pid/status" 2>/dev/null)
		[ "${r:-0}" -gt "$rss" ] && rss=$r
		[ "${a:-0}" -gt "$anon" ] && anon=$a
		[ "${h:-0}" -gt "$hwm" ] && hwm=$h
		sleep "$iv"
	done
	echo "$rss $anon $hwm" >"$file"
}

# cpu_ticks PID -> utime+stime in seconds (from /proc/PID/stat)
cpu_secs() {
	awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# snapshot_bin PATH -> a private copy of a daemon binary (others rebuild the tree meanwhile)
snapshot_bin() {
	mkdir -p "$BENCH_RUN/bin"
	cp "$1" "$BENCH_RUN/bin/" && echo "$BENCH_RUN/bin/$(basename "$1")"
}

# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{ if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
