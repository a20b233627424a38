"""The one way a benchmark writes its result: the figures together with what they were measured on.

A figure without its date, machine, versions and commit cannot be judged, and a figure typed into a document
by hand goes stale the day the code changes. So every bench writes a JSON file here, and
``scripts/bench_tables.py`` renders the documents' tables from those files only (``tests/test_bench_docs.py``
fails when the documents and the results disagree).

Full runs write to ``bench/results/`` (committed); ``--quick`` runs (tiny sizes, seconds each: CI runs every
bench so that none of them rots) write to ``bench/out/quick/`` (not committed) unless ``--results`` says
otherwise, so a quick run never replaces a real figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
QUICK_RESULTS = BENCH / "out" / "quick"
SCHEMA = 1
# the packages whose version moves the figures; a bench names the ones it uses
CORE_PACKAGES = ("SQLAlchemy", "numpy")
QT_PACKAGES = ("PySide6-Essentials",)
VIDEO_PACKAGES = ("av", "opencv-python-headless")
# what every result file holds besides the figures (the docs test checks each file has them all)
REQUIRED_KEYS = ("schema", "bench", "name", "date", "quick", "machine", "versions", "git", "params", "figures",
                 "seconds", "load_at_start")


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """``--quick`` and ``--results``: the same two options on every bench."""
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes, a few seconds: checks the bench still runs (CI); its figures mean nothing")
    ap.add_argument("--results", type=Path, default=None,
                    help=f"folder for the result file (default: {RESULTS.relative_to(ROOT)}, or "
                         f"{QUICK_RESULTS.relative_to(ROOT)} with --quick)")


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model and OS: enough to tell two machines' figures apart."""
    mem_gib: float | None = None
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024**2, 1)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:  # not Linux: what platform knows
        pass
    os_name = platform.platform(terse=True)
    with contextlib.suppress(OSError, AttributeError):  # no os-release: the terse platform string
        os_name = f"{platform.freedesktop_os_release()['PRETTY_NAME']} ({platform.system()} {platform.release()})"
    return {"cores": os.cpu_count(), "memory_gib": mem_gib, "cpu": model, "os": os_name}


def versions(packages: tuple[str, ...]) -> dict[str, str]:
    """Python and the named packages (``packdesk`` always); a package not installed says so."""
    out = {"python": platform.python_version()}
    for name in ("packdesk", *packages):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    if "SQLAlchemy" in packages:
        import sqlite3

        out["sqlite"] = sqlite3.sqlite_version
    if "av" in packages:
        try:
            import av

            out["libavcodec"] = ".".join(map(str, av.library_versions["libavcodec"]))
        except (ImportError, KeyError):
            pass
    return out


def git_state(root: Path = ROOT) -> dict[str, Any]:
    """The commit measured, and whether the code differed from it (results and docs do not count: writing one
    result must not make the next bench's code look changed)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        changed = git("status", "--porcelain", "--", ".", ":!bench/results", ":!docs", ":!README.md")
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "dirty": None}
    return {"commit": commit, "dirty": bool(changed)}


def load_average() -> list[float] | None:
    """The machine's load when the bench started: figures from a busy machine are not an idle one's."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


@dataclass
class Run:
    """One bench run: made at the start (time, load), written at the end with the figures."""

    bench: str
    quick: bool
    directory: Path
    params: dict[str, Any]
    packages: tuple[str, ...] = CORE_PACKAGES
    started: float = field(default_factory=time.perf_counter)
    load: list[float] | None = field(default_factory=load_average)
    date: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def write(self, figures: dict[str, Any], variant: str = "") -> Path:
        """``<bench>[_<variant>].json``: one file per thing measured, replaced by the next run of it."""
        name = f"{self.bench}_{variant}" if variant else self.bench
        doc = {
            "schema": SCHEMA, "bench": self.bench, "name": name, "date": self.date, "quick": self.quick,
            "machine": machine(), "versions": versions(self.packages), "git": git_state(),
            "params": self.params, "figures": figures,
            "seconds": round(time.perf_counter() - self.started, 1), "load_at_start": self.load,
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{name}.json"
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"result: {path}", file=sys.stderr)
        return path


def start(bench: str, args: argparse.Namespace, params: dict[str, Any],
          packages: tuple[str, ...] = CORE_PACKAGES) -> Run:
    directory = args.results or (QUICK_RESULTS if args.quick else RESULTS)
    return Run(bench, bool(args.quick), Path(directory), params, packages)


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise ValueError(f"{path.name}: not a bench result (missing {', '.join(missing)})")
    return doc
