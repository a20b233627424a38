"""Every Korean text in the screens' code goes through the screen language (ui/i18n.py).

Read from the source, so a new label cannot slip past the per-screen English tests (tests/ui/test_i18n*.py),
which see only the states they drive. A Hangul literal in src/packdesk/ui is allowed when it is:
- written inside a call to ``tr``, ``both``, ``one``, ``two_lines``, ``pair`` or ``short``, or to the status bar's
  ``set_field`` (ui/main_window.py: its texts go through ``short`` and ``tr``), as an argument or part of one;
- an entry of an UPPER_CASE constant table (module or class level), whose texts go through those functions
  where they are shown (the English tests check that they do);
- a docstring;
- data, not a screen text (a marketplace's Korean column header, a match against the shop's own words),
  marked ``# i18n: data`` on its line.
"""

from __future__ import annotations

import ast
from pathlib import Path

from packdesk.ui.i18n import HANGUL

UI = Path(__file__).resolve().parents[2] / "src" / "packdesk" / "ui"
LANGUAGE_FUNCTIONS = {"tr", "both", "one", "two_lines", "pair", "short", "set_field"}
DATA_MARK = "# i18n: data"


def _hangul_literals(tree: ast.AST) -> list[ast.expr]:
    """String literals and f-strings with Korean in them (an f-string counts once, not per piece)."""
    inside_fstring = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found: list[ast.expr] = []
    for n in ast.walk(tree):
        pieces = [n] if isinstance(n, ast.Constant) and id(n) not in inside_fstring else \
            n.values if isinstance(n, ast.JoinedStr) else []
        if any(isinstance(v, ast.Constant) and isinstance(v.value, str) and HANGUL.search(v.value) for v in pieces):
            found.append(n)  # type: ignore[arg-type]
    return found


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    return {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _calls_language(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id in LANGUAGE_FUNCTIONS) or \
        (isinstance(f, ast.Attribute) and f.attr in LANGUAGE_FUNCTIONS)


def _constant_table(node: ast.AST, parent: ast.AST | None) -> bool:
    """An UPPER_CASE name assigned at module or class level."""
    if not isinstance(parent, ast.Module | ast.ClassDef):
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) \
        else []
    return bool(targets) and all(isinstance(t, ast.Name) and t.id.isupper() for t in targets)


def unexplained(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    parent = _parents(tree)
    out = []
    for lit in _hangul_literals(tree):
        if any(DATA_MARK in lines[i - 1] for i in range(lit.lineno, (lit.end_lineno or lit.lineno) + 1)):
            continue
        node: ast.AST = lit
        ok = False
        while id(node) in parent:
            up = parent[id(node)]
            if _calls_language(up):
                ok = True
                break
            if isinstance(up, ast.Expr) and node is lit:  # a docstring, or a bare string statement
                ok = True
                break
            if isinstance(up, ast.Assign | ast.AnnAssign) and _constant_table(up, parent.get(id(up))):
                ok = True
                break
            node = up
        if not ok:
            out.append(f"{path.name}:{lit.lineno}: {ast.get_source_segment(source, lit)}")
    return out


def test_every_korean_text_in_the_screens_goes_through_the_language() -> None:
    files = sorted(UI.glob("*.py"))
    assert len(files) > 20
    left = [line for f in files for line in unexplained(f)]
    assert left == [], "\n".join(left)


def test_the_check_sees_a_bare_label(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""모듈 설명"""\n'
                      'TITLES = ("상품 / Item",)\n'
                      'a = QLabel(tr("상품 / Item"))\n'
                      'b = QLabel(both("송장", f"Waybill {n}"))\n'
                      'c = "수기" in platform  # i18n: data\n'
                      'd = QLabel("바코드 / Barcode")\n'
                      'e = QLabel(f"{n}개 / {n} pcs")\n', encoding="utf-8")
    assert unexplained(sample) == ['sample.py:6: "바코드 / Barcode"', 'sample.py:7: f"{n}개 / {n} pcs"']
