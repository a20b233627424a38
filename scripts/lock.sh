#!/usr/bin/env bash
# Regenerate the lock files in requirements/ from pyproject.toml: the exact versions (with their hashes) that
# scripts/setup.sh installs, CI tests and the bundle ships. Run it when pyproject.toml's dependencies change;
# versions already locked are kept unless asked:
#   scripts/lock.sh                         add/remove what pyproject.toml changed, keep every other pin
#   scripts/lock.sh --upgrade-package av    move one package (repeatable) to its newest allowed release
#   scripts/lock.sh --upgrade               move everything to the newest allowed releases
# Then run the tests (scripts/test.sh reinstalls from the new lock by itself) and commit requirements/*.txt.
#
# One resolution for every platform (uv's --universal): the same file installs on Linux, CI and the Windows PC
# that builds the installer (Windows-only packages carry a marker). test.txt is resolved first; runtime.txt
# and bundle.txt are constrained by it, so a package has one version in all three.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
TOOL=build/lock-tool
if [ "$("$TOOL/bin/uv" --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  "${PYTHON:-python3}" -m venv "$TOOL"
  "$TOOL/bin/python" -m pip install -q "uv==$UV_VERSION"
fi
compile() {  # OUT, then uv's arguments
  local out="$1"; shift
  "$TOOL/bin/uv" pip compile --quiet pyproject.toml --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "scripts/lock.sh" --output-file "$out" "$@"
}
compile requirements/test.txt --extra test "$@"
compile requirements/runtime.txt -c requirements/test.txt "$@"
compile requirements/bundle.txt --extra bundle -c requirements/test.txt "$@"
echo "locked: $(grep -c '^[a-z0-9]' requirements/test.txt) packages for the tests," \
     "$(grep -c '^[a-z0-9]' requirements/runtime.txt) at run time, $(grep -c '^[a-z0-9]' requirements/bundle.txt) in the bundle"
