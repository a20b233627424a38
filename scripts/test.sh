#!/usr/bin/env bash
# Set up (if needed), lint, and run the whole test suite headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
.venv/bin/ruff check src tests bench scripts
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
