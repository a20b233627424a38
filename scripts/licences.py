"""The licences of every package PackDesk ships, from the installed packages (``src/packdesk/licences.py``).

    .venv/bin/python scripts/licences.py --check                 # exit 1, naming the package, when a runtime
                                                                 # package's licence is unknown or not
                                                                 # compatible with GPL-3.0-or-later
    .venv/bin/python scripts/licences.py --write build/THIRD-PARTY-NOTICES

scripts/test.sh runs the check (CI), scripts/build-bundle.sh and installer/packdesk.spec write the notices into
the bundle and the installer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # this checkout's packdesk, not an older one installed in the environment

from packdesk import licences  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a licence is unknown or incompatible")
    parser.add_argument("--write", type=Path, metavar="PATH", help=f"write {licences.NOTICES_NAME} to PATH")
    parser.add_argument("--root", default=licences.ROOT_PACKAGE, help="the package whose dependencies to walk")
    parser.add_argument("--path", action="append", help="look for packages here instead of sys.path (tests)")
    args = parser.parse_args(argv)
    if not args.check and args.write is None:
        parser.error("say --check, --write PATH, or both")
    found = licences.components(args.root, args.path)
    status = 0
    if args.check:
        problems, warnings = licences.check(found)
        for w in warnings:
            print(f"licences: WARNING {w}", file=sys.stderr)
        for p in problems:
            print(f"licences: {p}", file=sys.stderr)
        if problems:
            status = 1
        else:
            pending = f" ({len(warnings)} awaiting a decision, above)" if warnings else ""
            print(f"licences: {len(found)} runtime packages checked against {licences.OUR_LICENCE}: no problem"
                  f"{pending}")
    if args.write is not None:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(licences.notices(found), encoding="utf-8")
        print(f"licences: wrote {args.write} ({len(found)} packages)")
    return status


if __name__ == "__main__":
    sys.exit(main())
