#!/usr/bin/env bash
# One-time set-up on a fresh Linux machine (Debian/Ubuntu): system libraries Qt needs, then a virtual
# environment in .venv with PackDesk and its test tools. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

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

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"

# Marketplace secrets live only in the OS keyring: on Linux a Secret Service (GNOME Keyring, KWallet) in the desktop
# session. PackDesk never falls back to a file (keyrings.alt keeps secrets in plain text, or behind a password
# typed at every start: not a secret store), so say it here when this PC has none.
if ! .venv/bin/python -c "import keyring.backends.fail as f, keyring as k, sys; \
sys.exit(isinstance(k.get_keyring(), f.Keyring))" 2>/dev/null; then
  echo "note: no OS keyring (Secret Service) here: PackDesk runs, but a marketplace account cannot be added until" \
       "one is (in a desktop session: apt-get install gnome-keyring, then log in again; docs/operations.md, 'Secrets')" >&2
fi
