"""The licence check fails, naming the package, on a runtime package whose licence is unknown or not compatible
with GPL-3.0-or-later; it follows the real requirements (extras, markers) and leaves test tools out; the notices
carry every package's licence texts, Qt's, FFmpeg's and x264's among them."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from packdesk import licences
from packdesk.licences import Component, check, components, verdict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import licences as licences_script  # noqa: E402  scripts/licences.py


def fake_dist(site: Path, name: str, version: str = "1.0", *meta: str, licence_files: dict[str, str] | None = None,
              files: dict[str, str] | None = None) -> None:
    """An installed distribution as pip leaves it: ``<name>-<version>.dist-info`` with METADATA and RECORD."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    (info / "licenses").mkdir(parents=True)
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}", *meta]
    record = [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    for fn, text in (licence_files or {}).items():
        lines.append(f"License-File: {fn}")
        (info / "licenses" / fn).write_text(text, encoding="utf-8")
        record.append(f"{info.name}/licenses/{fn},,")
    for rel, text in (files or {}).items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text, encoding="utf-8")
        record.append(f"{rel},,")
    (info / "METADATA").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (info / "RECORD").write_text("\n".join(record) + "\n", encoding="utf-8")


def names(found: list[Component]) -> list[str]:
    return [c.name for c in found]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A fake app with two good dependencies, one through an extra, and a test tool of unknown licence."""
    s = tmp_path / "site"
    fake_dist(s, "fakeapp", "1.0", "Requires-Dist: good-one[fast]", "Requires-Dist: never-here; extra == 'test'")
    fake_dist(s, "good-one", "2.0", "License-Expression: MIT", "Provides-Extra: fast",
              "Requires-Dist: speedup; extra == 'fast'", "Requires-Dist: pytestish; extra == 'test'",
              "Requires-Dist: winonly; sys_platform == 'nonesuch'",
              licence_files={"LICENSE": "MIT License\nCopyright (c) good-one authors\n"})
    fake_dist(s, "speedup", "0.3", "License: Apache 2.0",
              "Classifier: License :: OSI Approved :: Apache Software License")
    fake_dist(s, "pytestish", "9.0", "License: who knows")
    return s


def test_the_closure_follows_extras_and_markers_and_leaves_test_tools_out(site: Path) -> None:
    found = components("fakeapp", [str(site)])
    assert names(found) == ["good-one", "speedup"]
    assert [c.licence for c in found] == ["MIT", "Apache-2.0"]
    assert check(found) == ([], [])
    assert found[0].texts == (("LICENSE", "MIT License\nCopyright (c) good-one authors\n"),)


@pytest.mark.parametrize(("meta", "says"), [
    (("License: Some Custom Licence",), "licence unknown"),
    (("Classifier: License :: OSI Approved :: BSD License",), "licence unknown"),   # 2-, 3- or 4-clause?
    (("License-Expression: LicenseRef-Mystery",), "not known to be compatible"),
    (("License: Proprietary",), "not compatible with GPL-3.0-or-later"),
    (("Classifier: License :: Other/Proprietary License",), "not compatible with GPL-3.0-or-later"),
    (("License-Expression: GPL-2.0-only",), "not compatible with GPL-3.0-or-later"),
    (("License-Expression: MIT AND BSD-4-Clause",), "not compatible with GPL-3.0-or-later"),
])
def test_an_unknown_or_incompatible_licence_fails_the_check_by_name(site: Path, meta: tuple[str, ...], says: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    fake_dist(site, "troublesome", "4.2", *meta)
    (site / "fakeapp-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.4\nName: fakeapp\nVersion: 1.0\nRequires-Dist: good-one\nRequires-Dist: troublesome\n",
        encoding="utf-8")
    problems, warnings = check(components("fakeapp", [str(site)]))
    assert len(problems) == 1 and warnings == []
    assert problems[0].startswith("troublesome 4.2: ") and says in problems[0]
    assert licences_script.main(["--check", "--root", "fakeapp", "--path", str(site)]) == 1
    assert "troublesome 4.2" in capsys.readouterr().err


def test_a_compatible_set_passes_the_script(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert licences_script.main(["--check", "--root", "fakeapp", "--path", str(site)]) == 0
    assert "2 runtime packages" in capsys.readouterr().out


@pytest.mark.parametrize(("expression", "expected"), [
    ("MIT", "ok"), ("Apache-2.0", "ok"), ("apache-2.0", "ok"), ("LGPL-2.1+", "ok"), ("GPL-2.0+", "ok"),
    ("GPL-2.0-or-later", "ok"), ("GPL-3.0-only", "ok"), ("MPL-2.0", "ok"), ("PSF-2.0", "ok"), ("Zlib", "ok"),
    ("LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only", "ok"),       # PySide6: one compatible choice is enough
    ("Apache-2.0 OR BSD-3-Clause", "ok"), ("(MIT OR GPL-2.0-only) AND Zlib", "ok"),
    ("Apache-2.0 WITH LLVM-exception", "ok"), ("MIT WITH Some-Restriction", "unknown"),
    ("GPL-2.0-only", "incompatible"), ("GPL-2.0", "incompatible"), ("MIT AND GPL-2.0-only", "incompatible"),
    ("GPL-2.0-only OR LicenseRef-Mystery", "unknown"), ("MIT AND", "unknown"), ("", "unknown"),
])
def test_spdx_expressions(expression: str, expected: str) -> None:
    assert verdict(expression) == expected


def test_a_review_holds_only_while_the_metadata_says_what_was_reviewed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_dist(site, "fakeapp", "1.0", "Requires-Dist: pyserial")
    fake_dist(site, "pyserial", "3.5", "License: BSD", "Classifier: License :: OSI Approved :: BSD License")
    (found,) = components("fakeapp", [str(site)])
    assert found.licence == "BSD-3-Clause" and found.source.startswith("reviewed: ")
    assert found.notes == ("The package ships no licence file.",)

    other = tmp_path / "other"
    fake_dist(other, "fakeapp", "1.0", "Requires-Dist: pyserial")
    fake_dist(other, "pyserial", "4.0", "License: BSD")  # a new release's metadata: read it again
    (found,) = components("fakeapp", [str(other)])
    assert found.licence is None and check([found])[0]


def test_a_pending_decision_warns_for_its_version_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An incompatible licence awaiting the owner's decision (as xlrd's 4-clause BSD part was, until
    python-calamine replaced it) warns for the version listed and fails for any other."""
    meta = ("License-Expression: BSD-3-Clause AND BSD-4-Clause",)
    monkeypatch.setitem(licences.PENDING_DECISION, "oldreader", ("2.0.2", "replace it or accept the clause"))
    for version, fails in (("2.0.2", False), ("9.9.9", True)):
        site = tmp_path / version
        fake_dist(site, "fakeapp", "1.0", "Requires-Dist: oldreader")
        fake_dist(site, "oldreader", version, *meta)
        problems, warnings = check(components("fakeapp", [str(site)]))
        assert bool(problems) is fails and bool(warnings) is not fails
        assert "BSD-4-Clause is not compatible" in (problems or warnings)[0]


def test_nothing_awaits_a_decision_and_xlrd_is_gone(real: list[Component]) -> None:
    """xlrd (4-clause BSD part) was replaced by python-calamine (MIT, read from its License-Expression)."""
    assert licences.PENDING_DECISION == {} and "xlrd" not in licences.REVIEWED
    by_key = {c.key: c for c in real}
    assert "xlrd" not in by_key
    assert (by_key["python-calamine"].licence, by_key["python-calamine"].source) == ("MIT", "License-Expression")


def test_an_unreviewed_library_vendored_in_pyav_fails(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_dist(site, "fakeapp", "1.0", "Requires-Dist: av")
    fake_dist(site, "av", "18.0", "License-Expression: BSD-3-Clause",
              files={"av.libs/libx264-abc.so.165": "", "av.libs/libmystery-123.so.1": "", "av/__init__.py": ""})
    (found,) = components("fakeapp", [str(site)])
    assert [(n.file, n.component, n.licence) for n in found.native] == [
        ("libmystery-123.so.1", None, None), ("libx264-abc.so.165", "x264", "GPL-2.0-or-later")]
    assert check([found])[0] == ["av 18.0 bundles libmystery-123.so.1: not reviewed (add it to NATIVE in "
                                 "src/packdesk/licences.py)"]


# ---------------------------------------------------------------------------------------------- this environment


@pytest.fixture(scope="module")
def real() -> list[Component]:
    return components()


def test_the_installed_runtime_packages_pass(real: list[Component]) -> None:
    problems, warnings = check(real)
    assert problems == []
    assert all(w.startswith(tuple(f"{n} " for n in licences.PENDING_DECISION)) for w in warnings)
    found = {c.key for c in real}
    assert {"pyside6-essentials", "av", "opencv-python-headless", "sqlalchemy", "psycopg-binary"} <= found
    assert not found & {"pytest", "pytest-qt", "hypothesis", "ruff", "zxing-cpp", "pypdfium2", "packdesk"}


def section(text: str, name: str) -> str:
    """One package's part of THIRD-PARTY-NOTICES."""
    m = re.search(rf"\n{re.escape(name)} \S+\nLicence: ", text)
    assert m is not None, name
    end = text.find("\n" + "=" * 78 + "\n", text.index("\n" + "=" * 78 + "\n", m.end()) + 1)
    return text[m.start():end if end != -1 else None]


def test_the_notices_carry_qt_ffmpeg_x264_and_opencv_texts(real: list[Component]) -> None:
    text = licences.notices(real)
    assert text.startswith(f"PackDesk {licences.__version__} — third-party notices")
    assert "ABSOLUTELY NO WARRANTY" in text
    qt = section(text, "PySide6_Essentials")
    assert "Licence: LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only" in qt
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in qt and "Version 3, 29 June 2007" in qt
    av = section(text, "av")
    assert "Licence: BSD-3-Clause" in av and "Redistribution and use in source and binary forms" in av
    assert "x264, GPL-2.0-or-later" in av and "FFmpeg, LGPL-3.0-or-later" in av
    assert "GNU GENERAL PUBLIC LICENSE" in av and "Version 2, June 1991" in av
    assert "FFmpeg, as built into this wheel" in av and "--enable-libx264" in av
    cv = section(text, "opencv-python-headless")
    assert "Licence: Apache-2.0" in cv and "Apache License" in cv and "FFmpeg is redistributed" in cv
    for c in real:  # every package is in the table and has a section
        assert f"\n{c.name} {c.version}\nLicence: " in text


def test_the_licence_texts_kept_in_the_repository_are_the_verbatim_ones() -> None:
    """LICENSE and resources/licences are the FSF's texts (not retyped): their first and last lines."""
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.split()[:7] == ["GNU", "GENERAL", "PUBLIC", "LICENSE", "Version", "3,", "29"]
    assert license_text.rstrip().endswith("<https://www.gnu.org/licenses/why-not-lgpl.html>.")
    assert licences.licence_text() == license_text
    heads = {"GPL-2.0.txt": "Version 2, June 1991", "LGPL-2.0.txt": "Version 2, June 1991",
             "LGPL-2.1.txt": "Version 2.1, February 1999", "LGPL-3.0.txt": "Version 3, 29 June 2007"}
    for name, version in heads.items():
        assert version in (ROOT / "resources" / "licences" / name).read_text(encoding="utf-8")[:300]


def test_a_bundle_reads_the_files_the_build_put_in_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In the PyInstaller bundle (``sys._MEIPASS``) About shows the files the spec wrote, not a new walk."""
    (tmp_path / "LICENSE").write_text("the bundled licence\n", encoding="utf-8")
    (tmp_path / "THIRD-PARTY-NOTICES").write_text("the bundled notices\n", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(licences, "components", lambda *a, **k: pytest.fail("walked the packages"))
    assert licences.licence_text() == "the bundled licence\n"
    assert licences.notices_text() == "the bundled notices\n"
