"""The benchmark figures in the documents come from the benches' result files, never from a hand: the page and
README's block are what ``scripts/bench_tables.py`` makes of ``bench/results/``, and the result files say what
they were measured on (``bench/_result.py``)."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "scripts"))

import _result  # noqa: E402
import bench_tables  # noqa: E402

SCAN_FIGURES: dict[str, Any] = {
    "waybill_scan": {"n": 300, "p50_ms": 78.0, "p99_ms": 157.0, "max_ms": 170.0},
    "item_scan": {"n": 300, "p50_ms": 7.7, "p99_ms": 29.0, "max_ms": 31.0},
    "scans_missed": 0, "missed_examples": [], "meets_target": False,
}
SCAN_PARAMS = {"lines": 1_000_000, "scans": 300, "recorder": "opencv", "camera": "synthetic", "resolution": "640x480",
               "fps": 30, "key_gap_ms": 40.0, "target_p99_ms": 16}


def write_result(folder: Path, bench: str, figures: dict[str, Any], params: dict[str, Any], variant: str = "",
                 quick: bool = False) -> Path:
    args = argparse.Namespace(quick=quick, results=folder)
    return _result.start(bench, args, params).write(figures, variant)


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """README and the page as committed, with an empty results folder: what a test may change freely."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "bench" / "results").mkdir(parents=True)
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copy(ROOT / "docs" / "benchmarks.md", tmp_path / "docs" / "benchmarks.md")
    return tmp_path


def test_the_documents_say_what_the_committed_results_say() -> None:
    diff = bench_tables.differences()
    assert diff == "", f"docs out of date with bench/results: run scripts/bench_tables.py\n{diff}"


def test_a_figure_typed_into_the_page_by_hand_is_caught(repo_copy: Path) -> None:
    shutil.rmtree(repo_copy / "bench" / "results")
    shutil.copytree(ROOT / "bench" / "results", repo_copy / "bench" / "results")
    page = repo_copy / "docs" / "benchmarks.md"
    assert bench_tables.differences(repo_copy) == ""
    page.write_text(page.read_text(encoding="utf-8").replace("## Machines", "| a figure | 3.7 ms |\n\n## Machines"),
                    encoding="utf-8")
    diff = bench_tables.differences(repo_copy)
    assert "-| a figure | 3.7 ms |" in diff  # the typed line, which the results do not have


def test_tables_follow_the_results_and_say_where_each_figure_comes_from(repo_copy: Path) -> None:
    results = repo_copy / "bench" / "results"
    path = write_result(results, "scan_latency", SCAN_FIGURES, SCAN_PARAMS, "opencv_synthetic_640x480")
    page = bench_tables.expected(repo_copy)[repo_copy / "docs" / "benchmarks.md"]
    doc = json.loads(path.read_text(encoding="utf-8"))
    row = next(line for line in page.splitlines() if line.startswith("| opencv, synthetic 640x480 |"))
    assert "| 157 ms |" in row and "| 29.0 ms |" in row and "| not met |" in row
    assert doc["date"][:10] in row and doc["git"]["commit"][:8] in row and "M1" in row
    assert f"| M1 | {doc['machine']['cores']} |" in page

    doc["figures"]["waybill_scan"]["p99_ms"] = 9.3
    path.write_text(json.dumps(doc), encoding="utf-8")
    page = bench_tables.expected(repo_copy)[repo_copy / "docs" / "benchmarks.md"]
    row = next(line for line in page.splitlines() if line.startswith("| opencv, synthetic 640x480 |"))
    assert "| 9.30 ms |" in row and "157 ms" not in page
    assert "| at once | together |" in row  # the keys of each scan handed over at once: the default


def test_a_run_with_the_keys_as_a_scanner_types_them_says_so(repo_copy: Path) -> None:
    results = repo_copy / "bench" / "results"
    write_result(results, "scan_latency", SCAN_FIGURES, SCAN_PARAMS | {"keys": ["stamped"], "pace_s": 0.0},
                 "opencv_synthetic_640x480_stamped")
    page = bench_tables.expected(repo_copy)[repo_copy / "docs" / "benchmarks.md"]
    rows = [line for line in page.splitlines() if line.startswith("| opencv, synthetic 640x480 |")]
    assert any("| at once | as typed | 78.0 ms | 157 ms |" in row for row in rows)


def test_readme_changes_only_between_its_markers(repo_copy: Path) -> None:
    readme = repo_copy / "README.md"
    before = readme.read_text(encoding="utf-8")
    write_result(repo_copy / "bench" / "results", "scan_latency", SCAN_FIGURES, SCAN_PARAMS,
                 "opencv_synthetic_640x480")
    after = bench_tables.expected(repo_copy)[readme]
    start, end = "<!-- bench-tables:readme -->", "<!-- /bench-tables:readme -->"
    assert after.split(start)[0] == before.split(start)[0] and after.split(end)[1] == before.split(end)[1]
    block = after.split(start)[1].split(end)[0]
    assert "| 157 ms |" in block and "docs/benchmarks.md" in block


def test_every_generated_table_row_has_its_headers_cells() -> None:
    """A column added to a section's rows and not to README's header shifted README's figures one to the left
    (its *item p99* showed the full GC pause): every table in both documents has a cell under each header."""
    for path, text in bench_tables.expected(ROOT).items():
        lines = text.splitlines()
        for n, line in enumerate(lines):
            if not (line.startswith("|---") and n > 0):
                continue
            width = lines[n - 1].count("|")
            for row in lines[n + 1:]:
                if not row.startswith("|"):
                    break
                assert row.count("|") == width, f"{path.name}: {row!r} under {lines[n - 1]!r}"


def test_without_results_each_section_says_how_to_measure() -> None:
    page = bench_tables.render_page([])
    for bench in bench_tables.SECTIONS:
        assert f"bench/{bench}.py" in page
    assert page.count("No result recorded yet") == sum(len(s) for s in bench_tables.SECTIONS.values())
    assert not [line for line in page.splitlines() if line.startswith("| ")]  # no table, no figure


def test_a_quick_runs_result_is_refused(repo_copy: Path) -> None:
    write_result(repo_copy / "bench" / "results", "verify", {"ratio": 0.1}, {"files": 20}, quick=True)
    with pytest.raises(ValueError, match="quick"):
        bench_tables.load_results(repo_copy / "bench" / "results")


def test_a_result_without_a_table_is_refused(repo_copy: Path) -> None:
    write_result(repo_copy / "bench" / "results", "new_bench", {"x": 1}, {})
    with pytest.raises(ValueError, match="new_bench"):
        bench_tables.load_results(repo_copy / "bench" / "results")


def test_a_result_file_says_what_it_was_measured_on(tmp_path: Path) -> None:
    path = write_result(tmp_path, "verify", {"ratio": 0.9}, {"files": 3}, "cold")
    doc = _result.load(path)
    assert path.name == "verify_cold.json" and doc["name"] == "verify_cold" and doc["quick"] is False
    assert set(_result.REQUIRED_KEYS) <= set(doc)
    assert doc["machine"]["cores"] >= 1 and doc["machine"]["cpu"] and doc["machine"]["os"]
    assert doc["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert "SQLAlchemy" in doc["versions"] and "sqlite" in doc["versions"]
    assert re.fullmatch(r"[0-9a-f]{40}", doc["git"]["commit"]) and isinstance(doc["git"]["dirty"], bool)
    assert doc["params"] == {"files": 3} and doc["figures"] == {"ratio": 0.9}


def test_quick_runs_write_elsewhere_by_default() -> None:
    quick = _result.start("verify", argparse.Namespace(quick=True, results=None), {})
    full = _result.start("verify", argparse.Namespace(quick=False, results=None), {})
    assert quick.directory == _result.QUICK_RESULTS and full.directory == _result.RESULTS
    assert quick.directory != full.directory
