"""The guard of the one catalogue (``core/words``), read from the source as Electrum's is: every code raised or
stored anywhere in ``src/`` has words in Korean and English with the same placeholders, and every entry of the
catalogue is used (or listed below as kept on purpose)."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from packdesk.core import words
from packdesk.core.enums import PackOutcome, ScanKind
from packdesk.core.errors import KnownError, Words
from packdesk.core.returns import Condition, ReturnScanKind
from packdesk.core.station import Msg
from packdesk.core.words.errors import TRACKING

SRC = Path(__file__).resolve().parents[2] / "src" / "packdesk"
WORDS_DIR = SRC / "core" / "words"
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# parameters and fields that carry a code whose words someone reads
CODE_NAMES = frozenset({"code", "problem", "warning", "error_code"})
# codes that are only ever a class's default, always replaced by a precise one where raised: when one escapes
# anyway it says "something went wrong" (``words.words``), which is what it means
FALLBACKS = frozenset({"excel_error", "mapping_error", "courier_sheet_error", "excel_import_failed",
                       "account_invalid", "bind_refused", "order_refused"})
# records whose code has its own words under a namespace: a connection test's short words beside the address
NAMESPACED = {"ConnectionCheck": words.DB_CHECK_NS}
# callables named like a code taker but taking names: SQLAlchemy's ``column.label("n")``, ``couriers.label(code)``
NOT_CODES = frozenset({"label"})


def sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        if WORDS_DIR not in path.parents:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _code(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return node.value
    if isinstance(node, ast.IfExp):  # "orders_set_aside" if aside else ""
        return _code(node.body) or _code(node.orelse)
    return None


def raised_codes() -> dict[str, str]:
    """Every code handed to a ``KnownError`` kind (positional or ``code=``), a kind's own ``code``, and every
    code passed where a function or record takes a ``code``/``problem``/``warning``/``error_code`` (the
    callable of the same module first: two helpers called ``err`` take their code in different places).
    Keys are catalogue keys: a namespaced record's codes come as ``<namespace>.<code>``."""
    trees = list(sources())
    kinds = {"KnownError"}
    while True:  # the KnownError family, by name, to a fixed point
        more = {n.name for _, t in trees for n in ast.walk(t) if isinstance(n, ast.ClassDef)
                and any(_name(b) in kinds for b in n.bases)} - kinds
        if not more:
            break
        kinds |= more
    takes: dict[tuple[Path | None, str], int] = {}  # (module or None for any, callable) -> its code's position
    for path, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                if names and names[0] in ("self", "cls"):
                    names = names[1:]
                for i, n in enumerate(names):
                    if n in CODE_NAMES:
                        takes[(path, node.name)] = takes[(None, node.name)] = i
            elif isinstance(node, ast.ClassDef) and any(_name(d if not isinstance(d, ast.Call) else d.func)
                                                        == "dataclass" for d in node.decorator_list):
                fields = [s.target.id for s in node.body
                          if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
                for i, n in enumerate(fields):
                    if n in CODE_NAMES:
                        takes[(path, node.name)] = takes[(None, node.name)] = i
    found: dict[str, str] = {}
    for path, tree in trees:
        where = str(path.relative_to(SRC))
        for node in ast.walk(tree):
            codes: list[str | None] = []
            if isinstance(node, ast.ClassDef) and node.name in kinds:
                codes += [_code(s.value) for s in node.body if isinstance(s, ast.Assign)
                          and any(_name(t) == "code" for t in s.targets)]
            elif isinstance(node, ast.Call):
                callee = _name(node.func)
                if callee in NOT_CODES:
                    continue
                if callee in kinds and node.args:
                    codes.append(_code(node.args[0]))
                at = takes.get((path, callee), takes.get((None, callee)))
                if at is not None and len(node.args) > at:
                    codes.append(_code(node.args[at]))
                codes += [_code(k.value) for k in node.keywords if k.arg in CODE_NAMES]
                if callee in NAMESPACED:
                    codes = [f"{NAMESPACED[callee]}.{c}" for c in codes if c]
            found.update({c: f"{where}:{getattr(node, 'lineno', 0)}" for c in codes if c})
    return found


def refusal_codes() -> set[str]:
    """The codes ``core/station.py`` stores as a refused scan's reason: ``_refuse(…, Msg.X)``, directly or
    through a variable set from ``Msg`` members in the same function, and a ``LogScan`` given ``Msg.X.value``."""
    tree = ast.parse((SRC / "core" / "station.py").read_text(encoding="utf-8"))
    out: set[str] = set()

    def member(node: ast.expr) -> str | None:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Msg":
            return Msg[node.attr].value
        if isinstance(node, ast.Attribute) and node.attr == "value":
            return member(node.value)
        return None

    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        assigned: dict[str, set[str]] = {}
        for n in ast.walk(fn):
            if isinstance(n, ast.Assign) and (m := member(n.value)):
                for t in n.targets:
                    assigned.setdefault(_name(t), set()).add(m)
        for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
            arg = (call.args[3] if _name(call.func) in ("_refuse", "LogScan") and len(call.args) > 3 else None)
            if arg is not None:
                out |= {m} if (m := member(arg)) else assigned.get(_name(arg), set())
    return out


def placeholders(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_entry_has_both_languages_with_the_same_placeholders() -> None:
    for code, (ko, en) in words.CATALOGUE.items():
        assert ko.strip() and en.strip(), code
        assert words.HANGUL.search(ko), f"{code}: its Korean has no Hangul"
        assert placeholders(ko) == placeholders(en), code
        string.Formatter().parse(ko)  # a stray brace would fail every rendering of it


def test_every_code_raised_anywhere_has_words() -> None:
    found = raised_codes()
    assert len(found) > 150, "the scan found too little: the source changed under it"
    missing = {c: at for c, at in found.items() if c not in words.CATALOGUE and c not in FALLBACKS}
    assert not missing, f"codes without words (add them to core/words): {missing}"


def test_every_station_message_and_refusal_has_words() -> None:
    assert {m.value for m in Msg} <= set(words.CATALOGUE)
    refusals = refusal_codes()
    assert {"too_many", "wrong_item", "packed_line_item", "waybill_same", "label_invalid"} <= refusals
    assert {c for c in refusals if f"{words.REASON}.{c}" not in words.CATALOGUE} == set()


def test_no_entry_is_unused() -> None:
    constants = {n.value for _, t in sources() for n in ast.walk(t)
                 if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    expected = {
        words.REASON: refusal_codes(),
        words.KIND: {k.value for k in ScanKind},
        words.OUTCOME: {o.value for o in PackOutcome},
        words.PROBLEM: constants,
        words.IMPORT: set(TRACKING),
        words.MARKET: None,  # the marketplaces' own status words: whatever they send, kept for all they know
        words.DB_CHECK_NS: constants,
        words.CONDITION: {c.value for c in Condition},
        words.RETURN_KIND: {k.value for k in ReturnScanKind},
    }
    unused = []
    for key in words.CATALOGUE:
        namespace, _, value = key.rpartition(".")
        if not namespace:
            used = key in constants or key in {m.value for m in Msg} or key == "error"
        else:
            allowed = expected[namespace]
            used = allowed is None or value in allowed
        if not used:
            unused.append(key)
    assert not unused, f"words no code uses (remove them, or use them): {unused}"


def test_falling_back_says_something_went_wrong() -> None:
    assert words.words("no_such_code") == words.CATALOGUE["error"]
    for code in FALLBACKS:
        assert words.words(code, {}) == words.CATALOGUE["error"]


@pytest.mark.parametrize("language, text", [("ko", "필수 항목이 비어 있습니다: 수량"),
                                            ("en", "Required field is empty: Quantity")])
def test_one_renderer_for_each_language(language: words.Language, text: str) -> None:
    assert words.render("excel_missing_required", {"field": Words("수량", "Quantity")}, language) == text


def test_a_parameter_in_two_languages_and_data_that_looks_like_it() -> None:
    """A field's label written "한국어 / English" gives each text its half; a cell's value or an item's option
    ("블랙 / L") is data and stays whole in both."""
    e = KnownError("order_field_required", field="수령인 / Recipient")
    assert words.words(e.code, e.params) == ("수령인: 입력하세요 (필수)", "Recipient: required")
    ko, en = words.words("row_unknown_sku", {"value": "티셔츠 / L"})
    assert ko.endswith("티셔츠 / L") and en.endswith("티셔츠 / L")
    assert words.bilingual("row_code_too_long", {"field": Words("상품코드", "Product code"), "limit": 64}) == (
        "상품코드가 너무 깁니다 (최대 64자) / Product code is too long (at most 64)")


def test_an_import_says_a_tracking_problem_in_its_own_words() -> None:
    from packdesk.services.courier_sheets import texts

    params = {"courier": "CJ대한통운", "lengths": "12", "length": 10, "number": "1234567890"}
    assert "다시 스캔하세요" in words.words("tracking_length", params).ko  # the screen's
    assert "다시 스캔" not in texts("tracking_length", params)[0]         # the import's
    assert texts("tracking_empty") == words.words("tracking_empty")


@pytest.mark.parametrize(("n", "text"), [(0, "0 lines"), (1, "1 line"), (2, "2 lines"), (1200, "1,200 lines")])
def test_an_english_count_says_its_noun_as_english_does(n: int, text: str) -> None:
    assert words.plural(n, "line") == text
    assert words.plural(n, "box", "boxes") == text.replace("lines", "boxes").replace("line", "box")


def test_a_catalogue_count_is_said_in_the_singular_for_one_and_korean_is_left_alone() -> None:
    assert "(1 record) is saved" in words.words("disk_space_back", {"count": 1}).en
    assert "(3 records) is saved" in words.words("disk_space_back", {"count": 3}).en
    assert words.station_words(Msg.NOT_COMPLETE, {"remaining": 1}).en == "1 item still to scan"
    assert words.station_words(Msg.NOT_COMPLETE, {"remaining": 2}).en == "2 items still to scan"
    assert words.counted("1 packing slip(s) saved · 2 badge(s) · Pre-roll (s) · v1.2 file(s)") == \
        "1 packing slip saved · 2 badges · Pre-roll (s) · v1.2 file(s)"
    assert "(s)" not in "".join(en for ko, en in (words.words(c, {"count": 1, "scanned": 1, "remaining": 1})
                                                   for c in words.CATALOGUE))
