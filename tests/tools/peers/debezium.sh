#!/usr/bin/env bash
# Kafka Connect standalone worker running the Debezium 3.6.1 PostgreSQL connector (the
# jars tests/tools/deps.sh caches in $FERRY_CACHE/debezium/lib), writing to a Kafka broker.
#
#   debezium.sh start RUNDIR BOOTSTRAP PGPORT [RESTPORT]
#   debezium.sh stop  RUNDIR
#
# start waits until the connector's task is RUNNING (REST on 127.0.0.1:RESTPORT, default 8083).
# Log RUNDIR/connect.log, PID RUNDIR/connect.pid, offsets RUNDIR/connect.offsets.
# Env (connector settings; defaults in brackets):
#   DBZ_DB [postgres]  DBZ_PREFIX [debezium]  DBZ_SLOT [dbz_connect]  DBZ_PUBLICATION [dbz_connect_pub]
#   DBZ_SCHEMAS [empty = all]  DBZ_SNAPSHOT [initial]  DBZ_HEAP [1g]
#   DBZ_EXTRA  extra connector properties, newline-separated key=value lines
set -euo pipefail

cmd=${1:-}; rundir=${2:-}
[ -n "$cmd" ] && [ -n "$rundir" ] || { echo "usage: $0 start RUNDIR BOOTSTRAP PGPORT [RESTPORT] | stop RUNDIR" >&2; exit 2; }
cache=${FERRY_CACHE:-$HOME/.cache/ferry}
lib=$cache/debezium/lib
mkdir -p "$rundir"
rundir=$(cd "$rundir" && pwd)
pidfile=$rundir/connect.pid

. "$(dirname "$0")/lib.sh"

case "$cmd" in
start)
	bootstrap=${3:?BOOTSTRAP}; pgport=${4:?PGPORT}; rest=${5:-8083}
	ls "$lib"/debezium-connector-postgres-*.jar >/dev/null 2>&1 ||
		{ echo "debezium.sh: no Debezium jars in $lib (run tests/tools/deps.sh)" >&2; exit 1; }
	stop_pid "$pidfile"
	rm -f "$rundir/connect.offsets"
	name=ferry-dbz
	cat >"$rundir/worker.properties" <<EOF
bootstrap.servers=$bootstrap
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=$rundir/connect.offsets
offset.flush.interval.ms=1000
listeners=http://127.0.0.1:$rest
plugin.discovery=only_scan
EOF
	{
		cat <<EOF
name=$name
connector.class=io.debezium.connector.postgresql.PostgresConnector
tasks.max=1
database.hostname=127.0.0.1
database.port=$pgport
database.user=postgres
database.password=postgres
database.dbname=${DBZ_DB:-postgres}
topic.prefix=${DBZ_PREFIX:-debezium}
plugin.name=pgoutput
slot.name=${DBZ_SLOT:-dbz_connect}
publication.name=${DBZ_PUBLICATION:-dbz_connect_pub}
snapshot.mode=${DBZ_SNAPSHOT:-initial}
topic.creation.default.replication.factor=1
topic.creation.default.partitions=1
EOF
		[ -n "${DBZ_SCHEMAS:-}" ] && echo "schema.include.list=$DBZ_SCHEMAS"
		[ -n "${DBZ_EXTRA:-}" ] && printf '%s\n' "$DBZ_EXTRA"
	} >"$rundir/pg-source.properties"
	cat >"$rundir/log4j2.properties" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.err.ref = STDERR
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
EOF
	heap=${DBZ_HEAP:-1g}
	nohup java -Xms256m -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true -Duser.timezone=UTC \
		-Dlog4j2.configurationFile="$rundir/log4j2.properties" -cp "$lib/*" \
		org.apache.kafka.connect.cli.ConnectStandalone "$rundir/worker.properties" "$rundir/pg-source.properties" \
		>"$rundir/connect.log" 2>&1 </dev/null &
	echo $! >"$pidfile"
	pid=$(cat "$pidfile")
	for _ in $(seq 240); do
		kill -0 "$pid" 2>/dev/null || { echo "debezium.sh: worker exited; log follows" >&2; tail -n 40 "$rundir/connect.log" >&2; exit 1; }
		st=$(curl -s "http://127.0.0.1:$rest/connectors/$name/status" 2>/dev/null || true)
		case "$st" in
		*'"tasks":[{"id":0,"state":"RUNNING"'*)
			echo "debezium.sh: connector $name running (pid $pid, REST 127.0.0.1:$rest, log $rundir/connect.log)"
			exit 0 ;;
		*'"state":"FAILED"'*)
			echo "debezium.sh: connector failed: $st" >&2; stop_pid "$pidfile"; exit 1 ;;
		esac
		sleep 0.5
	done
	echo "debezium.sh: connector not running after 120 s; log follows" >&2
	tail -n 40 "$rundir/connect.log" >&2
	stop_pid "$pidfile"
	exit 1
	;;
stop)
	stop_pid "$pidfile"
	;;
*)
	echo "usage: $0 start RUNDIR BOOTSTRAP PGPORT [RESTPORT] | stop RUNDIR" >&2; exit 2 ;;
esac
