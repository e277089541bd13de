#!/usr/bin/env bash
# Run once by the postgres image's entrypoint on an empty data directory (as the
# postgres user, against a temporary server): Ferry's schema, extension and role.
set -euo pipefail

sqldir=${FERRY_SQL_DIR:-/usr/share/ferry}
psql=(psql -X -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-postgres}")

if [ "${FERRY_CREATE_COMMERCE:-true}" = true ]; then
	"${psql[@]}" -f "$sqldir/commerce.sql"
fi
"${psql[@]}" -v relay_password="'${FERRY_RELAY_PASSWORD:-ferry}'" -f "$sqldir/setup-postgres.sql"

# the relay connects from other containers: allow it replication (pg_hba's "all"
# does not cover the replication pseudo-database) and the database
cat >>"$PGDATA/pg_hba.conf" <<HBA
host    replication     ferry           all                     scram-sha-256
host    all             ferry           all                     scram-sha-256
HBA
