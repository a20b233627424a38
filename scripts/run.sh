#!/usr/bin/env bash
# Set up (if needed) and start PackDesk on the embedded default: SQLite in the per-user data folder, the
# demo shop, the synthetic camera when no webcam is present. Extra arguments go to packdesk (e.g. --data-dir ./portable).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "no display found: set DISPLAY, or QT_QPA_PLATFORM=offscreen for a headless run" >&2
fi
exec .venv/bin/packdesk "$@"
