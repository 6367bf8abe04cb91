#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server: installs PostgreSQL with apt when missing,
# starts a cluster in a temporary folder on a free port, exports CASHLOAN_TEST_PG_URL for the
# command, and stops and removes the cluster afterwards, whatever the command's outcome.
#
#   scripts/with-postgres.sh cargo test --workspace
set -euo pipefail

find_pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

if ! PG_BIN=$(find_pg_bin); then
    echo "PostgreSQL not found: installing it with apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(find_pg_bin)
fi

# PostgreSQL refuses to run as root: run the server as the unprivileged 'postgres' user (made
# by the package), or as whoever we are when not root.
RUN_AS=()
if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    RUN_AS=(runuser -u postgres --)
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATA=$(mktemp -d /tmp/cashloan-pg.XXXXXX)
chmod 755 "$DATA"
[ "${#RUN_AS[@]}" -gt 0 ] && chown postgres "$DATA"

stop() {
    "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA/db" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$DATA"
}
trap stop EXIT

"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$DATA/db" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null

# TLS on, with a throwaway self-signed certificate, so the tests prove the bundled libpq speaks it
# (CASHLOAN_TEST_PG_TLS tells them; plain connections keep working beside it).
TLS_OPTS=""
if command -v openssl >/dev/null 2>&1 \
    && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
        -keyout "$DATA/server.key" -out "$DATA/server.crt" >/dev/null 2>&1; then
    chmod 600 "$DATA/server.key"
    [ "${#RUN_AS[@]}" -gt 0 ] && chown postgres "$DATA/server.key" "$DATA/server.crt"
    TLS_OPTS="-c ssl=on -c ssl_cert_file=$DATA/server.crt -c ssl_key_file=$DATA/server.key"
    export CASHLOAN_TEST_PG_TLS=1
else
    echo "openssl not found: PostgreSQL runs without TLS, the TLS test is skipped" >&2
fi

"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA/db" -l "$DATA/server.log" -w \
    -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off $TLS_OPTS" start >/dev/null

export CASHLOAN_TEST_PG_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
# With a server started for them, the PostgreSQL tests must run, never skip.
export CASHLOAN_TEST_REQUIRE_PG=1
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
status=0
"$@" || status=$?
exit $status
