"""The benchmark tables of the documents, made from the benches' result files only.

    .venv/bin/python scripts/bench_tables.py          # rewrite docs/benchmarks.md and README's figures
    .venv/bin/python scripts/bench_tables.py --check  # exit 1 (with a diff) when they differ from the results

Every bench writes ``bench/results/<name>.json`` (``bench/_result.py``: the figures with their date, machine,
versions, commit and parameters). This script renders ``docs/benchmarks.md`` whole, and the block of README.md
between ``<!-- bench-tables:readme -->`` and ``<!-- /bench-tables:readme -->``; nothing else in README is
touched. ``tests/test_bench_docs.py`` runs the check, so a figure typed by hand, or a result committed without
its tables, fails the suite. A quick run's result (CI's tiny sizes) is refused: its figures mean nothing.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import _result  # noqa: E402
from _footage import CLIP_SOURCE  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DOC = Path("docs") / "benchmarks.md"
README = Path("README.md")
README_BLOCK = "readme"

Result = dict[str, Any]


# ---------------------------------------------------------------------------------------------- loading


def load_results(folder: Path = RESULTS) -> list[Result]:
    """Every result in ``folder``, by name. A quick run's result or a file that is no result is an error."""
    out = []
    for path in sorted(folder.glob("*.json")):
        doc = _result.load(path)
        if doc["quick"]:
            raise ValueError(f"{path.name} is a --quick run's result (tiny sizes): run the bench in full, or "
                             "write quick results elsewhere (the default, bench/out/quick/)")
        if doc["name"] != path.stem:
            raise ValueError(f"{path.name} holds the result named {doc['name']!r}")
        out.append(doc)
    unknown = sorted({r["bench"] for r in out} - set(SECTIONS))
    if unknown:
        raise ValueError(f"no table for the results of {', '.join(unknown)}: add one to scripts/bench_tables.py")
    return out


# ---------------------------------------------------------------------------------------------- formatting


def ms(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.0f} ms" if x >= 100 else f"{x:.1f} ms" if x >= 10 else f"{x:.2f} ms"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f} %"


def num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def yes(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "not met")


def span(values: list[float], fmt: Callable[[float], str] = ms) -> str:
    """A value per station: the range."""
    if not values:
        return "–"
    lo, hi = min(values), max(values)
    return fmt(lo) if lo == hi else f"{fmt(lo)} – {fmt(hi)}"


class Machines:
    """Machines are long to describe: each gets a short label (M1, M2, ...) in the rows, described once below."""

    def __init__(self, results: Iterable[Result]) -> None:
        keys = sorted({self.key(r["machine"]) for r in results})
        self.labels = {k: f"M{i}" for i, k in enumerate(keys, 1)}

    @staticmethod
    def key(m: dict[str, Any]) -> tuple[str, ...]:
        return (str(m.get("cores")), str(m.get("memory_gib")), str(m.get("cpu")), str(m.get("os")))

    def label(self, m: dict[str, Any]) -> str:
        return self.labels[self.key(m)]

    def table(self) -> list[str]:
        if not self.labels:
            return []
        rows = ["| machine | cores | memory | CPU | OS |", "|---|---|---|---|---|"]
        for k, label in sorted(self.labels.items(), key=lambda kv: int(kv[1][1:])):
            cores, mem, cpu, os_name = k
            rows.append(f"| {label} | {cores} | {mem} GiB | {cpu} | {os_name} |")
        return rows


def measured(r: Result, machines: Machines) -> str:
    """When, where and at which commit; the load average when the bench started (other work slows figures)."""
    git = r["git"]
    commit = f"`{git['commit'][:8]}`" + (" + changes" if git.get("dirty") else "")
    load = r.get("load_at_start")
    busy = f", load {load[0]:.1f}" if load else ""
    return f"{r['date'][:10]}, {machines.label(r['machine'])}, {commit}{busy}"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def of(results: list[Result], bench: str) -> list[Result]:
    return [r for r in results if r["bench"] == bench]


def none_yet(command: str) -> list[str]:
    return [f"_No result recorded yet: run `{command}`, then this script._"]


# ---------------------------------------------------------------------------------------------- sections


def scan_rows(results: list[Result], machines: Machines) -> list[list[str]]:
    rows = []
    for r in of(results, "scan_latency"):
        p, f = r["params"], r["figures"]
        if "waybill_scan" not in f:
            continue
        what = "off" if p["recorder"] == "off" else f"{p['recorder']}, {p['camera']} {p['resolution']}"
        w, i = f["waybill_scan"], f["item_scan"]
        g = f.get("gc_full_pause_ms")
        pause = f"{ms(g['heap_kept'])} ({ms(g['unfrozen'])} unfrozen)" if g else "–"
        pace = p.get("pace_s") or 0
        gap = "at once" if not pace else f"{pace:g} s"
        keys = "as typed" if (p.get("keys") or ["burst"])[0] == "stamped" else "together"
        phases = f.get("waybill_phases") or {}
        lookup = ms(phases["lookup"]["p99_ms"]) if phases.get("n") else "–"
        rows.append([what, f"{p['lines']:,}", f"{p['scans']:,}", gap, keys, ms(w["p50_ms"]), ms(w["p99_ms"]),
                     ms(w["max_ms"]), lookup, ms(i["p50_ms"]), ms(i["p99_ms"]), pause, yes(f.get("meets_target")),
                     measured(r, machines)])
    return rows


def scan_latency(results: list[Result], machines: Machines) -> list[str]:
    rows = scan_rows(results, machines)
    out = ["Time from the scan's Enter key to the station view showing the result, through the real window, its "
           "app-wide key filter and the app's own composition root, on 1,000,000 order lines (SQLite). The "
           "recorder is on as every station runs it (each waybill scan starts a recording); `off` is the same "
           "bench with `recorder: off`, for comparison. Target: p99 ≤ 16 ms (one frame at 60 Hz). *Full GC*: one "
           "full garbage collection of the started station's UI process, with its heap kept as the app keeps it "
           "(`ui/heap.py`) and, in brackets, unfrozen. *Next scan*: when the bench scans again after a scan's "
           "result is on screen: at once (back to back), or after a pause (`--pace`; 0.5 s is quicker than a "
           "packer turns from one parcel to the next). *Keys*: how a scan's keys reach the window. *As typed* "
           "(`--keys stamped`): as a scanner sends them, a key every 2 ms from a scanner process, timed from when "
           "its Enter key was pressed; back to back, a scanner's next Enter comes some 25 ms after the last result "
           "was on screen, as at a station. *Together* (the default): every key of the code handed over at once, "
           "as the window system hands over keys that queued while the UI thread was busy, timed from when the "
           "Enter key is handed over; back to back, the next waybill then arrives while the last pack's writes "
           "(its end, its video's index row and hash-chain link) are being stored and the last result painted, "
           "and waits for them. Back to back is some ten packs a second, a hundred times a packer's pace; the "
           "paced rows are the station as packers use it. *Waybill lookup p99*: of a waybill scan's time, the part "
           "on the DB thread finding the waybill, claiming it and reading its lines; the result file gives every "
           "part (`waybill_phases`: the keys, the wait behind the DB thread's writes, the lookup, the hand-back to "
           "the UI thread, the drawing) and the slowest scans' parts.",
           ""]
    if not rows:
        return out + none_yet(".venv/bin/python bench/scan_latency.py")
    return out + table(["recorder", "lines", "scans", "next scan", "keys", "waybill p50", "waybill p99",
                        "waybill max", "waybill lookup p99", "item p50", "item p99", "full GC", "target", "measured"],
                       rows)


def scan_hog(results: list[Result], machines: Machines) -> list[str]:
    rows = []
    for r in of(results, "scan_latency"):
        p, f = r["params"], r["figures"]
        if "waybill_scan" in f:
            continue
        what = "off" if p["recorder"] == "off" else f"{p['recorder']}, {p['camera']} {p['resolution']}"
        for mode in p["keys"]:
            t = f[mode]
            rows.append([what, mode, f"{t['scans']:,}", f"{t['leaked_into_text_field']:,}", f"{t['read_wrong']:,}",
                         f"{t['lost']:,}", ms(t["waybill_scan"].get("p99_ms")), ms(t["item_scan"].get("p99_ms")),
                         measured(r, machines)])
    out = ["The same station with two busy processes hogging both cores beside it and the manual entry field "
           "focused, scanning at scanner speed (a key every 2 ms, Shift for capitals; the app's 40 ms key gap). "
           "Counted: scans whose keys leaked into the text field, scans read as another code, scans lost. Keys "
           "`qtest` arrive as the GUI tests type them (unstamped: timed on arrival, so a stall of the UI thread "
           "between two keys looks like typing); `stamped` as the window system delivers a real scanner's keys "
           "(written by a scanner process at a raised priority, as the kernel's input path runs, and picked up "
           "by the UI thread whenever it gets to its event loop, each stamped with when it was pressed). The load "
           "under *measured* is the machine's before the hogs started. Latencies are of the scans read right. "
           "Target: 0 of 1,000 leaked or read wrong.", ""]
    if not rows:
        return out + none_yet(".venv/bin/python bench/scan_latency.py --hog")
    return out + table(["recorder", "keys", "scans", "leaked into the text field", "read wrong", "lost",
                        "waybill p99", "item p99", "measured"], rows)


def recording(results: list[Result], machines: Machines) -> list[str]:
    out = ["The real camera thread and recorder (overlay included) for each resolution the camera offers and each "
           "H.264 encoder available, after a full pre-roll: `synthetic` is the noisy synthetic camera, `clip` a "
           "real webcam clip looped as a camera file (see *Footage*). MB per hour of video; PSNR of the file "
           "against the camera picture (mean over every frame, the lowest in brackets; the middle 3/4 of the rows, "
           "clear of the overlay); CPU time of the process (and any child) while recording, as a share of one "
           "core, the camera alone in brackets; frames dropped before encoding plus live frames the camera did not "
           "deliver; waybill scan to the first live frame in the file. The clip is 640x480: at a larger size the "
           "camera thread scales each frame up, as it would any camera's picture of another size, and that "
           "scaling is in the camera's share (a real HD webcam sends HD pictures and does not pay it).", ""]
    rs = of(results, "recording")
    if not rs:
        return out + none_yet(".venv/bin/python bench/recording.py")
    rows = []
    for r in rs:
        for row in r["figures"]["runs"]:
            psnr = "–" if row["psnr_mean_db"] is None else f"{row['psnr_mean_db']:.1f} dB ({row['psnr_min_db']:.1f})"
            targets = row.get("targets")
            rows.append([row["source"], row["resolution"], f"{row['fps']:g}", f"{row['seconds']:g} s",
                         row["encoder"], num(row["mb_per_hour"], 0), psnr,
                         f"{pct(row['cpu_one_core'])} ({pct(row['cpu_one_core_camera_only'])})",
                         f"{row['dropped_in_queue']} + {row['missing_vs_expected']}", ms(row["first_frame_ms"]),
                         "–" if targets is None else yes(row.get("meets_targets")), measured(r, machines)])
    out += table(["footage", "resolution", "fps", "length", "encoder", "MB / hour", "PSNR", "CPU, one core",
                  "dropped", "scan → first frame", "targets", "measured"], rows)
    out += ["", "Targets (issue #18): 640x480 real footage ≤ 100 MB/hour at ≥ 33 dB, ≤ 20 % of one core, 0 dropped; "
            "1280x720 with libx264 0 dropped and ≤ 45 % of one core; first frame ≤ 100 ms."]
    footage = sorted({(r["params"].get("clip"), r["params"].get("clip_sha256")) for r in rs
                      if r["params"].get("clip")}, key=str)
    skipped = sorted({f"{e} ({why})" for r in rs for e, why in r["params"].get("encoders_skipped", {}).items()})
    if footage:
        out += ["", "Footage: " + "; ".join(f"{c} (sha256 `{h[:12]}…`)" if h else c for c, h in footage) + "."]
    if any(c == CLIP_SOURCE for c, _ in footage):
        out += ["", "The clip is 640x480: larger sizes are the clip scaled up, smoother than a real camera of that "
                "size would film, so their bitrate is flattered too, though less than by the synthetic camera."]
    if skipped:
        out += ["", "Encoders not measured: " + ", ".join(skipped) + "."]
    return out


def encoder_settings(results: list[Result], machines: Machines) -> list[str]:
    out = ["The recorder's x264 settings (`EncoderSettings.for_size`, *chosen*) beside the ones used before and the "
           "presets around them, on the real webcam clip (each frame resized as the camera does), through the "
           "recorder's own frame path: the band above the picture, the conversion, one x264 thread. MB per hour of "
           "video; PSNR against the camera picture (mean, the lowest in brackets; the middle 3/4 of the rows); the "
           "share of the file that is MPEG-TS's own (its tables, packet headers and padding), not H.264: the "
           "recorder writes the tables once a second (`TS_OPTIONS`), FFmpeg's default is ten times; the "
           "encoding thread's CPU per second of video as a share of one core, encoding back to back with warm "
           "caches (the recorder at a station, woken 30 times a second and capturing too, spends more: see "
           "*Recording*). At 640x480 the settings must keep an hour within 100 MB at ≥ 33 dB (issue #18); of "
           "those that do, the cheapest is chosen.", ""]
    rs = of(results, "encoder_settings")
    if not rs:
        return out + none_yet(".venv/bin/python bench/encoder_settings.py")
    rows = []
    for r in rs:
        for row in r["figures"]["runs"]:
            opts = row["options"]
            said = ", ".join(f"{k} {v}" for k, v in opts.items() if k != "threads")
            fits = row.get("meets_size_and_quality")
            share = row.get("container_share")
            rows.append([row["resolution"], row["name"], f"`{said}`", num(row["mb_per_hour"], 0),
                         f"{row['psnr_mean_db']:.2f} dB ({row['psnr_min_db']:.1f})",
                         "–" if share is None else pct(share), pct(row["cpu_one_core"]),
                         "–" if fits is None else ("yes" if fits else "no"), measured(r, machines)])
    return out + table(["resolution", "settings", "x264 options", "MB / hour", "PSNR", "MPEG-TS's share",
                        "CPU, one core", "≤ 100 MB/h at ≥ 33 dB", "measured"], rows)


def verify(results: list[Result], machines: Machines) -> list[str]:
    out = ["`packdesk verify` hashing N recordings of random bytes (incompressible, like video), against reading "
           "the same files with `cat > /dev/null`, best of two alternating passes. Target: ≥ 80 % of the read "
           "rate.", ""]
    rs = of(results, "verify")
    if not rs:
        return out + none_yet(".venv/bin/python bench/verify.py")
    rows = [[f"{r['params']['files']:,} × {r['params']['mb_each']:g} MB", r["figures"]["cache"],
             f"{num(r['figures']['cat_mb_per_s'], 0)} MB/s", f"{num(r['figures']['verify_mb_per_s'], 0)} MB/s",
             pct(r["figures"]["ratio"]), yes(r["figures"]["meets_target"]), measured(r, machines)] for r in rs]
    return out + table(["files", "page cache", "cat", "verify", "verify / cat", "target", "measured"], rows)


def collect(results: list[Result], machines: Machines) -> list[str]:
    out = ["Collecting product orders from the fake SmartStore (real HTTP on 127.0.0.1) at its rate limit (a "
           "token bucket per API, as Naver meters each API): the time against the ceiling the buckets allow "
           "(target ≥ 90 %), then storing them in SQLite.", ""]
    rs = of(results, "collect")
    if not rs:
        return out + none_yet(".venv/bin/python bench/collect.py")
    rows = []
    for r in rs:
        p, f = r["params"], r["figures"]
        rows.append([f"{f['product_orders']:,}", f"{p['rate_limit_per_s']:g}/s (burst {p['burst']:g})",
                     f"{f['requests']} ({f['throttled_429']} × 429)", f"{f['collect_s']:.1f} s",
                     f"{f['ceiling_s']:.1f} s", pct(f["of_ceiling"]), f"{f['peak_python_mb']:.0f} MB",
                     f"{f['store_s']:.1f} s ({f['store_lines_per_s']:,} lines/s)", yes(f["meets_target"]),
                     measured(r, machines)])
    return out + table(["product orders", "rate per API", "requests", "collect", "ceiling", "of ceiling",
                        "peak Python memory", "store", "target", "measured"], rows)


def outbox(results: list[Result], machines: Machines) -> list[str]:
    out = ["Draining queued dispatches to the fake SmartStore at its rate limit: the uploader reads each chunk's "
           "status before sending it (exactly once) and sends 30 a call; the time against the ceiling the dispatch "
           "API's bucket allows (target ≥ 90 %), and the proof that each was sent once.", ""]
    rs = of(results, "outbox")
    if not rs:
        return out + none_yet(".venv/bin/python bench/outbox.py")
    rows = []
    for r in rs:
        p, f = r["params"], r["figures"]
        rows.append([f"{f['queued']:,}", f"{p['rate_limit_per_s_per_api']:g}/s (burst {p['burst']:g})",
                     f"{f['dispatch_calls']} of {f['dispatch_calls_needed']}", f"{f['status_reads']}",
                     f"{f['throttled_429']}", f"{f['drain_s']:.1f} s", f"{f['ceiling_s']:.1f} s", pct(f["of_ceiling"]),
                     "yes" if f["exactly_once"] else "**no**", yes(f["meets_target"]), measured(r, machines)])
    return out + table(["dispatches", "rate per API", "dispatch calls", "status reads", "429s", "drain", "ceiling",
                        "of ceiling", "exactly once", "target", "measured"], rows)


def catalogue(results: list[Result], machines: Machines) -> list[str]:
    out = ["The product-link screen's filters over a catalogue of sales products (the rows it shows, p99 per "
           "kind of filter, each in a fresh read session; then the counts it reads next; target p99 ≤ 50 ms), "
           "and a SmartStore catalogue sync from the fake at its rate limit (target ≥ 90 % of the ceiling).", ""]
    rs = of(results, "catalogue")
    if not rs:
        return out + none_yet(".venv/bin/python bench/catalogue.py")
    for r in rs:
        f = r["figures"]
        if r["name"].endswith("_filter"):
            out += [f"Filters over {f['sales_products']:,} sales products ({f['items']:,} items, {f['links']:,} "
                    f"links), {f['runs']} of each kind — measured {measured(r, machines)}:", ""]
            out += table(["filter", "rows p50", "rows p99", "rows max", "then counts p99"],
                         [[k, ms(v["p50_ms"]), ms(v["p99_ms"]), ms(v["max_ms"]), ms(f["counts_read"][k]["p99_ms"])]
                          for k, v in f["filters"].items()])
            out += ["", f"Slowest kind p99 {ms(f['worst_p99_ms'])}: target {yes(f['meets_target'])}.", ""]
        else:
            out += table(["sync", "requests", "429s", "sync", "ceiling", "of ceiling", "slowest page", "target",
                          "measured"],
                         [[f"{f['products']:,} products × {f['options_per_product']} options, "
                           f"{f['rate_limit_per_s']:g}/s", f"{f['requests']:,}", f"{f['throttled_429']}",
                           f"{f['sync_s']:.1f} s", f"{f['ceiling_s']:.1f} s", pct(f["of_ceiling"]),
                           "–" if f["slowest_page_s"] is None else f"{f['slowest_page_s']:.1f} s",
                           yes(f["meets_target"]), measured(r, machines)]])
            out += [""]
    return out[:-1] if out[-1] == "" else out


def review_search(results: list[Result], machines: Machines) -> list[str]:
    out = ["Recordings search (`services.review.search`, as the review screen runs it) over a year of recordings "
           "from 4 stations and 12 packers; p99 per kind of search. Target: p99 < 20 ms.", ""]
    rs = of(results, "review_search")
    if not rs:
        return out + none_yet(".venv/bin/python bench/review_search.py")
    kinds = list(dict.fromkeys(k for r in rs for k in r["figures"]["searches"]))
    header = ["search", *(f"{r['figures']['engine']}, {r['params']['recordings']:,} (p50 / p99)" for r in rs)]
    rows = [[k, *(f"{ms(r['figures']['searches'][k]['p50_ms'])} / {ms(r['figures']['searches'][k]['p99_ms'])}"
                  if k in r["figures"]["searches"] else "–" for r in rs)] for k in kinds]
    rows.append(["target", *(yes(r["figures"]["meets_target"]) for r in rs)])
    rows.append(["measured", *(measured(r, machines) for r in rs)])
    return out + table(header, rows)


def stations(results: list[Result], machines: Machines) -> list[str]:
    out = ["Several station processes packing from one database, each its own parcels plus some of its "
           "neighbour's to race for: flat out (throughput), paced (the latency a packer sees while the others "
           "work; target waybill p99 ≤ 16 ms), and one station on SQLite. The range is over the stations.", ""]
    rs = of(results, "stations")
    if not rs:
        return out + none_yet(".venv/bin/python bench/stations.py")
    rows = []
    for r in rs:
        for run, f in r["figures"].items():
            rows.append([run, f"{f['stations']}", f"{f['packed']:,} of {f['parcels_in_pool']:,}",
                         f"{f['parcels_per_s']:.0f}/s", span(f["waybill_p50_ms"]), span(f["waybill_p99_ms"]),
                         span(f["p99_ms"]), f"{f['double_packs']} / {f['duplicate_dispatches']} / {f['errors']}",
                         measured(r, machines)])
    return out + table(["run", "stations", "packed", "parcels", "waybill p50", "waybill p99", "all scans p99",
                        "double packs / duplicate dispatches / errors", "measured"], rows)


Section = Callable[[list[Result], Machines], list[str]]
# bench -> its sections, in the page's order: (title, renderer)
SECTIONS: dict[str, list[tuple[str, Section]]] = {
    "scan_latency": [("Scan latency (`bench/scan_latency.py`)", scan_latency),
                     ("Scans under CPU load (`bench/scan_latency.py --hog`)", scan_hog)],
    "recording": [("Recording (`bench/recording.py`)", recording)],
    "encoder_settings": [("Encoder settings (`bench/encoder_settings.py`)", encoder_settings)],
    "verify": [("Verification (`bench/verify.py`)", verify)],
    "collect": [("Collection (`bench/collect.py`)", collect)],
    "outbox": [("Outbox (`bench/outbox.py`)", outbox)],
    "catalogue": [("Catalogue (`bench/catalogue.py`)", catalogue)],
    "review_search": [("Recordings search (`bench/review_search.py`)", review_search)],
    "stations": [("Several stations (`bench/stations.py`)", stations)],
}

HEAD = """# Benchmarks

<!-- Generated by scripts/bench_tables.py from bench/results/*.json: do not edit by hand. -->

Every figure on this page comes from a result file in `bench/results/`, written by the bench that measured it
(`bench/_result.py`: the figures with their date, machine, Python and package versions, commit and parameters).
`scripts/bench_tables.py` renders this page and the figures in README.md from those files, and
`tests/test_bench_docs.py` fails when they differ, so no figure here is typed by hand. Each row says when it was
measured, on which machine (see *Machines*), at which commit, and the machine's load average when the bench
started: other work on a machine slows every figure.

## Running them

```bash
.venv/bin/python bench/scan_latency.py            # 1,000,000 order lines, recorder on; builds its database once
.venv/bin/python bench/scan_latency.py --keys stamped  # the same, each scan's keys as a scanner sends them
.venv/bin/python bench/scan_latency.py --hog      # 1,000 scans beside two busy processes, a text field focused
bash scripts/bench_clip.sh                        # once: the real webcam clip (from Debian's opencv-doc)
.venv/bin/python bench/recording.py               # every resolution x encoder, synthetic camera and real clip
.venv/bin/python bench/encoder_settings.py        # the recorder's x264 settings against others, on the real clip
.venv/bin/python bench/verify.py                  # hashing 1,000 recordings vs reading them with cat
.venv/bin/python bench/collect.py                 # 10,000 product orders from the fake SmartStore, rate-limited
.venv/bin/python bench/catalogue.py               # link-screen filters over 30,000 sales products; sync of 10,000 x 3
.venv/bin/python bench/outbox.py                  # 5,000 queued dispatches drained at the fake's rate limit
.venv/bin/python bench/review_search.py           # recordings search over 1,000,000 recordings (built once)
.venv/bin/python bench/stations.py                # 8 station processes on one PostgreSQL (started here), 1 on SQLite
.venv/bin/python scripts/bench_tables.py          # then: this page and README's figures from the results
```

Each writes `bench/results/<name>.json`; commit it with the regenerated page. `--quick` runs any bench at tiny
sizes in seconds, writing to `bench/out/quick/` (CI runs them all that way, `tests/test_benches.py`, so none
rots); its figures mean nothing and this script refuses them.
"""


def render_page(results: list[Result]) -> str:
    machines = Machines(results)
    lines = [HEAD.rstrip("\n")]
    for sections in SECTIONS.values():
        for title, render in sections:
            lines += ["", f"## {title}", "", *render(results, machines)]
    lines += ["", "## Machines", ""]
    lines += machines.table() or ["_None yet._"]
    return "\n".join(lines) + "\n"


def render_readme_block(results: list[Result]) -> str:
    """README's figures: the headline scan latency and the real-footage recording at 640x480."""
    machines = Machines(results)
    lines = ["Scan to screen, recorder on (target p99 ≤ 16 ms), and recording real webcam footage at 640x480 "
             "(targets ≤ 100 MB/hour at ≥ 33 dB, ≤ 20 % of one core); every other figure, with the machine each was "
             "measured on: [docs/benchmarks.md](docs/benchmarks.md).", ""]
    lookup, gc = 8, 11  # scan_rows' lookup and full-GC columns: not shown here
    rows = [row[:lookup] + row[lookup + 1:gc] + row[gc + 1:] for row in scan_rows(results, machines)
            if row[0] != "off"]
    if rows:
        lines += table(["recorder", "lines", "scans", "next scan", "keys", "waybill p50", "waybill p99",
                        "waybill max", "item p50", "item p99", "target", "measured"], rows)
    else:
        lines += none_yet(".venv/bin/python bench/scan_latency.py")
    clip = [(r, row) for r in of(results, "recording") for row in r["figures"]["runs"]
            if row["source"] == "clip" and row["resolution"] == "640x480"]
    lines += [""]
    if clip:
        lines += table(["footage", "encoder", "MB / hour", "PSNR", "CPU, one core", "dropped", "targets", "measured"],
                       [["real webcam clip, 640x480", row["encoder"], num(row["mb_per_hour"], 0),
                         "–" if row["psnr_mean_db"] is None else f"{row['psnr_mean_db']:.1f} dB",
                         pct(row["cpu_one_core"]), f"{row['dropped_in_queue'] + row['missing_vs_expected']}",
                         yes(row.get("meets_targets")), measured(r, machines)] for r, row in clip])
    else:
        lines += none_yet(".venv/bin/python bench/recording.py")
    return "\n".join(lines)


def replace_block(text: str, name: str, block: str) -> str:
    """``text`` with what lies between the block's two marker comments replaced by ``block``."""
    start, end = f"<!-- bench-tables:{name} -->", f"<!-- /bench-tables:{name} -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"markers {start} ... {end} not found")
    return text[: i + len(start)] + "\n" + block + "\n" + text[j:]


def expected(root: Path = ROOT, results_dir: Path | None = None) -> dict[Path, str]:
    """What docs/benchmarks.md and README.md must say, given the results."""
    results = load_results(results_dir or root / "bench" / "results")
    readme = (root / README).read_text(encoding="utf-8")
    return {root / DOC: render_page(results),
            root / README: replace_block(readme, README_BLOCK, render_readme_block(results))}


def differences(root: Path = ROOT, results_dir: Path | None = None) -> str:
    """A unified diff of the documents against what the results say ("" when they agree)."""
    out = []
    for path, want in expected(root, results_dir).items():
        have = path.read_text(encoding="utf-8") if path.exists() else ""
        if have != want:
            rel = path.relative_to(root)
            out += difflib.unified_diff(have.splitlines(keepends=True), want.splitlines(keepends=True),
                                        f"{rel} (in the repository)", f"{rel} (from bench/results)")
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 with a diff when out of date")
    a = ap.parse_args(argv)
    if a.check:
        diff = differences()
        if diff:
            print(diff + "\nout of date: run .venv/bin/python scripts/bench_tables.py", file=sys.stderr)
            return 1
        return 0
    for path, text in expected().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
