"""Dependency rules of docs/architecture.md (Layers), checked on the source: core/ stays pure, only ui/ and app.py
touch Qt."""

from __future__ import annotations

import ast
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
