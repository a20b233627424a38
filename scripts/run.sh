#!/usr/bin/env bash
# Start PackDesk on the embedded default: SQLite in the per-user data folder, the demo shop, the synthetic camera
# when no webcam is present. Extra arguments go to packdesk (e.g. --data-dir ./portable).
# The first start sets up .venv (scripts/setup.sh --runtime); later starts only check, without network or pip,
# that it was set up from today's pyproject.toml and lock files, and set it up again when they changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PACKDESK_VENV:-.venv}"
if ! bash scripts/setup.sh --check --runtime; then
  bash scripts/setup.sh --runtime
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "no display found: set DISPLAY, or QT_QPA_PLATFORM=offscreen for a headless run" >&2
fi
exec "$VENV/bin/packdesk" "$@"
