# Part 2b: commit -> Kafka latency at a steady rate (sourced by relay.sh).
# pgbench inserts BENCH_RATE rows/s into commerce.ticks (10 rows per transaction, -R rate/10)
# for BENCH_LAT_S seconds while the CDC process streams; its topic is created beforehand with
# message.timestamp.type=LogAppendTime, so a record's timestamp is the broker's append time
# (= the ack). Latency = append time (or consumer receive time) - source.ts_us (commit time).
# Both start, then one warm-up row must reach Kafka before the timed load begins.
# ferry-relay always; Debezium too with BENCH_DBZ_LATENCY=1.
# shellcheck shell=bash

cat >"$BENCH_RUN/ticks.sql" <<'EOSQL'
INSERT INTO commerce.ticks (pad) SELECT 'tick' FROM generate_series(1, 10);
EOSQL

# lat_run LABEL TOPIC SLOT START_FN: START_FN starts the process and sets LAT_PID
lat_run() {
	local label=$1 topic=$2 slot=$3 start=$4 cpid cpu0 cpu1 hwm inserted0 inserted tps
	python3 "$BENCH_DIR/kbench.py" create "$KAFKA" "$topic" message.timestamp.type=LogAppendTime ||
		log "relay: could not pre-create $topic"
	LAT_PID=
	$start || { log "relay: $label did not start"; return 1; }
	for _ in $(seq 1200); do
		[ "$(q -c "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'")" = t ] && break
		sleep 0.1
	done
	# warm-up: one row, and wait until it is in Kafka, so the process is really streaming
	# (Debezium starts streaming well after it opens the slot); the consumer skips offset 0
	q -c "INSERT INTO commerce.ticks (pad) VALUES ('warm-up')" >/dev/null
	python3 "$BENCH_DIR/kbench.py" wait "$KAFKA" "$topic" 1 300 >/dev/null || log "relay: $label: warm-up row not in Kafka after 300 s"
	rm -f "$BENCH_RUN/lat-$slot.count"
	python3 "$BENCH_DIR/kbench.py" latency "$KAFKA" "$topic" "$BENCH_RUN/lat-$slot.count" $((lat_s + 300)) >"$BENCH_RUN/lat-$slot.json" &
	cpid=$!
	sleep 1
	inserted0=$(q -c "SELECT count(*) FROM commerce.ticks")
	cpu0=$(cpu_secs "$LAT_PID")
	"$PGBIN/pgbench" -n -h 127.0.0.1 -p "$BENCH_PGPORT" -U postgres -c 2 -j 2 -R $((rate / 10)) -T "$lat_s" \
		-f "$BENCH_RUN/ticks.sql" bench >"$BENCH_RUN/pgbench-$slot.log" 2>&1 || log "relay: pgbench failed: $(tail -n 3 "$BENCH_RUN/pgbench-$slot.log")"
	inserted=$(( $(q -c "SELECT count(*) FROM commerce.ticks") - inserted0 ))
	echo "$inserted" >"$BENCH_RUN/lat-$slot.count"
	wait "$cpid"
	cpu1=$(cpu_secs "$LAT_PID")
	hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$LAT_PID/status" 2>/dev/null)
	kill "$LAT_PID" 2>/dev/null; wait "$LAT_PID" 2>/dev/null; LAT_PID=
	tps=$(awk '/^tps/{print $3; exit}' "$BENCH_RUN/pgbench-$slot.log")
	python3 - "$BENCH_RUN/lat-$slot.json" "$inserted" "$lat_s" "${tps:-0}" "$cpu0" "$cpu1" "${hwm:-0}" "$label" >>"$BENCH_RUN/lat.rows" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ins, secs, tps = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
cpu = float(sys.argv[6]) - float(sys.argv[5])
hwm = int(sys.argv[7]) / 1024
p99 = r.get("append_p99_ms")
tgt = ("p99 < 100 ms " + ("MET" if p99 is not None and p99 < 100 else "MISSED")) if sys.argv[8].startswith("ferry") else ""
print(f"| {sys.argv[8]} | {ins} ({tps * 10:,.0f}/s) | {r['records']} | {r.get('append_p50_ms')} | {p99} | {r.get('append_p99.9_ms')} | {r.get('append_max_ms')} | {r.get('receive_p50_ms')} | {r.get('receive_p99_ms')} | {100 * cpu / secs:.0f}% | {hwm:.1f} | {tgt} |")
PY
}

start_relay_lat() {
	q -c "SELECT pg_create_logical_replication_slot('lat', 'ferry')" >/dev/null 2>&1
	relay_conf "$BENCH_RUN/relay-lat.yaml" lat lat
	"$RELAY_BIN" -c "$BENCH_RUN/relay-lat.yaml" >"$BENCH_RUN/relay-lat.log" 2>&1 &
	LAT_PID=$!
	RELAY_PID=$LAT_PID
}
start_dbz_lat() {
	q -c "CREATE PUBLICATION dbz_lat_pub FOR TABLE commerce.ticks" \
	  -c "SELECT pg_create_logical_replication_slot('dbzlat', 'pgoutput')" >/dev/null 2>&1
	dbz_start dbzlat dbz_lat_pub dbzlat commerce.ticks "$BENCH_RUN/dbzlat"
	LAT_PID=$DBZ_PID
}

: >"$BENCH_RUN/lat.rows"
[ -n "$have_relay" ] && lat_run ferry-relay lat.commerce.ticks lat start_relay_lat
RELAY_PID=
if [ -n "$have_dbz" ] && [ -n "${BENCH_DBZ_LATENCY:-}" ]; then
	lat_run "Debezium 3.6.1" dbzlat.commerce.ticks dbzlat start_dbz_lat
	DBZ_PID=
fi
out ""
out "Latency at a steady rate: pgbench -R $((rate / 10)) x 10-row transactions into commerce.ticks for $lat_s s;" \
	"topic with message.timestamp.type=LogAppendTime; commit time = source.ts_us of each record."
out ""
out "| process | rows inserted (rate) | records read | commit->append p50 ms | p99 | p99.9 | max | commit->receive p50 ms | p99 | CPU % of one core | peak RSS MB | target |"
out "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
cat "$BENCH_RUN/lat.rows" | tee -a "$BENCH_RESULTS"
