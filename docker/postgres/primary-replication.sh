#!/bin/sh
# Runs once, when the primary's data directory is first created (/docker-entrypoint-initdb.d):
# a role that may stream the WAL to the replica of the "scale" profile, and pg_hba's line for it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=password="${JXT_REPLICATION_PASSWORD:-replicate}" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
