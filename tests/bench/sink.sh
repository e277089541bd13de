#!/usr/bin/env bash
# Part 3 (issue 4): ferry-sink, Kafka -> S3 (versitygw on loopback). A benchmark, not a test.
#
#   bash tests/bench/sink.sh
# One topic is filled once with BENCH_SCALE * 1M Debezium-shaped JSON records of ~1 KB
# (BENCH_RECORD_BYTES), then, interleaved BENCH_REPS times:
#   kcat ceiling   kcat -C -e -o beginning -q > /dev/null        (reading the topic, nothing else)
#   ferry-sink     default settings (flush.size 20), and flush.size BENCH_SINK_FLUSH (10000);
#                  a fresh consumer group and object prefix per run; timed
#                  from start until the group's committed offset reaches the end of the topic
#                  (the sink commits only after the objects are stored)
# Env: BENCH_SINK_EXTRA (extra YAML lines under sink:, e.g. "  kafka:\n    queued.max.messages.kbytes: 8192").
# JVM peer: no Kafka Connect S3 sink connector is on Maven Central (see the report).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

SINK_BIN=${SINK_BIN:-$BENCH_TOP/sink/ferry-sink}
raw=$BENCH_RUN/sink.tsv
tuned_flush=${BENCH_SINK_FLUSH:-10000}
nrec=$(( $(scaled 1000000) / tuned_flush * tuned_flush ))   # whole objects only: no flush.interval wait
[ "$nrec" -gt 0 ] || nrec=$tuned_flush
size=${BENCH_RECORD_BYTES:-1000}
topic=sinkbench.commerce.users
S3_BUCKET=commerce; S3_ACCESS_KEY=ferryadmin; S3_SECRET_KEY=ferrysecret123
export S3_BUCKET S3_ACCESS_KEY S3_SECRET_KEY

have_sink=1
[ -x "$SINK_BIN" ] || { log "sink: $SINK_BIN is not built (make -C sink): ferry-sink rows skipped, kcat ceiling only"; have_sink=; }
command -v kcat >/dev/null || { log "sink: kcat missing (tests/tools/deps.sh)"; exit 0; }
[ -n "$have_sink" ] && SINK_BIN=$(snapshot_bin "$SINK_BIN")

KPORT=$(free_port_pair)
KAFKA=127.0.0.1:$KPORT
SPORT=$(free_port)
cleanup() {
	[ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null
	wait 2>/dev/null
	bash "$PEERS/kafka.sh" stop "$BENCH_RUN/kafka" >/dev/null 2>&1
	bash "$PEERS/s3.sh" stop "$BENCH_RUN/s3" >/dev/null 2>&1
}
trap cleanup EXIT
KAFKA_HEAP=${KAFKA_HEAP:-1g} bash "$PEERS/kafka.sh" start "$BENCH_RUN/kafka" "$KPORT" >&2 || { log "sink: kafka did not start"; exit 1; }
if [ -n "$have_sink" ]; then
	bash "$PEERS/s3.sh" start "$BENCH_RUN/s3" "$SPORT" >&2 || { log "sink: versitygw did not start"; exit 1; }
fi

log "sink: producing $nrec records of ~$size B into $topic ..."
python3 "$BENCH_DIR/kbench.py" create "$KAFKA" "$topic" >/dev/null
prod=$(python3 "$BENCH_DIR/kbench.py" produce "$KAFKA" "$topic" "$nrec" "$size") || { log "sink: producing failed"; exit 1; }
log "sink: $prod"
topic_bytes=$(find "$BENCH_RUN/kafka/kafka-data" -path "*/$topic-*" -name '*.log' -printf '%s\n' | awk '{s+=$1} END{print s+0}')
payload_bytes=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["bytes"])' "$prod")
: >"$raw"

run_kcat() { # REP
	local t0 secs
	t0=$(now)
	/usr/bin/time -f '%M %U %S' -o "$BENCH_RUN/kcat.time" kcat -C -b "$KAFKA" -t "$topic" -e -o beginning -q >/dev/null ||
		{ log "sink: kcat failed"; return 1; }
	secs=$(elapsed "$t0")
	read -r maxkb us ss <"$BENCH_RUN/kcat.time"
	printf 'sink\tkcat -C -e -o beginning -q > /dev/null\t%s\t%s\t%s\t%s\t%s\n' "$1" "$secs" "$nrec" "$maxkb" "$(awk -v a="$us" -v b="$ss" 'BEGIN{print a+b}')" >>"$raw"
}

sink_conf() { # FILE GROUP PREFIX [EXTRA sink: LINES]
	cat >"$1" <<EOC
kafka:
  bootstrap.servers: "$KAFKA"
sink:
  topics: [$topic]
  group.id: $2
  target: "s3://$S3_BUCKET/$3"
  log.level: warning
${4:-}
${BENCH_SINK_EXTRA:-}
  s3:
    endpoint: "http://127.0.0.1:$SPORT"
    region: us-east-1
    access.key.id: $S3_ACCESS_KEY
    secret.access.key: $S3_SECRET_KEY
    path.style: "true"
EOC
}

run_sink() { # REP VARIANT(defaults|tuned)
	local rep=$1 var=$2 conf=$BENCH_RUN/sink$1$2.yaml t0 res hwm cpu extra= label="ferry-sink (defaults: flush.size 20)"
	if [ "$var" = tuned ]; then
		extra="  flush.size: $tuned_flush"
		label="ferry-sink (flush.size $tuned_flush)"
	fi
	sink_conf "$conf" "bench-sink-$rep$var" "run$rep$var" "$extra"
	t0=$(now)
	"$SINK_BIN" -c "$conf" >"$BENCH_RUN/sink$rep$var.log" 2>&1 &
	SINK_PID=$!
	echo "$SINK_PID" >"$BENCH_RUN/sink.pid"
	res=$(python3 "$BENCH_DIR/kbench.py" committed "$KAFKA" "bench-sink-$rep$var" "$topic" "$nrec" 1800 "$BENCH_RUN/sink.pid")
	hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$SINK_PID/status" 2>/dev/null)
	cpu=$(cpu_secs "$SINK_PID")
	kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; SINK_PID=
	python3 - "$res" "$t0" "${hwm:-0}" "$cpu" "$rep" "$nrec" "$label" >>"$raw" <<'PY' || { log "sink: ferry-sink run $rep $var failed: $res"; tail -n 5 "$BENCH_RUN/sink$rep$var.log" >&2; return 1; }
import json, sys
r = json.loads(sys.argv[1]); t0 = float(sys.argv[2])
if not r.get("done"): sys.exit(1)
print("\t".join(["sink", sys.argv[7], sys.argv[5], f"{r['done'] - t0:.3f}", sys.argv[6], sys.argv[3], sys.argv[4]]))
PY
}

for rep in $(seq "$BENCH_REPS"); do
	run_kcat "$rep" && log "sink: rep $rep kcat done"
	if [ -n "$have_sink" ]; then
		# defaults (20 records per object) are slow: one run unless BENCH_SINK_DEFAULT_REPS says more
		if [ "$rep" -le "${BENCH_SINK_DEFAULT_REPS:-1}" ]; then
			run_sink "$rep" defaults && log "sink: rep $rep ferry-sink (defaults) done"
		fi
		run_sink "$rep" tuned && log "sink: rep $rep ferry-sink (flush.size $tuned_flush) done"
	fi
done

objects=
if [ -n "$have_sink" ]; then
	objects=$(find "$BENCH_RUN/s3/s3-data/$S3_BUCKET/run1defaults" -type f 2>/dev/null | wc -l)
	obytes=$(find "$BENCH_RUN/s3/s3-data/$S3_BUCKET/run1defaults" -type f -printf '%s\n' 2>/dev/null | awk '{s+=$1} END{print s+0}')
	objects2=$(find "$BENCH_RUN/s3/s3-data/$S3_BUCKET/run1tuned" -type f 2>/dev/null | wc -l)
fi
out ""
out "## Part 3: sink, Kafka -> S3 (issue 4)"
out ""
out "$nrec records of $((payload_bytes / nrec)) B key+value on average (Debezium envelope with schema) in one topic (1 partition, $((topic_bytes / 1000000)) MB of log)," \
	"versitygw (posix backend) on loopback, BENCH_SCALE=$BENCH_SCALE. Time = process start -> everything" \
	"consumed (kcat: exit at end of topic; ferry-sink: group offset committed after the objects were stored)." \
	"MB/s counts record key+value bytes.${objects:+ ferry-sink run 1 wrote $objects objects ($((obytes / 1000000)) MB) with defaults, $objects2 with flush.size $tuned_flush.}"
python3 "$BENCH_DIR/summarize.py" "$raw" sink "$payload_bytes" | tee -a "$BENCH_RESULTS"
