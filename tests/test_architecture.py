"""Dependency rules of docs/architecture.md (Layers), checked on the source: core/ stays pure, only ui/ and app.py
touch Qt, first-party imports follow the layer order, and screens run work off the UI thread only through
ui/ops.py (no thread of their own, no database session)."""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "packdesk"


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules(pkg: str) -> list[Path]:
    return sorted((SRC / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: str(p.relative_to(SRC)))
def test_core_imports_no_qt_http_or_video(path: Path) -> None:
    assert not imported_roots(path) & {"PySide6", "httpx", "cv2", "av", "serial"}


@pytest.mark.parametrize("path", modules("channels") + modules("devices") + modules("services"),
                         ids=lambda p: str(p.relative_to(SRC)))
def test_only_ui_imports_qt(path: Path) -> None:
    assert "PySide6" not in imported_roots(path)


@pytest.mark.parametrize("path", modules("channels"), ids=lambda p: str(p.relative_to(SRC)))
def test_channels_do_not_touch_the_database(path: Path) -> None:
    assert "sqlalchemy" not in imported_roots(path)


# The layer order for first-party imports: a module imports only its own layer and the ones below it. channels/
# and devices/ sit side by side and do not import each other. The top-level plumbing (log.py, paths.py,
# licences.py, native_logs.py) may be imported from any layer and itself imports only core/ and plumbing.
# Exempt: app.py (the composition root wires every layer together) and __main__.py (it only starts app.py).
RANK = {"core": 0, "channels": 1, "devices": 1, "services": 2, "ui": 3}
ROOTS = ("app.py", "__main__.py")

# Screens that still open database sessions on the UI thread or threads of their own (issue #19 §1): none left.
# A listed one must be taken off when it is clean (the test below fails).
NOT_YET_ON_OPS: set[str] = set()


def first_party_imports(path: Path, root: Path = SRC) -> set[str]:
    """Every ``packdesk.…`` module ``path`` (under ``root``) imports, relative imports resolved."""
    package = ["packdesk", *path.relative_to(root).parts[:-1]]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
    return {name for name in found if name == "packdesk" or name.startswith("packdesk.")}


def layer_violations(path: Path, root: Path = SRC) -> list[str]:
    rel = path.relative_to(root)
    if rel.parts == (rel.name,) and rel.name in ROOTS:
        return []
    own = rel.parts[0] if len(rel.parts) > 1 else None  # None: top-level plumbing
    bad = []
    for name in sorted(first_party_imports(path, root)):
        parts = name.split(".")
        target = parts[1] if len(parts) > 1 else ""
        if target in RANK:
            allowed = (RANK[target] == 0 if own is None
                       else target == own or RANK[target] < RANK[own])
        else:  # the package itself or a top-level module: plumbing, never the composition root
            allowed = f"{target}.py" not in ROOTS
        if not allowed:
            bad.append(name)
    return bad


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_first_party_imports_follow_the_layer_order(path: Path) -> None:
    assert layer_violations(path) == []


def off_ops(path: Path) -> list[str]:
    """How a ui module runs work off the UI thread other than through ui/ops.py: importing ``threading`` or
    ``concurrent.futures`` (only ops.py starts threads or pools), importing SQLAlchemy, or opening a database
    session (``….session()``)."""
    found = [f"imports {root}" for root in sorted(imported_roots(path) & {"threading", "concurrent", "sqlalchemy"})
             if not (root in ("threading", "concurrent") and path.name == "ops.py")]
    found += [f"line {node.lineno}: .{node.func.attr}()" for node in ast.walk(ast.parse(path.read_text("utf-8")))
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("session", "sessions")]
    return found


@pytest.mark.parametrize("path", modules("ui"), ids=lambda p: str(p.relative_to(SRC)))
def test_screens_run_work_only_through_ops(path: Path) -> None:
    found = off_ops(path)
    if str(path.relative_to(SRC)) in NOT_YET_ON_OPS:
        assert found, "this screen is on ui/ops.py now: take it off NOT_YET_ON_OPS"
    else:
        assert found == [], "run it through ui/ops.py (run, read or write)"


def test_the_import_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """A services module importing ui, a relative import upwards, a thread and a session in a screen are found."""
    services, ui = SRC / "services", SRC / "ui"
    cases = {
        services / "bad.py": "from packdesk.ui import ops\n",
        SRC / "core" / "bad.py": "from ..services import dbworker\n",
        SRC / "channels" / "bad.py": "import packdesk.devices.camera\n",
        SRC / "log2.py": "from packdesk.app import main\n",
    }
    for where, source in cases.items():
        fake = tmp_path / where.relative_to(SRC.parent)
        fake.parent.mkdir(parents=True, exist_ok=True)
        fake.write_text(source, encoding="utf-8")
        assert layer_violations(fake, tmp_path / "packdesk"), source
    screen = tmp_path / "screen.py"
    screen.write_text("import threading\nfrom sqlalchemy import select\nwith self.db.session() as s: pass\n"
                      "from concurrent.futures import ThreadPoolExecutor\n", encoding="utf-8")
    assert len(off_ops(screen)) == 4
    assert layer_violations(ui / "ops.py") == [] and off_ops(ui / "ops.py") == []



# screens another branch is changing at the moment (issue #20): their dialogs move to ui/files.py when it lands
FILE_DIALOGS_NOT_YET_ON_FILES = {"ui/excel_orders_view.py"}


def own_file_dialogs(path: Path) -> list[str]:
    """``QFileDialog.get…()`` called outside ui/files.py: a dialog that would open in the working folder."""
    return [f"line {node.lineno}: QFileDialog.{node.func.attr}()"
            for node in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "QFileDialog"
            and node.func.attr.startswith("get") and path.name != "files.py"]


@pytest.mark.parametrize("path", modules("ui"), ids=lambda p: str(p.relative_to(SRC)))
def test_file_dialogs_open_through_ui_files(path: Path) -> None:
    found = own_file_dialogs(path)
    if str(path.relative_to(SRC)) in FILE_DIALOGS_NOT_YET_ON_FILES:
        assert found, "this screen's dialogs go through ui/files.py now: take it off FILE_DIALOGS_NOT_YET_ON_FILES"
    else:
        assert found == [], "open it with ui/files.py (open_file, save_file, folder)"


def test_the_composition_root_reads_top_to_bottom() -> None:
    """``build_station`` stays short (issue #19 §2): the background is built in services/background.py, the
    window from one frozen ``WindowDeps``; nothing is set on the window after it is made."""
    import inspect

    from packdesk.app import build_station

    source = inspect.getsource(build_station)
    assert len(source.splitlines()) < 60
    assert not re.search(r"\bwindow\.\w+\s*=[^=]", source), "give it to the window in WindowDeps"


def test_the_station_is_typed() -> None:
    """``Station``'s fields name their types (no ``object``), and the root needs no ``type: ignore``."""
    from packdesk.app import Station

    assert [f.name for f in fields(Station) if f.type in ("object", object)] == []
    assert "type: ignore" not in (SRC / "app.py").read_text(encoding="utf-8")


HASATTR_TAKE_SCAN_LEFT: set[str] = set()  # none left


def test_windows_take_scans_by_protocol() -> None:
    """A window that takes scans is a ``ui/scans.ScanTaker``; scans are routed and handed on by it, not ``hasattr``."""
    asked = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
             if re.search(r"hasattr\([^)]*[\"']take_scan[\"']", p.read_text(encoding="utf-8"))}
    assert asked == HASATTR_TAKE_SCAN_LEFT
