#!/usr/bin/env bash
# Set up (if needed), lint, type-check (mypy), and run the whole test suite headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
.venv/bin/ruff check src tests bench scripts
.venv/bin/mypy   # the type gate: [tool.mypy] in pyproject.toml; any error fails the run
# every runtime package's licence known and compatible with GPL-3.0-or-later (src/packdesk/licences.py)
.venv/bin/python scripts/licences.py --check

# Second engine: the data layer's tests run again on a real PostgreSQL server started in a temporary
# folder (several stations share one in a warehouse). Installed here because only the tests need it.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }
fi

if [ $# -gt 0 ]; then  # the tests asked for, on SQLite
  exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
fi

# The whole suite in two phases, to fit CI's 15 minutes on two cores:
# 1. the windows' tests (tests/ui, tests/e2e: they type at scanner speed, stamped as a window system stamps keys)
#    on SQLite, side by side with the data layer's tests on PostgreSQL — a core each;
# 2. the tests without windows on SQLite, on both cores (pytest-xdist: many of them wait on processes and servers).
read -r PG_URL PG_DIR < <(bash scripts/pg-test-server.sh)
PG_LOG="$(mktemp)"
trap 'bash scripts/pg-test-server.sh stop "$PG_DIR"; rm -f "$PG_LOG"' EXIT
echo "== data-layer tests on PostgreSQL (beside the next part; its output follows it) =="
PACKDESK_TEST_DATABASE_URL="$PG_URL" PACKDESK_TEST_PG_DIR="$PG_DIR" \
  .venv/bin/python -m pytest -q -p no:cacheprovider tests/core tests/services >"$PG_LOG" 2>&1 &
PG_PID=$!
echo "== windows' tests on SQLite =="
gui_status=0
.venv/bin/python -m pytest -q -p no:cacheprovider tests/ui tests/e2e || gui_status=$?
pg_status=0
wait "$PG_PID" || pg_status=$?
echo "== data-layer tests on PostgreSQL: output =="
cat "$PG_LOG"
echo "== tests without windows on SQLite (both cores) =="
status=0
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --durations=15 --ignore=tests/ui --ignore=tests/e2e tests \
  || status=$?
echo "== exit: windows $gui_status, PostgreSQL $pg_status, without windows $status =="
[ "$status" -eq 0 ] && [ "$pg_status" -eq 0 ] && [ "$gui_status" -eq 0 ]
