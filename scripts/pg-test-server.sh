#!/usr/bin/env bash
# Start a throwaway PostgreSQL server in a temporary folder (for the test suite's PostgreSQL run) and print
# its SQLAlchemy URL. Stop it with: scripts/pg-test-server.sh stop <folder>
set -euo pipefail
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
if [ "${1:-}" = "stop" ]; then
  RUNAS=(); [ "$(id -u)" -eq 0 ] && RUNAS=(runuser -u postgres --)
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$2/data" -m fast stop >/dev/null
  exit 0
fi
DIR="$(mktemp -d /tmp/packdesk-pg.XXXXXX)"
PORT="${PGPORT_TEST:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$DIR"; RUNAS=(runuser -u postgres --); fi
"${RUNAS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U packdesk --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" \
  -l "$DIR/log" -w start >/dev/null
"${RUNAS[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U packdesk packdesk_test
echo "postgresql+psycopg://packdesk@127.0.0.1:$PORT/packdesk_test $DIR"
