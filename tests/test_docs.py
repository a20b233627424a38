"""The map inside the repository stays whole: README stays a README, every link in the documents leads somewhere,
nothing points at documents outside the repository, and docs/architecture.md names every module.

Why a test: documents rot silently. A heading renamed, a file moved or a module added breaks nothing at run time;
a newcomer finds out by clicking. Anchors follow GitHub's rules, since that is where people read the pages.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "packdesk"
README_LIMIT = 10 * 1024

# Written in pieces so this file does not name them itself.
OUTSIDE = ("../" + "shared", "DESIGN" + ".md", "FINDINGS" + ".md", "HOUSE" + "-STYLE")
SCANNED_DIRS = ("src", "tests", "scripts", "bench", "docs", "installer", ".ci")
SCANNED_FILES = ("README.md", "CONTRIBUTING.md", "pyproject.toml")
TEXT_SUFFIXES = {".py", ".md", ".sh", ".toml", ".txt", ".iss", ".spec", ".cfg", ".ini", ".json", ".yml", ".yaml",
                 ".ts", ""}

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~)")


def documents() -> list[Path]:
    docs = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [p for p in docs if p.exists()]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a heading or a link in a code block is neither)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lowercased, punctuation but '-' and '_' dropped, each space a '-'
    (letters of any script, Hangul included, stay)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())  # a link in a heading: its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in "-_ ")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor GitHub makes for ``path``'s headings; a repeated heading gets -1, -2, ..."""
    seen: Counter[str] = Counter()
    out: set[str] = set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        out.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
        seen[base] += 1
    return out


def links(path: Path) -> list[str]:
    """Link targets, leaving out what is shown as inline code (a link written as code is no link)."""
    return [m.group(1) for line in prose_lines(path.read_text(encoding="utf-8"))
            for m in LINK.finditer(re.sub(r"`[^`]*`", "", line))]


def test_slug_follows_githubs_rules() -> None:
    assert slug("하루 업무 / A day at the warehouse") == "하루-업무--a-day-at-the-warehouse"
    assert slug("Dispatch: tracking numbers back to the marketplace, exactly once") == \
        "dispatch-tracking-numbers-back-to-the-marketplace-exactly-once"
    assert slug("B.2 HMAC signature") == "b2-hmac-signature"
    assert slug("`settings.json`, key by key") == "settingsjson-key-by-key"
    assert slug("snake_case and-dash") == "snake_case-and-dash"


def test_readme_is_a_readme() -> None:
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; move detail to docs/ (limit {README_LIMIT})"


@pytest.mark.parametrize("doc", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for target in links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...: not ours to check
            continue
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading with that anchor in {dest.relative_to(ROOT)}")
    assert not broken, f"{doc.relative_to(ROOT)}:\n" + "\n".join(broken)


def scanned_files() -> list[Path]:
    files = [ROOT / name for name in SCANNED_FILES if (ROOT / name).exists()]
    for folder in SCANNED_DIRS:
        files += [p for p in sorted((ROOT / folder).rglob("*"))
                  if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
                  and ".venv" not in p.parts and not any(part.endswith(".egg-info") for part in p.parts)]
    return files


def test_nothing_points_at_documents_outside_the_repository() -> None:
    found = []
    for path in scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(ROOT)}: {word}" for word in OUTSIDE if word in text]
    assert not found, "cite the in-repo docs (docs/marketplaces/, docs/architecture.md) instead:\n" + "\n".join(found)


def modules() -> list[str]:
    """Every module under src/packdesk, but the empty ``__init__.py`` files that only mark a package."""
    return sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                  if p.name != "__init__.py" or p.read_text(encoding="utf-8").strip())


def test_the_architecture_page_names_every_module() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [name for name in modules() if f"`{name}`" not in page]
    assert not missing, "add a line for each to docs/architecture.md (Modules):\n" + "\n".join(missing)


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """A broken anchor and a missing file are found; a link inside code is not a link."""
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## Sub part\n\n[ok](#sub-part) [bad](#nope) [gone](other.md) `[code](x.md)`\n\n"
                    "```\n[fenced](y.md)\n```\n", encoding="utf-8")
    assert links(page) == ["#sub-part", "#nope", "other.md"]
    assert anchors(page) == {"title", "sub-part"}


def test_the_outbox_interval_in_the_docs_is_the_one_the_app_uses() -> None:
    """The user guide once said 30 s while the scheduler ran the dispatch pass every 15 s (issue #20)."""
    from packdesk.services.dispatch import PASS_EVERY_S

    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    background = (ROOT / "src" / "packdesk" / "services" / "background.py").read_text(encoding="utf-8")
    assert 'jobs.every("dispatch", self.uploader.run_once, seconds=PASS_EVERY_S)' in background
    assert f"백그라운드에서({PASS_EVERY_S}초마다" in guide and f"in the background (every {PASS_EVERY_S} s" in guide
    docs = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    said = {int(n) for d in docs for n in re.findall(r"(?:outbox|uploader|dispatch pass)[^.]*?every (\d+) s",
                                                        d.read_text(encoding="utf-8"))}
    assert said <= {PASS_EVERY_S}, said
