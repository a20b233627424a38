#!/usr/bin/env bash
# Build the PyInstaller bundle (installer/packdesk.spec) and smoke-test it: --version, then a headless run
# of the real station on the demo shop (scans a waybill and its items, saves a screenshot, exits 0).
# The licence check runs first; LICENSE and THIRD-PARTY-NOTICES go into the bundle and beside the program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --runtime
# PyInstaller and its helpers at the locked versions (requirements/bundle.txt: the runtime lock plus these)
.venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements/bundle.txt
.venv/bin/python scripts/licences.py --check   # every bundled package's licence known and GPL-compatible
rm -rf build/pyinstaller dist/packdesk
.venv/bin/pyinstaller --noconfirm --log-level WARN --workpath build/pyinstaller --distpath dist installer/packdesk.spec
BIN=dist/packdesk/packdesk
# LICENSE and THIRD-PARTY-NOTICES: inside the bundle for Help → About (the spec), and beside the program for a reader
for f in LICENSE THIRD-PARTY-NOTICES; do
  test -s "dist/packdesk/_internal/$f" || { echo "$f missing from the bundle" >&2; exit 1; }
done
cp LICENSE build/THIRD-PARTY-NOTICES dist/packdesk/
grep -q "x264, GPL-2.0-or-later" dist/packdesk/THIRD-PARTY-NOTICES \
  || { echo "THIRD-PARTY-NOTICES does not list PyAV's x264" >&2; exit 1; }
"$BIN" --version
# Qt's own Korean texts (standard buttons, file dialogs) for language ko: ui/i18n.py loads qtbase_ko.qm
test -n "$(find dist/packdesk -name qtbase_ko.qm)" || { echo "qtbase_ko.qm missing from the bundle" >&2; exit 1; }
QT_QPA_PLATFORM=offscreen "$BIN" self-test   # a pack scanned, filmed, indexed and verified, from the bundle
SMOKE="$(mktemp -d)"
QT_QPA_PLATFORM=offscreen "$BIN" --data-dir "$SMOKE/data" --screenshot "$SMOKE/shot.png" \
  --scans PD-PACKER-001 601000000011 8801234000017 8801234000017 8801234000031
test -s "$SMOKE/shot.png"
QT_QPA_PLATFORM=offscreen "$BIN" verify --data-dir "$SMOKE/data"
echo "bundle OK: $(du -sh dist/packdesk | cut -f1) in dist/packdesk"
