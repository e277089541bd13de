#!/bin/sh
# Called by the top-level `make install` after the daemons: installs what a host needs
# to run Ferry besides the binaries. POSIX sh (the Makefile runs it with sh).
#
#   PREFIX      (default /usr/local)  binaries are in $PREFIX/bin
#   DESTDIR     (default empty)       staging root, prepended to every path below
#   SYSCONFDIR  (default /etc, or $PREFIX/etc when PREFIX is not /usr or /usr/local)
#   SYSTEMDUNITDIR (default $PREFIX/lib/systemd/system, which systemd searches for
#               /usr and /usr/local)
#
# Installs:
#   $SYSCONFDIR/ferry/ferry.yaml.example   the example configuration (ferry.example.yaml);
#                                          an existing ferry.yaml is never touched
#   $SYSTEMDUNITDIR/ferry-relay.service, ferry-sink.service   (deploy/systemd/)
#   $PREFIX/share/ferry/sql/commerce.sql, setup-postgres.sql  (sql/)
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
case "$PREFIX" in
/usr|/usr/local) dflt_sysconf=/etc ;;
*) dflt_sysconf=$PREFIX/etc ;;
esac
SYSCONFDIR=${SYSCONFDIR:-$dflt_sysconf}
SYSTEMDUNITDIR=${SYSTEMDUNITDIR:-$PREFIX/lib/systemd/system}

# the example configuration
confdir=$DESTDIR$SYSCONFDIR/ferry
install -d "$confdir"
install -m 0644 "$top/ferry.example.yaml" "$confdir/ferry.yaml.example"
[ -f "$confdir/ferry.yaml.example" ] && echo "installed $confdir/ferry.yaml.example"

# systemd units, with the paths of this installation
unitdir=$DESTDIR$SYSTEMDUNITDIR
install -d "$unitdir"
for unit in ferry-relay.service ferry-sink.service; do
	sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" \
		"$top/deploy/systemd/$unit" >"$unitdir/$unit.tmp"
	chmod 0644 "$unitdir/$unit.tmp"
	mv "$unitdir/$unit.tmp" "$unitdir/$unit"
	echo "installed $unitdir/$unit"
done

# the SQL a database administrator runs once
sqldir=$DESTDIR$PREFIX/share/ferry/sql
install -d "$sqldir"
install -m 0644 "$top/sql/commerce.sql" "$top/sql/setup-postgres.sql" "$sqldir/"
echo "installed $sqldir/commerce.sql, setup-postgres.sql"

if [ -z "$DESTDIR" ]; then
	[ -f "$SYSCONFDIR/ferry/ferry.yaml" ] ||
		echo "next: cp $SYSCONFDIR/ferry/ferry.yaml.example $SYSCONFDIR/ferry/ferry.yaml and edit it"
	id ferry >/dev/null 2>&1 ||
		echo "next: useradd --system --no-create-home --shell /usr/sbin/nologin ferry"
	echo "next: systemctl daemon-reload && systemctl enable --now ferry-relay ferry-sink"
fi
