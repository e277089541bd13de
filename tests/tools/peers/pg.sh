#!/usr/bin/env bash
# PostgreSQL 15 test cluster for Ferry (logical decoding on, trust auth, loopback only).
#
#   pg.sh start RUNDIR [PORT]   initdb RUNDIR/pgdata (wiped first), start on 127.0.0.1:PORT
#                               (default 55432), socket in RUNDIR, log RUNDIR/pg.log
#   pg.sh stop  RUNDIR          pg_ctl stop -m fast (by the cluster's own postmaster.pid)
#   pg.sh status RUNDIR
#
# The cluster has wal_level=logical, 20 slots / wal senders, and allows the output
# plugins pgoutput, test_decoding, ferry, wal2json, decoderbufs. User postgres, no
# password, database postgres. Runs as the postgres OS user when started as root
# (initdb refuses root); RUNDIR is chowned to it.
set -euo pipefail

cmd=${1:-}; rundir=${2:-}; port=${3:-55432}
[ -n "$cmd" ] && [ -n "$rundir" ] || { echo "usage: $0 start|stop|status RUNDIR [PORT]" >&2; exit 2; }

PGBIN=${PGBIN:-$( (pg_config --bindir 2>/dev/null) || echo /usr/lib/postgresql/15/bin)}
[ -x "$PGBIN/initdb" ] || PGBIN=/usr/lib/postgresql/15/bin
mkdir -p "$rundir"
rundir=$(cd "$rundir" && pwd)
data=$rundir/pgdata
PLUGINS=${PG_OUTPUT_PLUGINS:-pgoutput, test_decoding, ferry, wal2json, decoderbufs}

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
	if [ -f "$data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
	fi
	rm -rf "$data"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$rundir"
		# the postgres user must be able to reach RUNDIR (mktemp dirs are 0700)
		chmod 0755 "$rundir"
		d=$(dirname "$rundir")
		while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
	fi
	as_pg "$PGBIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
		>"$rundir/initdb.log" 2>&1 || { cat "$rundir/initdb.log" >&2; exit 1; }
	cat >>"$data/postgresql.conf" <<EOF

# --- ferry test settings (tests/tools/peers/pg.sh) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$rundir'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 100
fsync = off
full_page_writes = off
shared_buffers = 128MB
log_min_messages = warning
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%a '
EOF
	# a GUC of some patched builds: only these output plugins may be loaded
	gucs=$(as_pg "$PGBIN/postgres" --describe-config 2>/dev/null || true)
	if grep -q '^output_plugin_libraries[[:space:]]' <<<"$gucs"; then
		echo "output_plugin_libraries = '$PLUGINS'" >>"$data/postgresql.conf"
	fi
	cat >"$data/pg_hba.conf" <<EOF
local   all             all                     trust
local   replication     all                     trust
host    all             all     127.0.0.1/32    trust
host    replication     all     127.0.0.1/32    trust
EOF
	if ! as_pg "$PGBIN/pg_ctl" -D "$data" -l "$rundir/pg.log" -w -t 60 start >/dev/null; then
		echo "pg.sh: postgres did not start; log follows" >&2
		tail -n 50 "$rundir/pg.log" >&2 || true
		exit 1
	fi
	for _ in $(seq 50); do
		"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
		sleep 0.2
	done
	"$PGBIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
		-c "SELECT 1" >/dev/null
	echo "pg.sh: postgres up on 127.0.0.1:$port (socket $rundir, data $data)"
	;;
stop)
	if [ -f "$data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || {
			# last resort: the postmaster's own PID
			pid=$(head -n1 "$data/postmaster.pid" 2>/dev/null || true)
			[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
		}
	fi
	;;
status)
	as_pg "$PGBIN/pg_ctl" -D "$data" status
	;;
*)
	echo "usage: $0 start|stop|status RUNDIR [PORT]" >&2; exit 2 ;;
esac
