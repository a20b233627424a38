"""Every bench still runs: each in its quick mode (tiny sizes, seconds, no figure judged), writing its result file
as a full run would. Figures are the benches' business; a test only sees that none of them has rotted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import _result  # noqa: E402

pytestmark = pytest.mark.slow

# bench, extra arguments, the result files it writes
QUICK_RUNS = [
    ("scan_latency", [], ["scan_latency_opencv_synthetic_640x480"]),
    ("scan_latency", ["--keys", "stamped"], ["scan_latency_opencv_synthetic_640x480_stamped"]),
    ("scan_latency", ["--hog"], ["scan_latency_hog_opencv_synthetic_640x480"]),
    ("recording", [], ["recording"]),
    ("encoder_settings", [], ["encoder_settings"]),
    ("verify", [], ["verify"]),
    ("collect", [], ["collect"]),
    ("catalogue", [], ["catalogue_filter", "catalogue_sync"]),
    ("outbox", [], ["outbox"]),
    ("review_search", [], ["review_search_sqlite"]),
    ("stations", [], ["stations"]),
]


def test_every_bench_has_a_quick_run() -> None:
    benches = {p.stem for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_")}
    assert benches == {b for b, _, _ in QUICK_RUNS}


@pytest.mark.parametrize(("bench", "extra", "names"), QUICK_RUNS, ids=[" ".join([b, *e]) for b, e, _ in QUICK_RUNS])
def test_quick_run_writes_its_result(bench: str, extra: list[str], names: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
           "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / f"{bench}.py"), "--quick", "--results",
                           str(tmp_path), *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{bench} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == sorted(names)
    for name in names:
        doc = _result.load(tmp_path / f"{name}.json")
        assert doc["bench"] == bench and doc["name"] == name and doc["quick"] is True
        assert doc["figures"] and doc["params"] and doc["machine"]["cores"] >= 1
