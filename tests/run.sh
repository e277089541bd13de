#!/usr/bin/env bash
# Build Ferry and run every test suite; the last line is "N passed, M failed".
#
#   bash tests/run.sh                      (make test runs tests/tools/deps.sh first)
#   FERRY_TEST_ONLY=regress|unit|e2e|conformance|unit-asan|e2e-asan|e2e-valgrind bash tests/run.sh
#                                                                      one suite only
#   PYTEST_ARGS="-k kafka -x" bash tests/run.sh                       extra pytest args
#
# Suites, each counted, each skipped when its files do not exist yet:
#   build        make all (or the daemons only while plugin/ has no Makefile), then
#                make -C plugin install (the system PG's extension dir) -- a failure counts 1
#   regress      bash plugin/run-regress.sh; its LAST line must be "regress: N passed, M failed"
#   unit         make -C tests/unit check;   its LAST line must be "unit: N passed, M failed"
#   e2e          pytest tests/e2e            (fixtures in tests/e2e/conftest.py)
#   conformance  pytest tests/conformance    (Debezium 3.6.1 oracle)
#   unit-asan    make asan (daemons + objects with ASan/UBSan into */asan/), then
#                make -C tests/unit SAN=1 check (last line "unit: N passed, M failed"), then
#                make -C tests/unit check-valgrind ("unit-valgrind: ..."; memcheck, full leak check)
#   e2e-asan     pytest of E2E_ASAN_TESTS (-k "not (E2E_ASAN_DESELECT)") with FERRY_BIN_FLAVOR=asan:
#                the daemons' ASan builds (test_sanitizers.py checks that they are); any
#                ASan/LSan/UBSan report fails the test that produced it (see conftest.py)
#   e2e-valgrind pytest test_sanitizers.py + test_pipeline.py with FERRY_BIN_FLAVOR=valgrind (daemons under
#                valgrind; any error or definite/indirect leak fails it)
# FERRY_TEST_ONLY also takes unit-asan, e2e-asan, e2e-valgrind; FERRY_TEST_SKIP="a b" skips suites.
# A suite that exits non-zero without such a line, or times out, counts as 1 failed.
# Exit status: non-zero if anything failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
only=${FERRY_TEST_ONLY:-}
logdir=${FERRY_TEST_LOGDIR:-$top/build/test-logs}
mkdir -p "$logdir"
export FERRY_CACHE=${FERRY_CACHE:-$HOME/.cache/ferry}
export PYTHONDONTWRITEBYTECODE=1

total_pass=0
total_fail=0
summary=()

skip=" ${FERRY_TEST_SKIP:-} "
want() { [[ $skip != *" $1 "* ]] && { [ -z "$only" ] || [ "$only" = "$1" ]; }; }

# record NAME PASSED FAILED
record() {
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	summary+=("$(printf '%-14s %s passed, %s failed' "$1:" "$2" "$3")")
}

# parse "<word>: N passed, M failed" from the last non-empty line of a log
parse_last() {
	local line
	line=$(grep -v '^[[:space:]]*$' "$1" | tail -n 1)
	if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
	fi
}

banner() { printf '\n===== %s =====\n' "$1"; }

# ---------------------------------------------------------------- build
if want regress || want e2e || want conformance || want unit || want e2e-asan || want e2e-valgrind || want unit-asan; then
	banner build
	if [ -f plugin/Makefile ]; then target=all; else target=daemons; fi
	if ! make -s "$target" 2>&1 | tee "$logdir/build.log"; then
		record build 0 1
	fi
	# helper programs of the tests (ferry-gen, mock_kafka)
	if [ -f tests/tools/Makefile ] && ! make -s -C tests/tools 2>&1 | tee -a "$logdir/build.log"; then
		record tools-build 0 1
	fi
	# the extension into the system PostgreSQL (the tests' clusters load it from there), even
	# when another part failed to build
	if [ -f plugin/Makefile ] && [ "$only" != unit ] && [ "$only" != unit-asan ]; then
		if ! make -s -C plugin install >"$logdir/plugin-install.log" 2>&1; then
			tail -n 30 "$logdir/plugin-install.log"
			record install 0 1
		fi
	fi
fi

# ---------------------------------------------------------------- regress
if want regress && [ -f plugin/run-regress.sh ]; then
	banner regress
	timeout 1800 bash plugin/run-regress.sh 2>&1 | tee "$logdir/regress.log"
	rc=${PIPESTATUS[0]}
	read -r p f < <(parse_last "$logdir/regress.log"; echo)
	if [ -n "${p:-}" ]; then
		[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
		record regress "$p" "$f"
	else
		echo "regress: crashed (exit $rc, no 'regress: N passed, M failed' line)"
		record regress 0 1
	fi
fi

# ---------------------------------------------------------------- unit
if want unit && [ -f tests/unit/Makefile ]; then
	banner unit
	timeout 1800 make -s -C tests/unit check 2>&1 | tee "$logdir/unit.log"
	rc=${PIPESTATUS[0]}
	read -r p f < <(parse_last "$logdir/unit.log"; echo)
	if [ -n "${p:-}" ]; then
		[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
		record unit "$p" "$f"
	else
		echo "unit: crashed (exit $rc, no 'unit: N passed, M failed' line)"
		record unit 0 1
	fi
fi

# ---------------------------------------------------------------- sanitizer builds
# `make asan`: common/asan, relay/asan/ferry-relay, sink/asan/ferry-sink (ASan + UBSan, -Werror)
asan_ok=1
if want unit-asan || want e2e-asan; then
	banner asan-build
	if ! make -s asan 2>&1 | tee "$logdir/asan-build.log"; then
		record asan-build 0 1
		asan_ok=0
	fi
fi

# run_make_suite NAME LABEL TIMEOUT MAKE-ARGS...: a make run whose last line is "LABEL: N passed, M failed"
run_make_suite() {
	local name=$1 label=$2 tmo=$3 rc p f
	shift 3
	banner "$name"
	timeout "$tmo" make -s "$@" 2>&1 | tee "$logdir/$name.log"
	rc=${PIPESTATUS[0]}
	read -r p f < <(parse_last "$logdir/$name.log"; echo)
	if [ -n "${p:-}" ]; then
		[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
		record "$name" "$p" "$f"
	else
		echo "$name: crashed (exit $rc, no '$label: N passed, M failed' line)"
		record "$name" 0 1
	fi
}

# ---------------------------------------------------------------- unit-asan
if want unit-asan && [ -f tests/unit/Makefile ]; then
	if [ "$asan_ok" = 1 ]; then
		run_make_suite unit-asan unit 900 -C tests/unit SAN=1 check
	fi
	if command -v valgrind >/dev/null; then
		run_make_suite unit-valgrind unit-valgrind 900 -C tests/unit check-valgrind
	else
		echo "unit-valgrind: valgrind is not installed (tests/tools/deps.sh installs it)"
		record unit-valgrind 0 1
	fi
fi

# ---------------------------------------------------------------- pytest suites
# The fixtures put their run dirs under FERRY_RUN_BASE; after a suite, whatever is still
# running there (a crash or timeout skips the fixtures' teardown) is stopped by its saved PID.
export FERRY_RUN_BASE=${FERRY_RUN_BASE:-$(mktemp -d /tmp/ferry-run.XXXXXX)}
stop_leftovers() {
	local d f pid
	for d in "$FERRY_RUN_BASE"/*/; do
		[ -d "$d" ] || continue
		[ -f "$d/pgdata/postmaster.pid" ] && bash tests/tools/peers/pg.sh stop "$d" >/dev/null 2>&1
		[ -f "$d/kafka/kafka.pid" ] && bash tests/tools/peers/kafka.sh stop "$d/kafka" >/dev/null 2>&1
		[ -f "$d/s3/s3.pid" ] && bash tests/tools/peers/s3.sh stop "$d/s3" >/dev/null 2>&1
		while IFS= read -r f; do
			pid=$(head -n1 "$f" 2>/dev/null)
			if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
				echo "run.sh: stopping leftover process $pid ($f)"
				kill "$pid" 2>/dev/null; sleep 2; kill -9 "$pid" 2>/dev/null
			fi
			rm -f "$f"
		done < <(find "$d" -name '*.pid' -not -name postmaster.pid 2>/dev/null)
	done
	# keep only run dirs the fixtures kept (failures); drop the base if empty
	rmdir "$FERRY_RUN_BASE" 2>/dev/null || true
}

# run_pytest NAME DIR TIMEOUT [PYTEST-ARGS...]   (DIR: a directory or a space-separated list of paths)
run_pytest() {
	local name=$1 dir=$2 tmo=$3 xml=$logdir/$1.xml rc counts
	shift 3
	banner "$name"
	rm -f "$xml"
	# shellcheck disable=SC2086
	timeout -s INT -k 60 "$tmo" python3 -m pytest $dir -p no:cacheprovider -rfEs -v --tb=short \
		--junitxml="$xml" "$@" ${PYTEST_ARGS:-} 2>&1 | tee "$logdir/$name.log"
	rc=${PIPESTATUS[0]}
	stop_leftovers
	counts=$(python3 - "$xml" <<'EOF' 2>/dev/null
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
suites = [r] if r.tag == "testsuite" else r.findall("testsuite")
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t - f - e - s, f + e)
EOF
)
	case "$rc" in
	0|1|5)
		if [ -n "$counts" ]; then
			read -r p f <<<"$counts"
			[ "$rc" = 1 ] && [ "$f" = 0 ] && f=1
			record "$name" "$p" "$f"
		elif [ "$rc" = 5 ]; then
			record "$name" 0 0
		else
			echo "$name: pytest exit $rc and no junit report"; record "$name" 0 1
		fi ;;
	*)
		# 2 interrupted, 3 internal error, 4 usage error, 124 timeout
		echo "$name: pytest crashed or timed out (exit $rc)"
		if [ -n "$counts" ]; then read -r p f <<<"$counts"; else p=0 f=0; fi
		record "$name" "$p" $((f + 1)) ;;
	esac
}

if want e2e && [ -d tests/e2e ]; then
	run_pytest e2e tests/e2e "${FERRY_TIMEOUT_E2E:-2400}"
fi
if want conformance && [ -d tests/conformance ]; then
	run_pytest conformance tests/conformance "${FERRY_TIMEOUT_CONFORMANCE:-900}"
fi

# The e2e tests whose daemons stop with SIGTERM or an error exit (so LeakSanitizer sees a normal
# exit): the whole pipeline, the relay's snapshot/stream/reconnect/error paths, the sink's
# S3/file/gzip/recovery/DLQ/config/TLS/rebalance/outage/retry paths.  Not the kill -9 tests
# (a SIGKILLed daemon leaves no leak report, and they are the slow ones).
E2E_ASAN_TESTS=${E2E_ASAN_TESTS:-"tests/e2e/test_sanitizers.py tests/e2e/test_pipeline.py tests/e2e/test_relay.py tests/e2e/test_relay_errors.py tests/e2e/test_sink.py tests/e2e/test_sink_crash.py"}
E2E_ASAN_DESELECT=${E2E_ASAN_DESELECT:-"kill9"}
if want e2e-asan && [ -d tests/e2e ] && [ "$asan_ok" = 1 ]; then
	FERRY_BIN_FLAVOR=asan run_pytest e2e-asan "$E2E_ASAN_TESTS" "${FERRY_TIMEOUT_E2E_ASAN:-900}" \
		-k "not ($E2E_ASAN_DESELECT)"
fi
if want e2e-valgrind && [ -f tests/e2e/test_pipeline.py ]; then
	if command -v valgrind >/dev/null; then
		FERRY_BIN_FLAVOR=valgrind run_pytest e2e-valgrind \
			"tests/e2e/test_sanitizers.py tests/e2e/test_pipeline.py" \
			"${FERRY_TIMEOUT_E2E_VALGRIND:-600}"
	else
		echo "e2e-valgrind: valgrind is not installed (tests/tools/deps.sh installs it)"
		record e2e-valgrind 0 1
	fi
fi

# ---------------------------------------------------------------- summary
banner summary
for s in "${summary[@]}"; do echo "$s"; done
echo "logs: $logdir"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
