#!/usr/bin/env bash
# Install everything Ferry's build, tests and demo need, idempotently.
#
#   bash tests/tools/deps.sh          build deps + PostgreSQL + test peers (Kafka 3.9 jars,
#                                     versitygw, Debezium 3.6.1 jars, Python packages)
#   bash tests/tools/deps.sh --demo   only what `make demo` needs: build deps + PostgreSQL
#
# Skips whatever is present; prints one line per component. Slow downloads are cached
# outside the clone in ${FERRY_CACHE:-$HOME/.cache/ferry}:
#   kafka3/lib        Kafka 3.9.1 broker classpath    (tests/tools/peers/kafka-pom.xml)
#   debezium/lib      Debezium 3.6.1 + Connect 4.3.1  (tests/tools/peers/debezium-pom.xml)
#   debezium/classes  DbzDump (tests/conformance/DbzDump.java), compiled
# Maven's own repository stays in ~/.m2; versitygw goes to $(go env GOPATH)/bin.
# Needs root (or sudo) only when an apt package is missing.
set -euo pipefail

mode=full
case "${1:-}" in
--demo) mode=demo ;;
"") ;;
*) echo "usage: $0 [--demo]" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${FERRY_CACHE:-$HOME/.cache/ferry}
mkdir -p "$cache"
export DEBIAN_FRONTEND=noninteractive

KAFKA_VERSION=3.9.1
VGW_MODULE=github.com/versity/versitygw/cmd/versitygw
VGW_VERSION=v1.7.0

now() { date +%s; }
say() { printf '%-28s %s\n' "$1:" "$2"; }
took() { echo "$(( $(now) - $1 ))s"; }

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

# ---------------------------------------------------------------- apt
build_pkgs=(gcc make pkg-config curl ca-certificates
	postgresql-15 postgresql-server-dev-15 libpq-dev
	librdkafka-dev libcurl4-openssl-dev libyaml-dev zlib1g-dev libssl-dev)
test_pkgs=(kcat postgresql-15-wal2json postgresql-15-decoderbufs libcmocka-dev valgrind)

pkgs=("${build_pkgs[@]}")
[ "$mode" = full ] && pkgs+=("${test_pkgs[@]}")
# the JVM and Maven are in the base image; install them only if they are not
if [ "$mode" = full ]; then
	command -v java >/dev/null 2>&1 || pkgs+=(openjdk-17-jdk-headless)
	command -v javac >/dev/null 2>&1 || pkgs+=(openjdk-17-jdk-headless)
	command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
fi
command -v python3 >/dev/null 2>&1 || pkgs+=(python3 python3-pip python3-venv)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *" installed") ;; *) missing+=("$p") ;; esac
done
if [ ${#missing[@]} -eq 0 ]; then
	say "apt packages" "present (${#pkgs[@]})"
else
	t0=$(now)
	# a package install starts the default cluster where it can; we never use it
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	say "apt packages" "installed ${missing[*]} ($(took "$t0"))"
fi

# ---------------------------------------------------------------- python
pip_install() {
	if ! python3 -m pip install -q "$@" 2>/tmp/ferry-pip.$$; then
		if grep -q externally-managed /tmp/ferry-pip.$$; then
			python3 -m pip install -q --break-system-packages "$@"
		else
			cat /tmp/ferry-pip.$$ >&2; rm -f /tmp/ferry-pip.$$; return 1
		fi
	fi
	rm -f /tmp/ferry-pip.$$
}
if [ "$mode" = full ]; then
	# module:requirement
	want=(pytest:pytest boto3:boto3 confluent_kafka:confluent-kafka duckdb:duckdb
		psycopg:psycopg[binary] awscli:awscli)
	need=()
	for w in "${want[@]}"; do
		python3 -c "import ${w%%:*}" 2>/dev/null || need+=("${w#*:}")
	done
	if [ ${#need[@]} -eq 0 ]; then
		say "python packages" "present (pytest boto3 confluent-kafka duckdb psycopg awscli)"
	else
		t0=$(now)
		python3 -m pip --version >/dev/null 2>&1 || python3 -m ensurepip --upgrade >/dev/null 2>&1 || true
		pip_install "${need[@]}"
		say "python packages" "installed ${need[*]} ($(took "$t0"))"
	fi
fi

[ "$mode" = demo ] && { say "deps (--demo)" "done"; exit 0; }

# ---------------------------------------------------------------- maven jar folders
# $1 label, $2 pom, $3 output dir, $4 marker glob. Re-fetched when the pom changes.
mvn_lib() {
	local name=$1 pom=$2 out=$3 marker=$4 sum stamp t0 mlog
	mlog=$cache/mvn-$(basename "$pom" .xml).log
	sum=$(sha256sum "$pom" | cut -c1-16)
	stamp=$out/.pom-$sum
	if [ -f "$stamp" ] && compgen -G "$out/$marker" >/dev/null; then
		say "$name" "cached ($out)"
		return 0
	fi
	t0=$(now)
	rm -rf "$out.tmp"
	mvn -B -q -f "$pom" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$out.tmp" >"$mlog" 2>&1 ||
		{ tail -n 40 "$mlog" >&2; echo "deps.sh: maven failed for $name" >&2; exit 1; }
	rm -rf "$out"
	mv "$out.tmp" "$out"
	touch "$stamp"
	say "$name" "downloaded $(ls "$out" | grep -c '\.jar$') jars ($(took "$t0"))"
}
mvn_lib "kafka $KAFKA_VERSION jars" "$top/tests/tools/peers/kafka-pom.xml" \
	"$cache/kafka3/lib" "kafka_2.13-$KAFKA_VERSION.jar"
mvn_lib "debezium 3.6.1 jars" "$top/tests/tools/peers/debezium-pom.xml" \
	"$cache/debezium/lib" "debezium-connector-postgres-3.6.1.Final.jar"

# DbzDump: the embedded-engine reference dumper of the conformance test
src=$top/tests/conformance/DbzDump.java
if [ -f "$src" ]; then
	cls=$cache/debezium/classes
	sum=$(sha256sum "$src" | cut -c1-16)
	if [ -f "$cls/.src-$sum" ] && [ -f "$cls/DbzDump.class" ]; then
		say "DbzDump" "compiled ($cls)"
	else
		t0=$(now)
		rm -rf "$cls"; mkdir -p "$cls"
		javac -nowarn --release 17 -cp "$cache/debezium/lib/*" -d "$cls" "$src"
		touch "$cls/.src-$sum"
		say "DbzDump" "compiled now ($(took "$t0"))"
	fi
fi

# ---------------------------------------------------------------- versitygw
vgw=
for c in "$(command -v versitygw 2>/dev/null || true)" "$(go env GOPATH 2>/dev/null)/bin/versitygw" "$HOME/go/bin/versitygw"; do
	if [ -n "$c" ] && [ -x "$c" ]; then vgw=$c; break; fi
done
if [ -n "$vgw" ]; then
	say "versitygw" "present ($vgw)"
else
	command -v go >/dev/null 2>&1 || { echo "deps.sh: Go is needed to build versitygw" >&2; exit 1; }
	t0=$(now)
	CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" go install "$VGW_MODULE@$VGW_VERSION" \
		>"$cache/go-versitygw.log" 2>&1 ||
		{ tail -n 30 "$cache/go-versitygw.log" >&2; echo "deps.sh: go install versitygw failed" >&2; exit 1; }
	say "versitygw" "built $VGW_VERSION ($(took "$t0"))"
fi

say "deps" "done"
