#!/usr/bin/env bash
# Set up (if needed), lint, type-check (mypy), and run the whole test suite headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
.venv/bin/ruff check src tests bench scripts
.venv/bin/mypy   # the type gate: [tool.mypy] in pyproject.toml; any error fails the run

# Second engine: the data layer's tests run again on a real PostgreSQL server started in a temporary
# folder (several stations share one in a warehouse). Installed here because only the tests need it.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }
fi

echo "== tests on SQLite =="
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"

if [ $# -eq 0 ]; then
  read -r PG_URL PG_DIR < <(bash scripts/pg-test-server.sh)
  trap 'bash scripts/pg-test-server.sh stop "$PG_DIR"' EXIT
  echo "== data-layer tests on PostgreSQL =="
  PACKDESK_TEST_DATABASE_URL="$PG_URL" PACKDESK_TEST_PG_DIR="$PG_DIR" \
    .venv/bin/python -m pytest -q -p no:cacheprovider tests/core tests/services
fi
