#!/usr/bin/env bash
# Apache Kafka 3.9 single node (KRaft, combined broker+controller) from the jars that
# tests/tools/deps.sh caches in $FERRY_CACHE/kafka3/lib.
#
#   kafka.sh start RUNDIR [PORT]   wipe RUNDIR/kafka-data, format, start on 127.0.0.1:PORT
#                                  (default 9092; controller on PORT+1); waits for kcat -L.
#                                  Log RUNDIR/kafka.log, PID RUNDIR/kafka.pid
#   kafka.sh stop  RUNDIR          stop by the saved PID (TERM, then KILL after 30 s)
#
# Env: FERRY_CACHE (default ~/.cache/ferry), KAFKA_HEAP (default 512m),
#      KAFKA_PARTITIONS (default 1, num.partitions for auto-created topics).
set -euo pipefail

cmd=${1:-}; rundir=${2:-}; port=${3:-9092}
[ -n "$cmd" ] && [ -n "$rundir" ] || { echo "usage: $0 start|stop RUNDIR [PORT]" >&2; exit 2; }
cache=${FERRY_CACHE:-$HOME/.cache/ferry}
lib=$cache/kafka3/lib
heap=${KAFKA_HEAP:-512m}
mkdir -p "$rundir"
rundir=$(cd "$rundir" && pwd)
pidfile=$rundir/kafka.pid

. "$(dirname "$0")/lib.sh"

case "$cmd" in
start)
	ls "$lib"/kafka_2.13-*.jar >/dev/null 2>&1 || {
		echo "kafka.sh: no Kafka jars in $lib (run tests/tools/deps.sh)" >&2; exit 1; }
	stop_pid "$pidfile"
	cport=$((port + 1))
	data=$rundir/kafka-data
	rm -rf "$data"
	cat >"$rundir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data
num.partitions=${KAFKA_PARTITIONS:-1}
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
message.max.bytes=10485760
EOF
	cat >"$rundir/log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
	jopts=(-Xms"$heap" -Xmx"$heap" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
		-XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
		-XX:MaxInlineLevel=15 -Djava.awt.headless=true
		-Dkafka.logs.dir="$rundir" -Dlog4j.configuration="file:$rundir/log4j.properties")
	cid=MkU3OEVBNTcwNTJENDM2Qk
	java "${jopts[@]}" -cp "$lib/*" kafka.tools.StorageTool format -t "$cid" \
		-c "$rundir/server.properties" >"$rundir/kafka-format.log" 2>&1 ||
		{ cat "$rundir/kafka-format.log" >&2; exit 1; }
	nohup java "${jopts[@]}" -cp "$lib/*" kafka.Kafka "$rundir/server.properties" \
		>"$rundir/kafka.log" 2>&1 </dev/null &
	echo $! >"$pidfile"
	pid=$(cat "$pidfile")
	for _ in $(seq 120); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "kafka.sh: broker exited; log follows" >&2; tail -n 60 "$rundir/kafka.log" >&2; exit 1
		fi
		if kcat -b "127.0.0.1:$port" -L -m 2 2>/dev/null | grep -q '1 brokers'; then
			echo "kafka.sh: kafka up on 127.0.0.1:$port (pid $pid, log $rundir/kafka.log)"
			exit 0
		fi
		sleep 0.5
	done
	echo "kafka.sh: broker not ready after 60 s; log follows" >&2
	tail -n 60 "$rundir/kafka.log" >&2
	stop_pid "$pidfile"
	exit 1
	;;
stop)
	stop_pid "$pidfile"
	;;
*)
	echo "usage: $0 start|stop RUNDIR [PORT]" >&2; exit 2 ;;
esac
