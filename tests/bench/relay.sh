#!/usr/bin/env bash
# Part 2 (issue 3): relay end to end, Postgres -> Kafka. A benchmark, not a test.
#
#   bash tests/bench/relay.sh
# Catch-up throughput: every consumer gets its own slot, all created at the same LSN
# before the workload (BENCH_SCALE=1: 1M row changes); the WAL is generated once; then
# each consumer is started alone and timed until its topics' end offsets reach the
# expected record count (changes + delete tombstones):
#   ferry-relay             (relay/ferry-relay, BENCH_REPS runs, a fresh slot copy each)
#   pg_recvlogical ceiling  (the ferry plugin, format relay, to /dev/null, BENCH_REPS runs)
#   Debezium 3.6.1          (Kafka Connect 4.3.1 standalone worker, pgoutput, one run)
# Then commit->Kafka latency at a steady BENCH_RATE (10000) changes/s for BENCH_LAT_S (30) s.
# Env: BENCH_RELAY_KAFKA (extra YAML lines under kafka:, e.g. "  queue.buffering.max.kbytes: 16384"),
#      BENCH_DBZ_LATENCY=1 (Debezium's latency too, ~1.5 min more), BENCH_SKIP_DEBEZIUM=1, BENCH_RATE, BENCH_LAT_S, BENCH_RELAY_REPS (min(BENCH_REPS, 2)).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

RELAY_BIN=${RELAY_BIN:-$BENCH_TOP/relay/ferry-relay}
raw=$BENCH_RUN/relay.tsv
n_rows=$(scaled 254000)           # ~3.95 changes per n_row => 1.003M changes at scale 1
rate=${BENCH_RATE:-10000}
lat_s=${BENCH_LAT_S:-30}
dbz_lib=$FERRY_CACHE/debezium/lib

have_relay=1; have_ferry=1; have_dbz=1
[ -x "$RELAY_BIN" ] || { log "relay: $RELAY_BIN is not built (make -C relay): ferry-relay rows skipped"; have_relay=; }
ferry_installed || { log "relay: the ferry plugin is not installed (make install-plugin): ferry rows skipped"; have_ferry=; have_relay=; }
[ -f "$dbz_lib/debezium-connector-postgres-3.6.1.Final.jar" ] || { log "relay: no Debezium jars in $dbz_lib (tests/tools/deps.sh)"; have_dbz=; }
[ -n "${BENCH_SKIP_DEBEZIUM:-}" ] && have_dbz=
if [ -z "$have_relay$have_ferry$have_dbz" ]; then log "relay: nothing to measure"; exit 0; fi
[ -n "$have_relay" ] && RELAY_BIN=$(snapshot_bin "$RELAY_BIN")

KPORT=$(free_port_pair)
KAFKA=127.0.0.1:$KPORT
cleanup() {
	[ -n "${RELAY_PID:-}" ] && kill "$RELAY_PID" 2>/dev/null
	[ -n "${DBZ_PID:-}" ] && kill "$DBZ_PID" 2>/dev/null
	wait 2>/dev/null
	bash "$PEERS/kafka.sh" stop "$BENCH_RUN/kafka" >/dev/null 2>&1
	bench_pg_stop
}
trap cleanup EXIT
bench_pg_start || { log "relay: postgres did not start"; exit 1; }
KAFKA_HEAP=${KAFKA_HEAP:-1g} bash "$PEERS/kafka.sh" start "$BENCH_RUN/kafka" "$KPORT" >&2 || { log "relay: kafka did not start"; exit 1; }

q -f "$BENCH_DIR/schema.sql" >/dev/null
q -c "CREATE TABLE commerce.ticks (id bigserial PRIMARY KEY, created timestamptz NOT NULL DEFAULT clock_timestamp(), pad text)" \
  -c "CREATE PUBLICATION dbz_pub FOR TABLE commerce.users, commerce.products, commerce.wide" >/dev/null

q -c "SELECT pg_create_logical_replication_slot('base', 'test_decoding')" >/dev/null
[ -n "$have_ferry" ] && q -c "SELECT pg_copy_logical_replication_slot('base', 'm_ferry', false, 'ferry')" >/dev/null
[ -n "$have_dbz" ] && q -c "SELECT pg_copy_logical_replication_slot('base', 'dbz', false, 'pgoutput')" >/dev/null

log "relay: generating the WAL once: $((4 * n_rows)) changes ..."
t0=$(now)
q -v n_rows="$n_rows" -v chunk=1000 -f "$BENCH_DIR/workload.sql" >/dev/null || exit 1
end_lsn=$(q -c "SELECT pg_current_wal_insert_lsn()")
wait_flushed "$end_lsn"
gen_s=$(elapsed "$t0")
events=$(q -c "SELECT count(*) FROM pg_logical_slot_peek_changes('base', '$end_lsn', NULL) WHERE data LIKE 'table %'")
deletes=$(q -c "SELECT count(*) FROM pg_logical_slot_peek_changes('base', '$end_lsn', NULL) WHERE data LIKE 'table %: DELETE:%'")
q -c "SELECT pg_drop_replication_slot('base')" >/dev/null
expected=$((events + deletes))   # a delete is a delete event + a tombstone
RELAY_BYTES=0
WIRE=$(awk '/define FERRY_WIRE_VERSION/{print $3}' "$BENCH_TOP/common/wire.h" 2>/dev/null); WIRE=${WIRE:-1}
[ -n "$have_ferry" ] && RELAY_BYTES=$(q -c "SELECT coalesce(sum(length(data)), 0) FROM pg_logical_slot_peek_binary_changes('m_ferry', '$end_lsn', NULL, 'format', 'relay', 'wire-version', '$WIRE')" 2>/dev/null || echo 0)
log "relay: $events changes ($deletes deletes) in ${gen_s}s; expecting $expected Kafka records per consumer"
: >"$raw"

# proc_stats PID -> "hwm_kb cpu_s" (peak RSS from VmHWM, user+sys CPU) of PID and its children
proc_stats() {
	local hwm cpu
	hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$1/status" 2>/dev/null)
	cpu=$(cpu_secs "$1")
	echo "${hwm:-0} ${cpu:-0}"
}

# kafka_log_bytes PREFIX -> bytes of the Kafka log segments of the topics PREFIX*
kafka_log_bytes() {
	find "$BENCH_RUN/kafka/kafka-data" -path "*/$1*" -name '*.log' -printf '%s\n' 2>/dev/null | awk '{s+=$1} END{printf "%d\n", s}'
}

# wait_topics PREFIX PIDFILE TIMEOUT -> JSON line from kbench.py wait
wait_topics() { python3 "$BENCH_DIR/kbench.py" wait "$KAFKA" "$1" "$expected" "$3" "$2"; }

# ---------------------------------------------------------------- ferry-relay
relay_conf() { # relay_conf FILE SLOT PREFIX
	cat >"$1" <<EOC
postgres:
  conninfo: "host=127.0.0.1 port=$BENCH_PGPORT dbname=bench user=postgres"
kafka:
  bootstrap.servers: "$KAFKA"
${BENCH_RELAY_KAFKA:-}
relay:
  slot.name: $2
  topic.prefix: $3
  snapshot.mode: never
  log.level: warning
EOC
}

run_relay() { # run_relay REP
	local rep=$1 slot=rs_$1 prefix=ferry$1 conf=$BENCH_RUN/relay$1.yaml t0 res st
	q -c "SELECT pg_copy_logical_replication_slot('m_ferry', '$slot')" >/dev/null 2>&1 || return 1
	relay_conf "$conf" "$slot" "$prefix"
	t0=$(now)
	"$RELAY_BIN" -c "$conf" >"$BENCH_RUN/relay$rep.log" 2>&1 &
	RELAY_PID=$!
	echo "$RELAY_PID" >"$BENCH_RUN/relay.pid"
	res=$(wait_topics "$prefix." "$BENCH_RUN/relay.pid" 1800)
	log "relay: ferry-relay run $rep: $res"
	st=$(proc_stats "$RELAY_PID")
	kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null; RELAY_PID=
	q -c "SELECT pg_drop_replication_slot('$slot')" >/dev/null 2>&1
	st="$st $(kafka_log_bytes "$prefix.")"
	python3 - "$res" "$t0" "$st" "$rep" >>"$raw" <<'PY' || { log "relay: ferry-relay run $rep failed: $res"; tail -n 5 "$BENCH_RUN/relay$rep.log" >&2; return 1; }
import json, sys
r = json.loads(sys.argv[1]); t0 = float(sys.argv[2]); hwm, cpu, nb = sys.argv[3].split()
if not r.get("done"): sys.exit(1)
print("\t".join(["relay", "ferry-relay", sys.argv[4], f"{r['done'] - t0:.3f}", f"{r['done'] - r['first']:.3f}", str(r["count"]), hwm, cpu, nb]))
PY
}

run_ceiling() { # run_ceiling REP
	local rep=$1 slot=rc_$1 t0 secs
	q -c "SELECT pg_copy_logical_replication_slot('m_ferry', '$slot')" >/dev/null 2>&1 || return 1
	t0=$(now)
	"$PGBIN/pg_recvlogical" -h 127.0.0.1 -p "$BENCH_PGPORT" -U postgres -d bench --slot "$slot" \
		--start --no-loop -F 0 -s 1 --endpos "$end_lsn" -f /dev/null -o format=relay -o wire-version="$WIRE" \
		-o topic.prefix=ceiling 2>"$BENCH_RUN/recv.err" ||
		{ log "relay: pg_recvlogical failed: $(tail -n 3 "$BENCH_RUN/recv.err")"; return 1; }
	secs=$(elapsed "$t0")
	q -c "SELECT pg_drop_replication_slot('$slot')" >/dev/null
	printf 'relay\tpg_recvlogical (ferry, format relay)\t%s\t%s\t%s\t%s\t0\t0\t%s\n' "$rep" "$secs" "$secs" "$expected" "$RELAY_BYTES" >>"$raw"
}

# ---------------------------------------------------------------- Debezium / Kafka Connect
# dbz_start SLOT PUBLICATION TOPIC_PREFIX TABLES DIR: start a Kafka Connect standalone worker
# with the Debezium connector; sets DBZ_PID
dbz_start() {
	local slot=$1 pub=$2 prefix=$3 tables=$4 d=$5
	mkdir -p "$d"
	cat >"$d/worker.properties" <<EOC
bootstrap.servers=$KAFKA
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=$d/connect.offsets
offset.flush.interval.ms=10000
listeners=http://127.0.0.1:$(free_port)
plugin.discovery=only_scan
EOC
	cat >"$d/pg-source.properties" <<EOC
name=bench-$slot
connector.class=io.debezium.connector.postgresql.PostgresConnector
tasks.max=1
database.hostname=127.0.0.1
database.port=$BENCH_PGPORT
database.user=postgres
database.password=postgres
database.dbname=bench
topic.prefix=$prefix
schema.include.list=commerce
table.include.list=$tables
plugin.name=pgoutput
slot.name=$slot
publication.name=$pub
publication.autocreate.mode=disabled
snapshot.mode=${BENCH_DBZ_SNAPSHOT:-no_data}
topic.creation.default.replication.factor=1
topic.creation.default.partitions=1
EOC
	cat >"$d/log4j2.properties" <<'EOC'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.err.ref = STDERR
EOC
	# heap as bin/connect-standalone.sh sets it
	java -Xms256m -Xmx2g -XX:+UseG1GC -Djava.awt.headless=true -Dlog4j2.configurationFile="$d/log4j2.properties" \
		-cp "$dbz_lib/*" org.apache.kafka.connect.cli.ConnectStandalone \
		"$d/worker.properties" "$d/pg-source.properties" >"$d/connect.log" 2>&1 &
	DBZ_PID=$!
	echo "$DBZ_PID" >"$d/pid"
}

run_debezium() {
	local d=$BENCH_RUN/dbz t0 res st
	t0=$(now)
	dbz_start dbz dbz_pub dbz commerce.users,commerce.products,commerce.wide "$d"
	res=$(wait_topics "dbz." "$d/pid" "${BENCH_DBZ_TIMEOUT:-1200}")
	log "relay: Debezium: $res"
	st=$(proc_stats "$DBZ_PID")
	kill "$DBZ_PID" 2>/dev/null; wait "$DBZ_PID" 2>/dev/null; DBZ_PID=
	st="$st $(kafka_log_bytes dbz.)"
	python3 - "$res" "$t0" "$st" >>"$raw" <<'PY' || { log "relay: Debezium run failed: $res"; grep -E 'ERROR|Exception' "$d/connect.log" | head -5 >&2; return 1; }
import json, sys
r = json.loads(sys.argv[1]); t0 = float(sys.argv[2]); hwm, cpu, nb = sys.argv[3].split()
if not r.get("done"): sys.exit(1)
print("\t".join(["relay", "Debezium 3.6.1 (Connect standalone, pgoutput)", "1", f"{r['done'] - t0:.3f}", f"{r['done'] - r['first']:.3f}", str(r["count"]), hwm, cpu, nb]))
PY
}

for rep in $(seq "${BENCH_RELAY_REPS:-$(( BENCH_REPS < 2 ? BENCH_REPS : 2 ))}"); do
	[ -n "$have_ferry" ] && { run_ceiling "$rep" && log "relay: rep $rep pg_recvlogical ceiling done"; }
	[ -n "$have_relay" ] && { run_relay "$rep" && log "relay: rep $rep ferry-relay done"; }
	if [ "$rep" = 1 ] && [ -n "$have_dbz" ]; then
		log "relay: Debezium (JVM start + catch-up; a few minutes) ..."
		run_debezium && log "relay: Debezium done"
	fi
done

out ""
out "## Part 2: relay end to end, Postgres -> Kafka (issue 3)"
out ""
out "Catch-up over one WAL: $events row changes ($deletes deletes -> +$deletes tombstones = $expected Kafka" \
	"records), each consumer alone on its own slot (all created at one LSN before the workload)," \
	"Kafka 3.9.1 single broker on loopback, BENCH_SCALE=$BENCH_SCALE. wall = process start -> last record" \
	"in Kafka (end offsets); steady = first record -> last record. Median of the runs shown."
python3 "$BENCH_DIR/summarize.py" "$raw" relay "$events" | tee -a "$BENCH_RESULTS"

# ---------------------------------------------------------------- latency at a steady rate
if [ -n "$have_relay" ] || { [ -n "$have_dbz" ] && [ -n "${BENCH_DBZ_LATENCY:-}" ]; }; then
	. "$BENCH_DIR/latency.sh"
fi
