#!/usr/bin/env bash
# S3-compatible server with strict SigV4 checking: versitygw (posix backend).
#
#   s3.sh start RUNDIR [PORT]   wipe RUNDIR/s3-data, start on 127.0.0.1:PORT (default 7070),
#                               create bucket $S3_BUCKET. Log RUNDIR/s3.log, PID RUNDIR/s3.pid
#   s3.sh stop  RUNDIR          stop by the saved PID
#
# Env: S3_ACCESS_KEY (default ferryadmin), S3_SECRET_KEY (default ferrysecret123),
#      S3_REGION (default us-east-1), S3_BUCKET (default commerce; empty = none),
#      VERSITYGW (binary; default: versitygw on PATH, else $(go env GOPATH)/bin/versitygw).
# Objects of bucket B are plain files under RUNDIR/s3-data/B/.
set -euo pipefail

cmd=${1:-}; rundir=${2:-}; port=${3:-7070}
[ -n "$cmd" ] && [ -n "$rundir" ] || { echo "usage: $0 start|stop RUNDIR [PORT]" >&2; exit 2; }
access=${S3_ACCESS_KEY:-ferryadmin}
secret=${S3_SECRET_KEY:-ferrysecret123}
region=${S3_REGION:-us-east-1}
bucket=${S3_BUCKET-commerce}
mkdir -p "$rundir"
rundir=$(cd "$rundir" && pwd)
pidfile=$rundir/s3.pid

find_vgw() {
	local c
	for c in "${VERSITYGW:-}" "$(command -v versitygw 2>/dev/null || true)" \
		"$(go env GOPATH 2>/dev/null)/bin/versitygw" "$HOME/go/bin/versitygw"; do
		[ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
	done
	return 1
}

. "$(dirname "$0")/lib.sh"

case "$cmd" in
start)
	vgw=$(find_vgw) || { echo "s3.sh: versitygw not found (run tests/tools/deps.sh)" >&2; exit 1; }
	stop_pid "$pidfile" 100
	data=$rundir/s3-data
	rm -rf "$data" "$rundir/s3-meta"
	mkdir -p "$data"
	# posix backend keeps metadata in user xattrs; use a sidecar dir where they are missing
	metaopt=()
	if ! python3 -c 'import os,sys; p=sys.argv[1]+"/.xattr-probe"; open(p,"w").close(); os.setxattr(p,"user.ferry",b"1"); os.remove(p)' "$data" 2>/dev/null; then
		rm -f "$data/.xattr-probe"
		mkdir -p "$rundir/s3-meta"
		metaopt=(--sidecar "$rundir/s3-meta")
	fi
	ROOT_ACCESS_KEY="$access" ROOT_SECRET_KEY="$secret" nohup "$vgw" --port "127.0.0.1:$port" \
		--region "$region" --quiet posix "${metaopt[@]}" "$data" >"$rundir/s3.log" 2>&1 </dev/null &
	echo $! >"$pidfile"
	pid=$(cat "$pidfile")
	ok=
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		# any HTTP answer (403 to an unsigned request) means it listens
		if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then ok=1; break; fi
		sleep 0.1
	done
	if [ -z "$ok" ]; then
		echo "s3.sh: versitygw did not come up; log follows" >&2
		tail -n 40 "$rundir/s3.log" >&2; stop_pid "$pidfile" 100; exit 1
	fi
	if [ -n "$bucket" ]; then
		AWS_ACCESS_KEY_ID="$access" AWS_SECRET_ACCESS_KEY="$secret" AWS_DEFAULT_REGION="$region" \
		AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required \
		python3 - "http://127.0.0.1:$port" "$bucket" <<'EOF' || { tail -n 20 "$rundir/s3.log" >&2; stop_pid "$pidfile" 100; exit 1; }
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket=sys.argv[2])
EOF
	fi
	echo "s3.sh: versitygw up on http://127.0.0.1:$port (pid $pid, bucket '${bucket}', data $data${metaopt:+, sidecar})"
	;;
stop)
	stop_pid "$pidfile" 100
	;;
*)
	echo "usage: $0 start|stop RUNDIR [PORT]" >&2; exit 2 ;;
esac
