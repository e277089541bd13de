#!/usr/bin/env bash
# Ferry benchmarks (NOT tests; never part of make test).
#
#   bash tests/bench/run.sh [plugin|relay|sink|all]      (make bench = all, after deps)
#
# Env: BENCH_SCALE   workload multiplier (1 = issue sizes: 500k plugin changes, 1M relay
#                    changes, 1M sink records; 0.1 for a smoke run)
#      BENCH_REPS    interleaved repetitions per measurement (3), median reported
#      BENCH_RUN     scratch dir (default build/bench/run.<pid>, one per invocation, removed at
#                    the end unless BENCH_KEEP=1); each part gets BENCH_RUN/<part>
# Results go to stdout and, when the run ends, tests/bench/results/latest.md (not committed).
# Each part skips itself, saying why, when the component it measures is not built.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
user_run=${BENCH_RUN:-}
source "$here/lib.sh"

what=${1:-all}
case "$what" in plugin|relay|sink|all) ;; *) echo "usage: $0 [plugin|relay|sink|all]" >&2; exit 2 ;; esac

top_run=$BENCH_RUN
mkdir -p "$top_run"
BENCH_RESULTS=$top_run/results.md
export BENCH_RESULTS
latest=$here/results/latest.md
mkdir -p "$(dirname "$latest")"
{
	echo "# Ferry benchmark results"
	echo ""
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git -C "$BENCH_TOP" rev-parse --short HEAD 2>/dev/null)," \
		"BENCH_SCALE=$BENCH_SCALE BENCH_REPS=$BENCH_REPS"
} | tee "$BENCH_RESULTS"

rc=0
for part in plugin sink relay; do
	[ "$what" = all ] || [ "$what" = "$part" ] || continue
	export BENCH_RUN=$top_run/$part
	rm -rf "$BENCH_RUN"; mkdir -p "$BENCH_RUN"
	log "===== $part ====="
	t0=$(now)
	bash "$here/$part.sh" || { log "$part: failed (exit $?)"; rc=1; }
	log "$part took $(elapsed "$t0")s"
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$BENCH_RUN"
	cp "$BENCH_RESULTS" "$latest.tmp.$$" && mv "$latest.tmp.$$" "$latest"
done
# remove the whole scratch dir only when it is ours (the default); a given BENCH_RUN stays
if [ -z "${BENCH_KEEP:-}" ] && [ -z "$user_run" ]; then rm -rf "$top_run"; fi
echo ""
echo "results: $latest${BENCH_KEEP:+ (scratch kept in $top_run)}"
exit $rc
