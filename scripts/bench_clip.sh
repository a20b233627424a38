#!/usr/bin/env bash
# The real webcam clip the recording benchmarks play as a camera (bench/_footage.py): box.mp4 from OpenCV's
# documentation, taken out of Debian's opencv-doc package without installing it (the package is ~95 MB to
# download and ~270 MB installed; we keep one 1.9 MB file). Writes bench/out/box.mp4; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=bench/out/box.mp4
MEMBER=./usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz
if [ -s "$DEST" ]; then echo "$DEST"; exit 0; fi
mkdir -p bench/out
if [ -f "/${MEMBER#./}" ]; then  # opencv-doc installed: its copy
  gunzip -c "/${MEMBER#./}" > "$DEST.part"
else
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  chmod 755 "$TMP"  # apt's download user must be able to write there
  (cd "$TMP" && apt-get download -qq opencv-doc >/dev/null 2>&1) \
    || { apt-get update -qq && (cd "$TMP" && apt-get download -qq opencv-doc >/dev/null); }
  dpkg-deb --fsys-tarfile "$TMP"/opencv-doc_*.deb | tar -xO "$MEMBER" | gunzip -c > "$DEST.part"
fi
mv "$DEST.part" "$DEST"
echo "$DEST"
