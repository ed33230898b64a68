#!/bin/sh
# The streaming replica of the "scale" profile: on an empty data directory, copy the primary with
# pg_basebackup (-R writes standby.signal and the connection to follow), then run as a hot standby.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    until gosu postgres env PGPASSWORD="${JXT_REPLICATION_PASSWORD:-replicate}" \
        pg_basebackup --host=postgres --username=replicator --pgdata="$PGDATA" \
        --write-recovery-conf --wal-method=stream --checkpoint=fast; do
        echo "replica: waiting for the primary"
        rm -rf "${PGDATA:?}"/*
        sleep 2
    done
fi
exec docker-entrypoint.sh postgres -c hot_standby=on
