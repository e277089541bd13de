#!/usr/bin/env bash
# Ferry demo: the whole pipeline on this machine, end to end, for a bounded time.
#
#   bash tests/tools/demo.sh [--duration S] [--forever] [--rate N] [--dir DIR]
#                            [--config FILE] [--seed N] [--drain-timeout S]
#   make demo DEMO_ARGS="--duration 20"
#
# Starts, by default with nothing external:
#   - a throwaway PostgreSQL 15 cluster (tests/tools/peers/pg.sh) with wal_level=logical,
#     the ferry extension and the original schema (sql/commerce.sql);
#   - a Kafka broker: librdkafka's mock cluster (tests/tools/mock_kafka), topics
#     debezium.commerce.users and debezium.commerce.products pre-created;
#   - ferry-relay (slot "ferry" -> one topic per table) and ferry-sink (topics -> a local
#     directory laid out as the bucket: DIR/bucket/commerce/<topic>/<yyyy>-<MM>-<dd>/<HH>/...);
#   - the data generator (tests/tools/ferry-gen) at --rate iterations/s for --duration s.
# Shows progress, then checks the c/u/d events found in the objects against what the
# generator committed, stops everything it started (by PID) and leaves the output in DIR.
#
# Real services instead of the embedded ones:
#   FERRY_KAFKA_BOOTSTRAP=host:9092            a Kafka cluster (topics auto-created by the relay)
#   FERRY_S3_ENDPOINT=http://host:9000         an S3 endpoint (path-style), with
#     AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_REGION, FERRY_S3_BUCKET=commerce]
#   DEMO_CONFIG=path/ferry.yaml (or --config)  run relay and sink on this file as it is: its
#     postgres.conninfo (must allow replication, have the ferry extension installable),
#     kafka and sink.target are used and nothing local is started but the daemons and the
#     generator. Only records committed during this run are counted.
# Environment: DEMO_DURATION (60), DEMO_RATE (10), DEMO_DIR (build/demo), DEMO_PGPORT (55433),
#   DEMO_PG_CONF (a file of postgresql.conf lines added to the throwaway cluster, reloadable ones).
# Exit status: 0 counts match, 1 counts differ, 2 usage, 3 could not start the pipeline.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
tools=$top/tests/tools

duration=${DEMO_DURATION:-60}
rate=${DEMO_RATE:-10}
dir=${DEMO_DIR:-$top/build/demo}
config=${DEMO_CONFIG:-}
pgport=${DEMO_PGPORT:-55433}
seed=42
forever=0
drain_timeout=60

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

while [ $# -gt 0 ]; do
	case "$1" in
	--duration) duration=${2:?}; shift 2 ;;
	--duration=*) duration=${1#*=}; shift ;;
	--rate) rate=${2:?}; shift 2 ;;
	--rate=*) rate=${1#*=}; shift ;;
	--dir) dir=${2:?}; shift 2 ;;
	--dir=*) dir=${1#*=}; shift ;;
	--config) config=${2:?}; shift 2 ;;
	--config=*) config=${1#*=}; shift ;;
	--seed) seed=${2:?}; shift 2 ;;
	--drain-timeout) drain_timeout=${2:?}; shift 2 ;;
	--forever) forever=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "demo.sh: unknown argument \"$1\"" >&2; usage >&2; exit 2 ;;
	esac
done
case "$duration$rate$drain_timeout" in *[!0-9.]*|"") echo "demo.sh: --duration, --rate and --drain-timeout take numbers" >&2; exit 2 ;; esac

# ---------------------------------------------------------------- helpers
t_start=$(date +%s)
say() { printf '[%4ss] %s\n' "$(( $(date +%s) - t_start ))" "$*"; }
die() { echo "demo.sh: $*" >&2; exit 3; }

run=$dir/run
logs=$dir/logs
mkdir -p "$run" "$logs"
dir=$(cd "$dir" && pwd); run=$dir/run; logs=$dir/logs

pids=()        # name:pid of what we started, in start order
pg_started=0
stopping=0
interrupted=0

# stop NAME PID: SIGTERM, wait up to 30 s, then SIGKILL
stop_pid() {
	local name=$1 pid=$2 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	echo "demo.sh: $name (pid $pid) did not stop in 30 s; killing it" >&2
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local i entry
	[ "$stopping" = 1 ] && return
	stopping=1
	# reverse start order: generator, sink, relay, broker
	for (( i=${#pids[@]}-1; i>=0; i-- )); do
		entry=${pids[$i]}
		stop_pid "${entry%%:*}" "${entry#*:}"
	done
	pids=()
	if [ "$pg_started" = 1 ]; then
		bash "$tools/peers/pg.sh" stop "$run/pg" >/dev/null 2>&1 || true
		pg_started=0
	fi
}
trap cleanup EXIT
trap 'interrupted=$((interrupted + 1)); [ $interrupted -ge 2 ] && exit 130' INT TERM

# start NAME LOG CMD...: in its own session, so a Ctrl-C reaches only this script
start_bg() {
	local name=$1 log=$2; shift 2
	setsid "$@" >"$log" 2>&1 </dev/null &
	pids+=("$name:$!")
	echo $! >"$run/$name.pid"
}
pid_of() { local e; for e in "${pids[@]}"; do [ "${e%%:*}" = "$1" ] && echo "${e#*:}"; done; }
alive() { local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
fail_with_log() { echo "demo.sh: $1; last lines of $2:" >&2; tail -n 20 "$2" >&2 || true; exit 3; }

PSQL() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$conninfo" "$@"; }

# ---------------------------------------------------------------- binaries
[ -x "$top/relay/ferry-relay" ] || die "ferry-relay not built (relay/ferry-relay missing: run make)"
[ -x "$top/sink/ferry-sink" ] || die "ferry-sink not built (sink/ferry-sink missing: run make)"
make -s -C "$tools" >/dev/null || die "could not build tests/tools (ferry-gen, mock_kafka)"
command -v python3 >/dev/null || die "python3 is needed to check the output"

PG_CONFIG=${PG_CONFIG:-pg_config}
# the extension must be installed in the server that pg.sh starts
pkglib=$($PG_CONFIG --pkglibdir)
extdir=$($PG_CONFIG --sharedir)/extension
if [ -f "$top/plugin/ferry.so" ]; then
	if ! cmp -s "$top/plugin/ferry.so" "$pkglib/ferry.so" || [ ! -f "$extdir/ferry.control" ]; then
		SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
		$SUDO make -s -C "$top/plugin" PG_CONFIG="$PG_CONFIG" install >"$logs/plugin-install.log" 2>&1 ||
			fail_with_log "could not install the ferry extension" "$logs/plugin-install.log"
		say "installed the ferry extension into $pkglib"
	fi
elif [ ! -f "$pkglib/ferry.so" ]; then
	die "the ferry output plugin is not built (plugin/ferry.so missing: run make)"
fi

# ---------------------------------------------------------------- configuration
if [ -n "$config" ]; then
	[ -f "$config" ] || die "could not open configuration file \"$config\""
	config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
	cfgfile=$config
	yget() { python3 "$tools/demo_check.py" yaml-get "$config" "$1"; }
	conninfo=${FERRY_PG_CONNINFO:-$(yget postgres/conninfo)}
	bootstrap=$(yget kafka/bootstrap.servers)
	target=${FERRY_SINK_TARGET:-$(yget sink/target)}
	target=${target:-s3://commerce}
	# what demo_check.py needs to read an s3:// target, unless the environment says it
	v=$(yget sink/s3/endpoint); [ -z "$v" ] || export FERRY_S3_ENDPOINT=${FERRY_S3_ENDPOINT:-${AWS_ENDPOINT_URL:-$v}}
	v=$(yget sink/s3/region); [ -z "$v" ] || export AWS_REGION=${AWS_REGION:-$v}
	v=$(yget sink/s3/access.key.id); [ -z "$v" ] || export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-$v}
	v=$(yget sink/s3/secret.access.key); [ -z "$v" ] || export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-$v}
	[ -n "$conninfo" ] || die "$config has no postgres.conninfo"
	say "using $config: database \"$conninfo\", Kafka $bootstrap, target $target"
else
	# a free port for the throwaway cluster
	for _ in $(seq 20); do
		(exec 3<>"/dev/tcp/127.0.0.1/$pgport") 2>/dev/null || break
		pgport=$((pgport + 1))
	done
	conninfo="host=127.0.0.1 port=$pgport dbname=postgres user=postgres"
	bootstrap=${FERRY_KAFKA_BOOTSTRAP:-}
	if [ -n "${FERRY_S3_ENDPOINT:-}" ]; then
		target=s3://${FERRY_S3_BUCKET:-commerce}
	else
		target=file://$dir/bucket/commerce
		rm -rf "$dir/bucket"
		mkdir -p "$dir/bucket/commerce"
	fi
fi

# ---------------------------------------------------------------- PostgreSQL
if [ -z "$config" ]; then
	say "starting PostgreSQL 15 on 127.0.0.1:$pgport (data $run/pg/pgdata)"
	bash "$tools/peers/pg.sh" start "$run/pg" "$pgport" >"$logs/pg-start.log" 2>&1 ||
		fail_with_log "could not start PostgreSQL" "$logs/pg-start.log"
	pg_started=1
	ln -sf "$run/pg/pg.log" "$logs/postgres.log"
fi
# output_plugin_libraries exists only on servers patched with it; there ferry must be listed
plugin_list_ok() {
	[ "$(PSQL -c "SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'")" = 0 ] ||
		PSQL -c "SHOW output_plugin_libraries" | tr -d ' ' | tr ',' '\n' | grep -x ferry >/dev/null
}
# extra settings for the throwaway cluster (reloadable ones only), e.g. log_min_messages
if [ -z "$config" ] && [ -n "${DEMO_PG_CONF:-}" ]; then
	cat "$DEMO_PG_CONF" >>"$run/pg/pgdata/postgresql.conf"
	PSQL -c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.3
fi
if ! plugin_list_ok; then
	[ -z "$config" ] || die "output_plugin_libraries of \"$conninfo\" does not list ferry (see sql/setup-postgres.sql)"
	PSQL -c "ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding, ferry" -c "SELECT pg_reload_conf()" >/dev/null
	for _ in $(seq 50); do plugin_list_ok && break; sleep 0.1; done
	plugin_list_ok || die "could not add ferry to output_plugin_libraries"
fi
PSQL -f "$top/sql/commerce.sql" >/dev/null 2>&1 || die "could not create the commerce schema (sql/commerce.sql) in \"$conninfo\""
PSQL -c "CREATE EXTENSION IF NOT EXISTS ferry" >/dev/null || die "could not create extension ferry"
[ "$(PSQL -c 'SHOW wal_level')" = logical ] || die "wal_level is not logical in \"$conninfo\""

# ---------------------------------------------------------------- Kafka
if [ -z "$config" ] && [ -z "$bootstrap" ]; then
	rm -f "$run/bootstrap"
	start_bg mock_kafka "$logs/mock_kafka.log" "$tools/mock_kafka" -f "$run/bootstrap" \
		-t debezium.commerce.users -t debezium.commerce.products
	for _ in $(seq 100); do [ -s "$run/bootstrap" ] && break; alive mock_kafka || break; sleep 0.1; done
	[ -s "$run/bootstrap" ] || fail_with_log "the mock Kafka broker did not start" "$logs/mock_kafka.log"
	bootstrap=$(cat "$run/bootstrap")
	topic_create=false      # the mock cluster does not serve CreateTopics
	say "Kafka: librdkafka mock cluster at $bootstrap (pid $(pid_of mock_kafka))"
else
	topic_create=true
	say "Kafka: $bootstrap"
fi

if [ -z "$config" ]; then
	cfgfile=$run/ferry.yaml
	{
		cat <<EOF
# generated by tests/tools/demo.sh
postgres:
  conninfo: "$conninfo"
kafka:
  bootstrap.servers: "$bootstrap"
relay:
  slot.name: ferry
  topic.prefix: debezium
  schema.include.list: [commerce]
  topic.creation.enable: $topic_create
  status.interval.ms: 1000
  stats.interval.ms: 2000
sink:
  topics: ['^debezium\.commerce\..*']
  group.id: ferry-sink-demo
  target: "$target"
  flush.size: 20
  flush.interval.ms: 3000
  stats.interval.ms: 2000
EOF
		if [ "${target#s3://}" != "$target" ]; then
			cat <<EOF
  s3:
    endpoint: "$FERRY_S3_ENDPOINT"
    region: "${AWS_REGION:-us-east-1}"
    path.style: "true"
    # access.key.id / secret.access.key: from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
EOF
		else
			echo "  file:"
			echo "    fsync: false"
		fi
	} >"$cfgfile"
fi

# ---------------------------------------------------------------- relay and sink
"$top/relay/ferry-relay" -c "$cfgfile" --check-config >"$logs/relay-check.log" 2>&1 ||
	fail_with_log "ferry-relay rejected $cfgfile" "$logs/relay-check.log"
"$top/sink/ferry-sink" -c "$cfgfile" --check-config >"$logs/sink-check.log" 2>&1 ||
	fail_with_log "ferry-sink rejected $cfgfile" "$logs/sink-check.log"

slot=$(python3 "$tools/demo_check.py" yaml-get "$cfgfile" relay/slot.name); slot=${slot:-ferry}
start_bg relay "$logs/ferry-relay.log" "$top/relay/ferry-relay" -c "$cfgfile"
say "ferry-relay started (pid $(pid_of relay), log $logs/ferry-relay.log)"
for _ in $(seq 300); do
	[ "$(PSQL -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot' AND active" 2>/dev/null)" = 1 ] && break
	alive relay || fail_with_log "ferry-relay exited" "$logs/ferry-relay.log"
	sleep 0.1
done
[ "$(PSQL -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot' AND active")" = 1 ] ||
	fail_with_log "ferry-relay did not start streaming from slot \"$slot\" in 30 s" "$logs/ferry-relay.log"
say "ferry-relay is streaming from slot \"$slot\""

start_bg sink "$logs/ferry-sink.log" "$top/sink/ferry-sink" -c "$cfgfile"
say "ferry-sink started (pid $(pid_of sink), log $logs/ferry-sink.log), writing to $target"
for _ in $(seq 300); do
	grep -q "partitions assigned" "$logs/ferry-sink.log" 2>/dev/null && break
	alive sink || fail_with_log "ferry-sink exited" "$logs/ferry-sink.log"
	sleep 0.1
done
grep -q "partitions assigned" "$logs/ferry-sink.log" ||
	say "warning: ferry-sink has no partitions assigned after 30 s; continuing"

# ---------------------------------------------------------------- generator
gen_args=(--rate "$rate" --seed "$seed" --quiet --progress-file "$run/gen-progress.json")
if [ "$forever" = 1 ]; then
	gen_args+=(--iterations 0)
	say "generator: $rate iterations/s until Ctrl-C"
else
	gen_args+=(--duration "$duration" --iterations 0)
	say "generator: $rate iterations/s for ${duration}s (insert user+product; 10% update; 5% delete)"
fi
say "progress: <table> <changes committed> -> Kafka <records> -> bucket <records> (a delete adds a tombstone record)"
rm -f "$run/gen-progress.json" "$run/gen.json"
since_ms=$(( $(date +%s) * 1000 - 2000 ))
# stdout is the summary; keep it apart from the log
setsid "$tools/ferry-gen" "${gen_args[@]}" "$conninfo" >"$run/gen.json" 2>"$logs/ferry-gen.log" </dev/null &
pids+=("generator:$!")

# ---------------------------------------------------------------- progress
jget() { python3 -c 'import json,sys
try: d=json.load(open(sys.argv[1]))
except Exception: d={}
for k in sys.argv[2:]: d=d.get(k,{}) if isinstance(d,dict) else {}
print(d if d!={} else 0)' "$@"; }

progress() {
	local gen=$run/gen-progress.json cnt lag relay_events sink_records
	[ -s "$run/gen.json" ] && gen=$run/gen.json
	cnt=$(python3 "$tools/demo_check.py" count "$target" --since-ms "$since_ms" 2>/dev/null || echo '{}')
	lag=$(PSQL -c "SELECT coalesce(pg_size_pretty(pg_current_wal_lsn() - confirmed_flush_lsn), '?') FROM pg_replication_slots WHERE slot_name = '$slot'" 2>/dev/null || echo '?')
	relay_events=$(grep -o '[0-9]* events total' "$logs/ferry-relay.log" 2>/dev/null | tail -n1 | cut -d' ' -f1 || true)
	sink_records=$(grep -o 'totals [0-9]* records' "$logs/ferry-sink.log" 2>/dev/null | tail -n1 | cut -d' ' -f2 || true)
	kafka=$(timeout 10 "$tools/kafka-offsets" "$bootstrap" debezium.commerce.users debezium.commerce.products 2>/dev/null | tr '\n' ' ' || true)
	python3 - "$gen" "$cnt" "$lag" "${relay_events:-0}" "${sink_records:-0}" "$(( $(date +%s) - t_start ))" "$kafka" <<'EOF'
import json, sys
gen_file, cnt, lag, relay, sink, t, kafka = sys.argv[1:]
kafka = kafka.split()
kafka = dict(zip(kafka[0::2], kafka[1::2]))
try:
    gen = json.load(open(gen_file))
except Exception:
    gen = {}
try:
    cnt = json.loads(cnt)
except Exception:
    cnt = {}
parts = []
for table in ("users", "products"):
    g = gen.get(table, {})
    f = {}
    for topic, v in cnt.get("topics", {}).items():
        if topic.rsplit(".", 1)[-1] == table:
            f = v
    k = kafka.get("debezium.commerce." + table, "?")
    parts.append("%s %d changes -> Kafka %s -> bucket %d (%d objects)" % (
        table, sum(g.get(x, 0) for x in "cud"), "?" if k == "-1" else k,
        f.get("lines", 0), f.get("objects", 0)))
print("[%4ss] %s | relay %s events, slot lag %s" % (t, " | ".join(parts), relay, lag), flush=True)
EOF
}

last=0
while alive generator; do
	[ "$interrupted" -gt 0 ] && { say "stopping the generator (Ctrl-C again to stop at once)"; stop_pid generator "$(pid_of generator)"; break; }
	alive relay || fail_with_log "ferry-relay exited" "$logs/ferry-relay.log"
	alive sink || fail_with_log "ferry-sink exited" "$logs/ferry-sink.log"
	now=$(date +%s)
	if [ $((now - last)) -ge 5 ]; then progress; last=$now; fi
	sleep 0.5
done
wait "$(pid_of generator)" 2>/dev/null || true
[ -s "$run/gen.json" ] || fail_with_log "the generator failed" "$logs/ferry-gen.log"
cp "$run/gen.json" "$dir/generated.json"
say "generator done: $(cat "$run/gen.json")"

# ---------------------------------------------------------------- drain
say "waiting for every change to reach the bucket (up to ${drain_timeout}s)"
deadline=$(( $(date +%s) + drain_timeout ))
matched=0
while [ "$(date +%s)" -lt "$deadline" ] && [ "$interrupted" -lt 2 ]; do
	if python3 "$tools/demo_check.py" report "$target" --expected "$run/gen.json" --since-ms "$since_ms" >/dev/null 2>&1; then
		matched=1; break
	fi
	alive relay || break
	alive sink || break
	now=$(date +%s)
	if [ $((now - last)) -ge 5 ]; then progress; last=$now; fi
	sleep 1
done
progress

say "stopping ferry-sink, ferry-relay$( [ -n "$(pid_of mock_kafka)" ] && echo ', the mock broker'  )$( [ "$pg_started" = 1 ] && echo ' and PostgreSQL')"
cleanup

# ---------------------------------------------------------------- report
echo
echo "================================================================ Ferry demo"
if [ "${target#file://}" != "$target" ]; then
	bucket=${target#file://}
	echo "objects: $bucket/"
	for t in debezium.commerce.users debezium.commerce.products; do
		n=$(find "$bucket/$t" -type f -name '*.json' 2>/dev/null | wc -l)
		first=$(find "$bucket/$t" -type f -name '*.json' 2>/dev/null | sort | head -n1)
		echo "  $t/: $n objects, first ${first#"$bucket"/}"
	done
else
	echo "objects: $target (endpoint ${FERRY_S3_ENDPOINT:-${AWS_ENDPOINT_URL:-default}})"
fi
echo "logs:    $logs/"
echo "config:  $cfgfile"
if [ -n "$config" ]; then
	echo "note:    replication slot \"$slot\" stays in \"$conninfo\" and retains WAL until a relay"
	echo "         reads it again; drop it with: SELECT pg_drop_replication_slot('$slot');"
fi
echo
rc=0
python3 "$tools/demo_check.py" report "$target" --expected "$run/gen.json" --since-ms "$since_ms" || rc=1
[ "$matched" = 1 ] || [ "$rc" = 0 ] || echo "(see $logs/ for what went wrong)"
exit $rc
