#!/usr/bin/env bash
# Ferry benchmarks (NOT tests; never part of make test).
#
#   bash tests/bench/run.sh [plugin|relay|sink|all]      (make bench = all, after deps)
#
# Env: BENCH_SCALE   workload multiplier (1 = issue sizes: 500k plugin changes, 1M relay
#                    changes, 1M sink records; 0.1 for a smoke run)
#      BENCH_REPS    interleaved repetitions per measurement (3), median reported
#      BENCH_RUN     scratch dir (build/bench), wiped per part
# Results go to stdout and tests/bench/results/latest.md (not committed).
# Each part skips itself, saying why, when the component it measures is not built.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

what=${1:-all}
case "$what" in plugin|relay|sink|all) ;; *) echo "usage: $0 [plugin|relay|sink|all]" >&2; exit 2 ;; esac

mkdir -p "$(dirname "$BENCH_RESULTS")"
{
	echo "# Ferry benchmark results"
	echo ""
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git -C "$BENCH_TOP" rev-parse --short HEAD 2>/dev/null)," \
		"BENCH_SCALE=$BENCH_SCALE BENCH_REPS=$BENCH_REPS"
} | tee "$BENCH_RESULTS"

rc=0
for part in plugin sink relay; do
	[ "$what" = all ] || [ "$what" = "$part" ] || continue
	rm -rf "$BENCH_RUN"; mkdir -p "$BENCH_RUN"
	log "===== $part ====="
	t0=$(now)
	bash "$here/$part.sh" || { log "$part: failed (exit $?)"; rc=1; }
	log "$part took $(elapsed "$t0")s"
done
echo ""
echo "results: $BENCH_RESULTS"
exit $rc
