#!/usr/bin/env bash
# One-time set-up on a fresh Linux machine (Debian/Ubuntu): system libraries Qt needs, then a virtual
# environment in .venv with PackDesk and the exact versions locked in requirements/ (scripts/lock.sh makes them).
#   scripts/setup.sh              PackDesk and its test tools (requirements/test.txt): a developer's set-up, CI
#   scripts/setup.sh --runtime    PackDesk only (requirements/runtime.txt); a .venv that has the test tools keeps
#                                 them, brought to the lock too
#   scripts/setup.sh --check [--runtime]
#                                 exit 0 when .venv is up to date for that, 1 when set-up would install something;
#                                 touches neither the network nor pip (scripts/run.sh asks this at every start)
# Safe to run again: when .venv was set up from the same pyproject.toml, lock files and this script (the stamp
# below records their hash), nothing is installed and no package index is asked.
set -euo pipefail
cd "$(dirname "$0")/.."

WANT=test CHECK=0
for arg in "$@"; do
  case "$arg" in
    --runtime) WANT=runtime ;;
    --check) CHECK=1 ;;
    *) echo "usage: scripts/setup.sh [--check] [--runtime]" >&2; exit 2 ;;
  esac
done
VENV="${PACKDESK_VENV:-.venv}"   # another folder: the fresh-install test sets one up under /tmp
STAMP="$VENV/packdesk-setup.stamp"
DEPS_HASH="$(cat pyproject.toml requirements/runtime.txt requirements/test.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)"
HAVE=""   # what the stamp says this .venv was set up with: "runtime" or "test", for these very files
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ]; then
  read -r stamp_want stamp_hash < "$STAMP" || true
  [ "${stamp_hash:-}" = "$DEPS_HASH" ] && HAVE="${stamp_want:-}"
fi
up_to_date() { [ "$HAVE" = test ] || { [ "$HAVE" = runtime ] && [ "$WANT" = runtime ]; }; }
if [ "$CHECK" = 1 ]; then
  up_to_date && exit 0 || exit 1
fi

# libpulse0: QtMultimedia (sounds, video player) will not import without it.
# fonts-nanum: Korean glyphs on Linux (Windows has Malgun Gothic).
# the xcb libraries: a real window on X11 / Xvfb (offscreen tests need none of them).
APT_PACKAGES=(libpulse0 fonts-nanum libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1
              libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1)
if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if up_to_date; then
  echo "$VENV is up to date (requirements/$HAVE.txt): nothing to install"
  exit 0
fi
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
if [ -x "$VENV/bin/pytest" ]; then WANT=test; fi   # a .venv with the test tools keeps them, at the locked versions
rm -f "$STAMP"   # until this install has finished: an interrupted one is not taken for done
echo "installing requirements/$WANT.txt into $VENV"
# --require-hashes: exactly the locked files; --no-deps: nothing the lock does not name
"$VENV/bin/python" -m pip install -q --require-hashes --no-deps -r "requirements/$WANT.txt"
"$VENV/bin/python" -m pip install -q --no-deps -e .
"$VENV/bin/python" -m pip check
echo "$WANT $DEPS_HASH" > "$STAMP"

# Marketplace secrets live only in the OS keyring: on Linux a Secret Service (GNOME Keyring, KWallet) in the desktop
# session. PackDesk never falls back to a file (keyrings.alt keeps secrets in plain text, or behind a password
# typed at every start: not a secret store), so say it here when this PC has none.
if ! "$VENV/bin/python" -c "import keyring.backends.fail as f, keyring as k, sys; \
sys.exit(isinstance(k.get_keyring(), f.Keyring))" 2>/dev/null; then
  echo "note: no OS keyring (Secret Service) here: PackDesk runs, but a marketplace account cannot be added until" \
       "one is (in a desktop session: apt-get install gnome-keyring, then log in again; docs/operations.md, 'Secrets')" >&2
fi
