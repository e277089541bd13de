#!/usr/bin/env bash
# Run only the Debezium conformance test, verbosely (for iterating on plugin/).
#
#   tests/conformance/run.sh [pytest args...]      e.g.  -k 'defaults and toast_t'   or   -x
#
# Rebuilds and installs the plugin first when plugin/Makefile exists (skip: NO_INSTALL=1).
# Needs the Debezium jars (bash tests/tools/deps.sh). Results, kept after the run:
#   build/conformance/<scenario>/report.txt       the full diff report
#   build/conformance/<scenario>/debezium.jsonl   Debezium's records ({"topic","key","value","headers"} per line)
#   build/conformance/<scenario>/ferry.jsonl      ferry's rows from pg_logical_slot_get_changes
# Scenarios (option sets, same on both sides): SCENARIOS in test_debezium_conformance.py.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
if [ -z "${NO_INSTALL:-}" ] && [ -f plugin/Makefile ]; then
	make -s -C plugin >/dev/null
	make -s -C plugin install >/dev/null
fi
exec python3 -m pytest tests/conformance -p no:cacheprovider -v -rfE --tb=short "$@"
