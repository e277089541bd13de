#!/usr/bin/env bash
# Part 1 (issue 2): output-plugin decoding speed over one and the same WAL, and the
# walsender's peak memory while decoding one big transaction. A benchmark, not a test.
#
#   bash tests/bench/plugin.sh
# Env: BENCH_SCALE (1 = 500k changes; 0.2 for a quick look), BENCH_REPS (3),
#      BENCH_BIGTXN_MB (200 * BENCH_SCALE; 2048 for the issue's 2 GB transaction),
#      BENCH_PLUGINS (space separated subset of the configs below),
#      BENCH_PLUGIN_PARTS ("decode mem"; "mem" alone for e.g. BENCH_BIGTXN_MB=2048).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

# name | plugin | pg_recvlogical options (comma separated k=v)
CONFIGS=(
	"ferry/relay|ferry|format=relay,wire-version=$(awk '/define FERRY_WIRE_VERSION/{print $3}' "$BENCH_TOP/common/wire.h" 2>/dev/null || echo 1)"
	"ferry/json|ferry|format=json"
	"wal2json|wal2json|format-version=2"
	"pgoutput|pgoutput|proto_version=1,publication_names=bench_pub"
	"decoderbufs|decoderbufs|"
	"test_decoding|test_decoding|"
)
raw=$BENCH_RUN/plugin.tsv
n_rows=$(scaled 127000)           # ~3.95 changes per n_row => 501k changes at scale 1
big_mb=${BENCH_BIGTXN_MB:-$(scaled 200)}

if ! ferry_installed; then
	log "plugin: ferry.so is not installed in $("$PGBIN/pg_config" --pkglibdir) (make install-plugin);" \
		"measuring the peers only"
	FERRY_MISSING=1
fi

configs=()
for c in "${CONFIGS[@]}"; do
	name=${c%%|*}; rest=${c#*|}; plugin=${rest%%|*}
	[ -n "${BENCH_PLUGINS:-}" ] && [[ " $BENCH_PLUGINS " != *" $name "* ]] && continue
	[ "$plugin" = ferry ] && [ -n "${FERRY_MISSING:-}" ] && continue
	[ -f "$("$PGBIN/pg_config" --pkglibdir)/$plugin.so" ] || [ "$plugin" = pgoutput ] || {
		log "plugin: $plugin.so missing, skipping $name"; continue; }
	configs+=("$c")
done
plugins=$(for c in "${configs[@]}"; do rest=${c#*|}; echo "${rest%%|*}"; done | sort -u)

slot() { echo "${1//[^a-z0-9]/_}"; }      # slot-safe name of a plugin

# sql_opts "a=b,c=d" -> ", 'a', 'b', 'c', 'd'"
sql_opts() {
	local o=$1 kv s=
	[ -z "$o" ] && return
	IFS=, read -ra kvs <<<"$o"
	for kv in "${kvs[@]}"; do s+=", '${kv%%=*}', '${kv#*=}'"; done
	echo "$s"
}
recv_opts() {
	local o=$1 kv
	[ -z "$o" ] && return
	IFS=, read -ra kvs <<<"$o"
	for kv in "${kvs[@]}"; do echo "-o"; echo "$kv"; done
}

# recv MASTER_SLOT OPTS ENDLSN [MEMFILE] -> prints "seconds"
# decodes a fresh copy of MASTER_SLOT through the replication protocol, to /dev/null
recv_once() {
	local master=$1 opts=$2 end=$3 memfile=${4:-} tmp=r_$1 t0 secs pid spid=
	q -c "SELECT pg_drop_replication_slot('$tmp') FROM pg_replication_slots WHERE slot_name = '$tmp'" >/dev/null
	q -c "SELECT pg_copy_logical_replication_slot('$master', '$tmp')" >/dev/null 2>&1 || return 1
	mapfile -t ro < <(recv_opts "$opts")
	rm -f "$BENCH_RUN/recv.end"
	t0=$(now)
	# the subshell stamps the end time, so waiting for the walsender's PID below costs nothing
	( timeout "${BENCH_RECV_TIMEOUT:-$(awk -v s="$BENCH_SCALE" 'BEGIN{printf "%d", 120 + 240 * s}')}" \
		"$PGBIN/pg_recvlogical" -h 127.0.0.1 -p "$BENCH_PGPORT" -U postgres -d bench --slot "$tmp" \
		--start --no-loop -F 0 -s 1 --endpos "$end" -f /dev/null "${ro[@]}" 2>"$BENCH_RUN/recv.err"
	  rc=$?; now >"$BENCH_RUN/recv.end"; exit $rc ) &
	local rpid=$!
	if [ -n "$memfile" ]; then
		for _ in $(seq 500); do
			kill -0 "$rpid" 2>/dev/null || break
			pid=$(q -c "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$tmp'")
			[ -n "$pid" ] && break
			sleep 0.01
		done
		if [ -n "$pid" ] && [ "$pid" != 0 ]; then sample_mem "$pid" "$memfile" 0.05 & spid=$!; fi
	fi
	wait "$rpid"; local rc=$?
	secs=$(awk -v a="$t0" -v b="$(cat "$BENCH_RUN/recv.end" 2>/dev/null || now)" 'BEGIN{printf "%.3f", b-a}')
	if [ -n "$spid" ]; then
		# the walsender exits with pg_recvlogical; the sampler notices and writes its maxima
		for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
		kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
	fi
	q -c "SELECT pg_drop_replication_slot('$tmp')" >/dev/null 2>&1
	if [ "$rc" != 0 ]; then log "pg_recvlogical failed ($master $opts): $(tail -n 3 "$BENCH_RUN/recv.err")"; return 1; fi
	echo "$secs"
}

# peek_once MASTER_SLOT OPTS ENDLSN -> prints "seconds count bytes"
peek_once() {
	local master=$1 opts=$2 end=$3 t0 res
	t0=$(now)
	res=$(q -F ' ' 2>>"$BENCH_RUN/peek.err" -c "SELECT count(*), coalesce(sum(length(data)), 0) FROM pg_logical_slot_peek_binary_changes('$master', '$end', NULL$(sql_opts "$opts"))") || return 1
	echo "$(elapsed "$t0") $res"
}

bench_pg_start || { log "plugin: postgres did not start"; exit 1; }
trap 'bench_pg_stop' EXIT
q -f "$BENCH_DIR/schema.sql" >/dev/null
q -c "CREATE TABLE commerce.big (id int PRIMARY KEY, payload text)" \
  -c "CREATE PUBLICATION bench_pub FOR TABLE commerce.users, commerce.products, commerce.wide, commerce.big" >/dev/null

# all slots at the same LSN: one base slot, copied once per plugin
q -c "SELECT pg_create_logical_replication_slot('base', 'test_decoding')" >/dev/null
for p in $plugins; do
	q -c "SELECT pg_copy_logical_replication_slot('base', 'm_$(slot "$p")', false, '$p')" >/dev/null 2>&1 ||
		{ log "plugin: cannot create a $p slot"; exit 1; }
done
start_lsn=$(q -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'base'")
log "plugin: generating the WAL once: $((4 * n_rows)) changes (n_rows=$n_rows) ..."
t0=$(now)
q -v n_rows="$n_rows" -v chunk=1000 -f "$BENCH_DIR/workload.sql" >/dev/null || exit 1
end_lsn=$(q -c "SELECT pg_current_wal_insert_lsn()")
wait_flushed "$end_lsn"
gen_s=$(elapsed "$t0")
wal_mb=$(q -c "SELECT round(pg_wal_lsn_diff('$end_lsn', '$start_lsn') / 1e6)")
# the number of row changes, counted by test_decoding (BEGIN/COMMIT excluded)
events=$(q -c "SELECT count(*) FROM pg_logical_slot_peek_changes('base', '$end_lsn', NULL) WHERE data LIKE 'table %'")
log "plugin: $events changes, $wal_mb MB of WAL in ${gen_s}s (LSN $start_lsn .. $end_lsn)"

: >"$raw"
declare -A broken=()
parts=${BENCH_PLUGIN_PARTS:-decode mem}
# failed NAME WHAT: after a failed run, mark NAME broken if the server crashed
failed() {
	log "plugin: $2 failed for $1"
	bench_pg_recover "$crashes0" || { broken[$1]=crashed; log "plugin: $1 crashed the server; skipping it from now on"; }
	crashes0=$(pg_crashes)
}
crashes0=$(pg_crashes)
[[ " $parts " == *" decode "* ]] || BENCH_REPS=0
for rep in $(seq "$BENCH_REPS"); do
	for c in "${configs[@]}"; do
		name=${c%%|*}; rest=${c#*|}; plugin=${rest%%|*}; opts=${rest#*|}
		[ -n "${broken[$name]:-}" ] && continue
		m=m_$(slot "$plugin")
		rs=
		if read -r ps cnt nbytes < <(peek_once "$m" "$opts" "$end_lsn") && [ -n "${nbytes:-}" ]; then
			printf 'plugin\t%s\tpeek\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$ps" "$events" "$nbytes" >>"$raw"
		else
			failed "$name" peek; continue
		fi
		if rs=$(recv_once "$m" "$opts" "$end_lsn"); then
			printf 'plugin\t%s\trecvlogical\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$rs" "$events" "$nbytes" >>"$raw"
		else
			failed "$name" pg_recvlogical; rs=
		fi
		log "plugin: rep $rep $name: peek ${ps}s ($cnt msgs, $nbytes B), recvlogical ${rs:-fail}s"
	done
done

if [ "$BENCH_REPS" -gt 0 ]; then
out ""
out "## Part 1: output plugin decoding (issue 2)"
out ""
out "Same WAL for every plugin: $events row changes (users/products/wide, REPLICA IDENTITY FULL," \
	"1000-row transactions: inserts, updates, deletes), $wal_mb MB WAL; BENCH_SCALE=$BENCH_SCALE," \
	"median of $BENCH_REPS interleaved runs. MB/s = plugin output bytes (from the peek) / time."
python3 "$BENCH_DIR/summarize.py" "$raw" plugin | tee -a "$BENCH_RESULTS"
for b in "${!broken[@]}"; do out "- **$b: not measured: it crashed the server** (see $BENCH_RUN/pg/pg.log)"; done
fi
[[ " $parts " == *" mem "* ]] || exit 0

# ---------------------------------------------------------------- big transaction memory
log "plugin: one big transaction of ~${big_mb} MB for the walsender memory check ..."
for p in $plugins; do
	q -c "SELECT pg_create_logical_replication_slot('b_$(slot "$p")', '$p')" >/dev/null 2>&1 ||
		{ log "plugin: cannot create slot b_$(slot "$p")"; bench_pg_recover "$crashes0"; crashes0=$(pg_crashes); }
done
b0=$(q -c "SELECT pg_current_wal_insert_lsn()")
big_rows=$((big_mb * 1000000 / 1100))
q -c "SET synchronous_commit = off" -c "INSERT INTO commerce.big SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, $big_rows) g" >/dev/null
b1=$(q -c "SELECT pg_current_wal_insert_lsn()")
wait_flushed "$b1"
bwal=$(q -c "SELECT round(pg_wal_lsn_diff('$b1', '$b0') / 1e6)")
ldwm=$(q -c "SHOW logical_decoding_work_mem")
memconfigs=("${configs[@]}")
# wal2json format-version 1 builds one JSON document per transaction: the unbounded case the
# check must be able to see (it fails outright past 1 GB, wal2json issue 183)
if [[ " $plugins " == *" wal2json "* ]] || [[ "$plugins" == *wal2json* ]]; then
	[ "$big_mb" -le 500 ] && memconfigs+=("wal2json/v1 (control)|wal2json|format-version=1")
fi
for c in "${memconfigs[@]}"; do
	name=${c%%|*}; rest=${c#*|}; plugin=${rest%%|*}; opts=${rest#*|}
	[ -n "${broken[$name]:-}" ] && continue
	mf=$BENCH_RUN/mem.$(slot "$name")
	rm -f "$mf"
	if rs=$(recv_once "b_$(slot "$plugin")" "$opts" "$b1" "$mf"); then
		read -r rss anon hwm <"$mf" 2>/dev/null || { rss=0 anon=0 hwm=0; }
		printf 'mem\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rs" "$big_rows" 0 "$rss" "$anon" "$hwm" >>"$raw"
		log "plugin: big txn $name: ${rs}s, walsender peak RSS $((rss / 1024)) MB (anon $((anon / 1024)) MB, HWM $((hwm / 1024)) MB)"
	else
		if ! bench_pg_recover "$crashes0"; then
			out "- **$name: big transaction not measured: the server crashed while it decoded (see $BENCH_RUN/pg/pg.log)**"
			# crash recovery may have cut the WAL short of the end LSN: the remaining runs would wait forever
			out "- remaining big-transaction runs skipped after the crash"
			break
		fi
		crashes0=$(pg_crashes)
	fi
done
out ""
out "Walsender memory while decoding one $big_rows-row transaction ($bwal MB of WAL;" \
	"logical_decoding_work_mem=$ldwm; BENCH_BIGTXN_MB=$big_mb). VmRSS/VmHWM include shared_buffers pages" \
	"the walsender touched (128MB); RssAnon is the process's private memory. Sampled every 50 ms from /proc/PID/status."
python3 "$BENCH_DIR/summarize.py" "$raw" mem | tee -a "$BENCH_RESULTS"
