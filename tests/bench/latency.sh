# Part 2b: commit -> Kafka latency of ferry-relay at a steady rate (sourced by relay.sh).
# pgbench inserts BENCH_RATE rows/s into commerce.ticks (10 rows per transaction, -R rate/10)
# for BENCH_LAT_S seconds while ferry-relay streams; the topic is created beforehand with
# message.timestamp.type=LogAppendTime, so a record's timestamp is the broker's append time
# (= the ack). Latency = append time (or consumer receive time) - source.ts_us (commit time).
# shellcheck shell=bash
lat_prefix=lat
lat_topic=$lat_prefix.commerce.ticks
python3 "$BENCH_DIR/kbench.py" create "$KAFKA" "$lat_topic" message.timestamp.type=LogAppendTime ||
	log "relay: could not pre-create $lat_topic"
q -c "SELECT pg_create_logical_replication_slot('lat', 'ferry')" >/dev/null 2>&1
relay_conf "$BENCH_RUN/relay-lat.yaml" lat "$lat_prefix"
"$RELAY_BIN" -c "$BENCH_RUN/relay-lat.yaml" >"$BENCH_RUN/relay-lat.log" 2>&1 &
RELAY_PID=$!
for _ in $(seq 100); do
	[ "$(q -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'lat'")" = t ] && break
	sleep 0.1
done
lat_n=$((rate * lat_s))
python3 "$BENCH_DIR/kbench.py" latency "$KAFKA" "$lat_topic" "$lat_n" $((lat_s + 120)) >"$BENCH_RUN/lat.json" &
lat_cpid=$!
sleep 1
cat >"$BENCH_RUN/ticks.sql" <<'EOSQL'
INSERT INTO commerce.ticks (pad) SELECT 'tick' FROM generate_series(1, 10);
EOSQL
cpu0=$(cpu_secs "$RELAY_PID")
"$PGBIN/pgbench" -n -h 127.0.0.1 -p "$BENCH_PGPORT" -U postgres -c 2 -j 2 -R $((rate / 10)) -T "$lat_s" \
	-f "$BENCH_RUN/ticks.sql" bench >"$BENCH_RUN/pgbench.log" 2>&1 || log "relay: pgbench failed: $(tail -n 3 "$BENCH_RUN/pgbench.log")"
wait "$lat_cpid"
cpu1=$(cpu_secs "$RELAY_PID")
lat_hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$RELAY_PID/status" 2>/dev/null)
kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null; RELAY_PID=
inserted=$(q -c "SELECT count(*) FROM commerce.ticks")
tps=$(awk '/^tps/{print $3; exit}' "$BENCH_RUN/pgbench.log")
python3 - "$BENCH_RUN/lat.json" "$inserted" "$lat_s" "${tps:-0}" "$cpu0" "$cpu1" "${lat_hwm:-0}" <<'PY' | tee -a "$BENCH_RESULTS"
import json, sys
r = json.load(open(sys.argv[1]))
ins, secs, tps = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
cpu = float(sys.argv[6]) - float(sys.argv[5])
hwm = int(sys.argv[7]) / 1024
p99 = r.get("append_p99_ms")
print()
print(f"Latency at a steady rate: pgbench inserted {ins} rows in {secs:.0f} s ({tps * 10:,.0f} rows/s achieved, 10 rows per transaction);"
      f" ferry-relay CPU {cpu:.1f} s ({100 * cpu / secs:.0f}% of one core), peak RSS {hwm:.1f} MB. Kafka timestamps: {r.get('timestamp_type')}.")
print()
print("| measure | records | p50 ms | p99 ms | p99.9 ms | max ms | target |")
print("|---|---:|---:|---:|---:|---:|---|")
tgt = "p99 < 100 ms " + ("MET" if p99 is not None and p99 < 100 else "MISSED")
print(f"| commit -> Kafka append (ack) | {r['records']} | {r.get('append_p50_ms')} | {p99} | {r.get('append_p99.9_ms')} | {r.get('append_max_ms')} | {tgt} |")
print(f"| commit -> consumer receive | {r['records']} | {r.get('receive_p50_ms')} | {r.get('receive_p99_ms')} | {r.get('receive_p99.9_ms')} | {r.get('receive_max_ms')} | |")
PY
