#!/bin/bash
# plugin/run-regress.sh: build and install the ferry extension, then run its
# pg_regress suite in a temporary instance (logical.conf) as the postgres
# user.  Works from root (initdb refuses root: the suite runs in a copy of
# plugin/ owned by postgres) or as any user allowed to write the PG install
# directories.  The last line is always "regress: N passed, M failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
runuser=${FERRY_REGRESS_USER:-postgres}

summary() {
	echo "regress: $1 passed, $2 failed"
	exit "$3"
}

if ! make -s -C "$here" PG_CONFIG="$PG_CONFIG" >/dev/null; then
	echo "plugin build failed" >&2
	summary 0 1 1
fi
if ! make -s -C "$here" PG_CONFIG="$PG_CONFIG" install >/dev/null; then
	echo "plugin install failed" >&2
	summary 0 1 1
fi

work=$(mktemp -d /tmp/ferry-regress.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -C "$here" --exclude=./results --exclude=./tmp_check --exclude=./log \
	--exclude='./regression.*' -cf - . | tar -C "$work" -xf -

if [ "$(id -u)" = 0 ]; then
	chown -R "$runuser" "$work"
	su "$runuser" -s /bin/bash -c "cd '$work' && make -s PG_CONFIG='$PG_CONFIG' installcheck" >"$work/out.txt" 2>&1
	rc=$?
else
	(cd "$work" && make -s PG_CONFIG="$PG_CONFIG" installcheck) >"$work/out.txt" 2>&1
	rc=$?
fi

cat "$work/out.txt"
if [ $rc -ne 0 ] && [ -f "$work/regression.diffs" ]; then
	echo "==== regression.diffs ===="
	cat "$work/regression.diffs"
	# keep the evidence next to the sources (both paths are git-ignored)
	rm -rf "$here/results" 2>/dev/null
	cp -r "$work/results" "$here/results" 2>/dev/null
	cp "$work/regression.diffs" "$here/regression.diffs" 2>/dev/null
fi

passed=$(grep -cE '\.\.\. ok' "$work/out.txt")
failed=$(grep -cE '\.\.\. (FAILED|failed)' "$work/out.txt")
if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi

# the replication protocol (walsender) path, counted as one more test
if [ "$(id -u)" = 0 ]; then
	su "$runuser" -s /bin/bash -c "PATH='$PATH' bash '$work/t/replication.sh'" >"$work/repl.txt" 2>&1
else
	bash "$work/t/replication.sh" >"$work/repl.txt" 2>&1
fi
if [ $? -eq 0 ]; then
	echo "test replication (t/replication.sh)  ... ok"
	passed=$((passed + 1))
else
	echo "test replication (t/replication.sh)  ... FAILED"
	cat "$work/repl.txt"
	failed=$((failed + 1))
	rc=1
fi
summary "$passed" "$failed" $([ $rc -eq 0 ] && echo 0 || echo 1)
