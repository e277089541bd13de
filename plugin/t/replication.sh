#!/bin/bash
# plugin/t/replication.sh: the plugin through the streaming replication
# protocol (walsender), which the SQL-interface regress tests do not reach:
# slot creation with CREATE_REPLICATION_SLOT, START_REPLICATION in both
# formats, option errors, and no backend crash.  Run as a non-root user with
# the extension installed; prints "ok" or the reason and exits 0/1.
set -u
bindir=$(pg_config --bindir)
dir=$(mktemp -d /tmp/ferry-repl.XXXXXX)
port=$((20000 + RANDOM % 20000))
trap '"$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1; rm -rf "$dir"' EXIT
fail() { echo "FAILED: $*"; [ -f "$dir/log" ] && tail -20 "$dir/log"; exit 1; }

"$bindir/initdb" -D "$dir/data" -E UTF8 --no-locale >/dev/null 2>&1 || fail "initdb"
cat "$(dirname "$0")/../logical.conf" >> "$dir/data/postgresql.conf"
printf "port = %d\nunix_socket_directories = '%s'\nlisten_addresses = ''\n" "$port" "$dir" >> "$dir/data/postgresql.conf"
"$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null || fail "start"
conn="-h $dir -p $port -d postgres"
recv() { timeout 20 "$bindir/pg_recvlogical" $conn "$@"; }

recv -S s --create-slot -P ferry || fail "CREATE_REPLICATION_SLOT"
"$bindir/psql" -X -q $conn -c "CREATE TABLE t (id int PRIMARY KEY, v text);
	INSERT INTO t VALUES (1, 'a'); UPDATE t SET id = 2; DELETE FROM t;
	SELECT pg_logical_emit_message(false, 'p', 'x');" >/dev/null || fail "workload"
end=$("$bindir/psql" -X -At $conn -c "SELECT pg_current_wal_lsn()")

recv -S s --start --no-loop -E "$end" -f "$dir/json" -o topic.prefix=srv -o run.id=r \
	-o schema.include.list=public || fail "START_REPLICATION json"
[ "$(grep -c '"topic":"srv.public.t"' "$dir/json")" = 6 ] || fail "json: expected 6 records on srv.public.t: $(cat "$dir/json")"
grep -q '"db":"postgres"' "$dir/json" || fail "json: source.db"
grep -q '"topic":"srv.message"' "$dir/json" || fail "json: message"

recv -S s --start --no-loop -E "$end" -f "$dir/relay" -o format=relay -o wire-version=1 \
	-o startpos=0 2>"$dir/err"
grep -q 'unrecognized ferry option "startpos"' "$dir/err" || fail "unknown option not reported: $(cat "$dir/err")"

recv -S s2 --create-slot -P ferry || fail "second slot"
"$bindir/psql" -X -q $conn -c "INSERT INTO t VALUES (3, 'c')" >/dev/null
end=$("$bindir/psql" -X -At $conn -c "SELECT pg_current_wal_lsn()")
recv -S s2 --start --no-loop -E "$end" -f "$dir/relay" -o format=relay -o wire-version=1 || fail "START_REPLICATION relay"
head -c 1 "$dir/relay" | grep -q B || fail "relay: first frame is not B"
grep -qa 'srv\|ferry.public.t' "$dir/relay" || fail "relay: no topic"

# every option at once, and an unchanged TOASTed uuid[] (its marker needs MD5)
recv -S s3 --create-slot -P ferry || fail "third slot"
"$bindir/psql" -X -q $conn -c "CREATE TABLE tu (id int PRIMARY KEY, n int, ua uuid[]);
	ALTER TABLE tu ALTER COLUMN ua SET STORAGE EXTERNAL;
	INSERT INTO tu SELECT 1, 1, array_fill(gen_random_uuid(), ARRAY[300]);
	UPDATE tu SET n = 2; SELECT pg_logical_emit_message(true, 'm', 'x')" >/dev/null || fail "toast workload"
end=$("$bindir/psql" -X -At $conn -c "SELECT pg_current_wal_lsn()")
recv -S s3 --start --no-loop -E "$end" -f "$dir/all" -o format=json -o wire-version=1 -o topic.prefix=p \
	-o run.id=r -o schemas.enable=false -o decimal.handling.mode=string -o time.precision.mode=connect \
	-o binary.handling.mode=hex -o interval.handling.mode=string -o hstore.handling.mode=map \
	-o tombstones.on.delete=false -o skipped.operations=none -o provide.transaction.metadata=true \
	-o extended.headers.enabled=false -o include.unknown.datatypes=true -o schema.include.list=public \
	-o table.exclude.list=public.nothing -o column.exclude.list=x.y.z -o message.prefix.include.list=m \
	-o unavailable.value.placeholder=N/A -o offset.lsn.commit=0/1 || fail "START_REPLICATION with all options"
grep -q '"ua":\["382b0f51-8577-3fa0-b67a-8ed8056c7759"\]' "$dir/all" || fail "toast uuid[] marker: $(grep '"n":2' "$dir/all")"
grep -q '"topic":"p.transaction"' "$dir/all" || fail "transaction metadata"

if grep -q "terminated by signal" "$dir/log"; then
	fail "a backend crashed"
fi
echo ok
