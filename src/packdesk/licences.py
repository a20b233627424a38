"""The licences of what PackDesk ships, read from the installed packages.

PackDesk is GPL-3.0-or-later: the recorder encodes H.264 with x264, which PyAV's wheel bundles, and x264 is
GPL. A bundle may only hold what can be given on under the GPL-3.0 with it, and it must carry every component's
licence and notices. This module walks the packages PackDesk needs at run time (its ``Requires-Dist``, extras
and environment markers followed, test tools not), reads each one's licence from its metadata (the SPDX
``License-Expression``, else a ``License`` that is an SPDX expression or a known alias, else its licence
classifiers), and judges it against ``COMPATIBLE``. What the metadata leaves ambiguous ("BSD", a bare "BSD
License" classifier) is settled only by ``REVIEWED``, an entry that applies while the metadata still says what
was reviewed. ``notices`` writes THIRD-PARTY-NOTICES from the same walk: each package's licence files, the
texts wheels do not ship (Qt's LGPL, FFmpeg's and x264's licences, from ``resources/licences``), and the native
libraries a wheel vendors.

The build (installer/packdesk.spec, scripts/licences.py) writes the file into the bundle and the installer; the
About dialog reads it from there and, in a source checkout, makes it here from the installed packages. Nothing
here imports Qt.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packdesk import APP_NAME, __version__
from packdesk.paths import resources_dir

OUR_LICENCE = "GPL-3.0-or-later"
ROOT_PACKAGE = "packdesk"
LICENSE_NAME = "LICENSE"
NOTICES_NAME = "THIRD-PARTY-NOTICES"

# SPDX licences whose code may be combined with GPL-3.0-or-later code and the whole given on under the GPL-3.0
# (the FSF's list of GPL-compatible licences). Apache-2.0 is here although it is not compatible with GPL-2.0-only:
# its patent-termination and indemnity terms are "further restrictions" the GPL v2 forbids, while the GPL v3 was
# written to accept them (its sections 10 and 11 on patents) — so Apache code may sit in a GPL-3.0 bundle, not in
# a GPL-2.0-only one. The "-only" GPL/LGPL 3 are fine because the bundle as a whole is given on under version 3;
# the LGPL 2.x allow their code to be taken under the GPL 2 "or any later version". MPL-2.0 names the GPL as a
# secondary licence (unless a file says "Incompatible With Secondary Licenses").
COMPATIBLE: frozenset[str] = frozenset({
    "0BSD", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "BSD-3-Clause-Clear", "BSL-1.0", "CC0-1.0", "HPND",
    "ISC", "MIT", "MIT-0", "MIT-CMU", "NCSA", "OLDAP-2.8", "PostgreSQL", "PSF-2.0", "Python-2.0", "Unlicense",
    "X11", "Zlib", "curl",
    "LGPL-2.0-only", "LGPL-2.0-or-later", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only",
    "LGPL-3.0-or-later", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later", "MPL-2.0",
})
# Exceptions that only add permissions (``X WITH e`` is then as compatible as ``X``).
ADDITIVE_EXCEPTIONS: frozenset[str] = frozenset({"LLVM-exception", "GCC-exception-3.1", "Classpath-exception-2.0"})
# Known and not compatible with GPL-3.0, each for a reason a reader of the check's message can look up.
INCOMPATIBLE: dict[str, str] = {
    "GPL-2.0-only": "GPL version 2 only: cannot be given on under version 3",
    "BSD-4-Clause": "the advertising clause is a restriction the GPL forbids",
    "Apache-1.1": "its naming and advertising terms are restrictions the GPL forbids",
    "MPL-1.1": "no GPL secondary licence",
    "EPL-1.0": "choice of law and patent terms the GPL forbids",
    "EPL-2.0": "compatible only where a secondary licence is named",
    "CDDL-1.0": "file-level copyleft with terms the GPL forbids",
    "CDDL-1.1": "file-level copyleft with terms the GPL forbids",
    "SSPL-1.0": "service terms the GPL forbids",
    "BUSL-1.1": "not a free licence",
    "LicenseRef-Proprietary": "not a free licence",
}
# Free-text ``License`` values that name one licence unambiguously. "BSD" is not here: it may be the 2-, 3- or
# 4-clause licence, and the last is not compatible.
ALIASES: dict[str, str] = {
    "mit": "MIT", "mit license": "MIT",
    "apache 2.0": "Apache-2.0", "apache-2.0": "Apache-2.0", "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0", "apache software license 2.0": "Apache-2.0",
    "isc": "ISC", "mpl-2.0": "MPL-2.0", "mpl 2.0": "MPL-2.0", "3-clause bsd license": "BSD-3-Clause",
    "proprietary": "LicenseRef-Proprietary", "commercial": "LicenseRef-Proprietary",
}
# Trove classifiers that name one licence. "BSD License", "Apache Software License" and "GNU Library or Lesser
# General Public License (LGPL)" name a family with a member that is not compatible (BSD-4-Clause, Apache-1.1,
# LGPL-2.0-only is fine but the classifier is used for anything): they leave the licence unknown.
CLASSIFIERS: dict[str, str] = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: zlib/libpng License": "Zlib",
    "License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "License :: OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "License :: Other/Proprietary License": "LicenseRef-Proprietary",
}
# Deprecated SPDX ids and the "+" suffix, as their current ids.
_DEPRECATED = {"GPL-2.0": "GPL-2.0-only", "GPL-3.0": "GPL-3.0-only", "LGPL-2.0": "LGPL-2.0-only",
               "LGPL-2.1": "LGPL-2.1-only", "LGPL-3.0": "LGPL-3.0-only"}


@dataclass(frozen=True)
class Reviewed:
    """A licence read by a person where the metadata is ambiguous. ``says`` is the metadata as reviewed
    (``metadata_licence``): when a new version says something else, the review no longer applies."""

    licence: str
    says: str
    reason: str


REVIEWED: dict[str, Reviewed] = {
    "pyserial": Reviewed(
        "BSD-3-Clause", "License: BSD; License :: OSI Approved :: BSD License",
        "pyserial's LICENSE.txt (in its source, not in the wheel) is the 3-clause BSD licence, and every source "
        "file says SPDX-License-Identifier: BSD-3-Clause"),
    "segno": Reviewed(
        "BSD-3-Clause", "License :: OSI Approved :: BSD License",
        "segno's LICENSE (in the wheel) is the 3-clause BSD licence: retain the notice, reproduce it in binary "
        "forms, no endorsement"),
    "python-dateutil": Reviewed(
        "Apache-2.0 AND BSD-3-Clause",
        "License: Dual License; License :: OSI Approved :: BSD License; License :: OSI Approved :: Apache Software "
        "License",
        "dateutil's LICENSE (in the wheel): contributions after 2017-12-01 and re-licensed ones are Apache-2.0, the "
        "older code 3-clause BSD; both apply together (botocore needs it)"),
}

# Known incompatibilities the owner has yet to decide on: the check names them on every run but does not fail,
# for the version listed only (a new version is checked again). Keep this empty unless a decision is pending.
PENDING_DECISION: dict[str, tuple[str, str]] = {}


@dataclass(frozen=True)
class Supplement:
    """A licence text a wheel does not carry, from ``resources/licences``, and why it applies."""

    file: str
    why: str


# Texts the wheels leave out. PySide6's wheels ship no licence file; PyAV's wheel ships only PyAV's own BSD text
# although it vendors FFmpeg (which reports "LGPL version 3 or later"), x264 and x265 (GPL-2.0-or-later) and
# LGPL libraries (see NATIVE). The GPL-3.0 text these refer to is PackDesk's own LICENSE.
SUPPLEMENTS: dict[str, tuple[Supplement, ...]] = {
    "pyside6-essentials": (Supplement("LGPL-3.0.txt", "Qt and Qt for Python, used under the LGPL-3.0 (its GPL "
                                                      "alternatives are the GPL-2.0 and the GPL-3.0, in LICENSE)"),),
    "pyside6-addons": (Supplement("LGPL-3.0.txt", "as PySide6-Essentials"),),
    "shiboken6": (Supplement("LGPL-3.0.txt", "as PySide6-Essentials"),),
    "av": (
        Supplement("GPL-2.0.txt", "x264 and x265, vendored in av.libs, are GPL-2.0-or-later (taken here under "
                                  "the GPL-3.0, in LICENSE)"),
        Supplement("LGPL-3.0.txt", "FFmpeg as built into this wheel reports \"LGPL version 3 or later\"; Nettle, "
                                   "GMP and libunistring are LGPL-3.0-or-later or GPL-2.0-or-later"),
        Supplement("LGPL-2.1.txt", "GnuTLS and alsa-lib, vendored in av.libs, are LGPL-2.1-or-later"),
        Supplement("LGPL-2.0.txt", "LAME (libmp3lame), vendored in av.libs, is LGPL-2.0-or-later"),
    ),
}


@dataclass(frozen=True)
class NativeRule:
    pattern: str   # the library's file name, without a leading "lib", starts with this (regular expression)
    component: str
    licence: str


# The native libraries PyAV's wheel vendors, by file name (auditwheel's av.libs/libx264-….so.165, delvewheel's
# av.libs/libx264-….dll), read from each project's licence. PyAV's own metadata says BSD-3-Clause; these are why
# the bundle is GPL. A library not matched here fails the check until someone reads its licence.
NATIVE: dict[str, tuple[NativeRule, ...]] = {
    "av": (
        NativeRule(r"(avcodec|avformat|avutil|avdevice|avfilter|swscale|swresample|postproc)\b", "FFmpeg",
                   "LGPL-3.0-or-later"),
        NativeRule(r"x264\b", "x264", "GPL-2.0-or-later"),
        NativeRule(r"x265\b", "x265", "GPL-2.0-or-later"),
        NativeRule(r"SvtAv1Enc\b", "SVT-AV1", "BSD-3-Clause-Clear"),
        NativeRule(r"dav1d\b", "dav1d", "BSD-2-Clause"),
        NativeRule(r"aom\b", "libaom", "BSD-2-Clause"),
        NativeRule(r"mp3lame\b", "LAME", "LGPL-2.0-or-later"),
        NativeRule(r"opencore-amr(nb|wb)\b", "opencore-amr", "Apache-2.0"),
        NativeRule(r"opus\b", "Opus", "BSD-3-Clause"),
        NativeRule(r"vpx\b", "libvpx", "BSD-3-Clause"),
        NativeRule(r"(webp|webpmux|sharpyuv)\b", "libwebp", "BSD-3-Clause"),
        NativeRule(r"vpl\b", "oneVPL", "MIT"),
        NativeRule(r"gnutls\b", "GnuTLS", "LGPL-2.1-or-later"),
        NativeRule(r"(nettle|hogweed)\b", "Nettle", "LGPL-3.0-or-later OR GPL-2.0-or-later"),
        NativeRule(r"gmp\b", "GMP", "LGPL-3.0-or-later OR GPL-2.0-or-later"),
        NativeRule(r"unistring\b", "libunistring", "LGPL-3.0-or-later OR GPL-2.0-or-later"),
        NativeRule(r"asound\b", "alsa-lib", "LGPL-2.1-or-later"),
        NativeRule(r"(xcb|xcb-shape|xcb-shm|xcb-xfixes|Xau)\b", "X.Org libxcb / libXau", "MIT"),
        NativeRule(r"drm\b", "libdrm", "MIT"),
        NativeRule(r"z\b|zlib", "zlib", "Zlib"),
    ),
}


# ---------------------------------------------------------------------------------------------- SPDX expressions

_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9.+:-]+)")


def _tokens(expression: str) -> list[str] | None:
    out: list[str] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            return None
        out.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _canonical(licence: str) -> str:
    if licence.endswith("+"):
        licence = licence[:-1] + "-or-later"
        licence = licence.replace("-only-or-later", "-or-later")
    licence = _DEPRECATED.get(licence, licence)
    known = {k.lower(): k for k in (*COMPATIBLE, *INCOMPATIBLE)}  # SPDX ids are case-insensitive
    return known.get(licence.lower(), licence)


class _Parser:
    """SPDX license expressions: ``or := and ("OR" and)*``, ``and := atom ("AND" atom)*``,
    ``atom := "(" or ")" | id ["WITH" exception]``; evaluated to "ok", "unknown" or "incompatible"."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0
        self.ids: list[str] = []

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        tok = self.tokens[self.at]
        self.at += 1
        return tok

    def parse(self) -> str:
        verdict = self.any_of()
        if self.peek() is not None:
            raise ValueError("trailing tokens")
        return verdict

    def any_of(self) -> str:
        verdicts = [self.all_of()]
        while self.peek() == "OR":
            self.take()
            verdicts.append(self.all_of())
        for v in ("ok", "unknown"):
            if v in verdicts:
                return v
        return "incompatible"

    def all_of(self) -> str:
        verdicts = [self.atom()]
        while self.peek() == "AND":
            self.take()
            verdicts.append(self.atom())
        for v in ("incompatible", "unknown"):
            if v in verdicts:
                return v
        return "ok"

    def atom(self) -> str:
        tok = self.peek()
        if tok is None or tok in ("AND", "OR", "WITH", ")"):
            raise ValueError("licence expected")
        self.take()
        if tok == "(":
            verdict = self.any_of()
            if self.peek() != ")":
                raise ValueError("missing )")
            self.take()
            return verdict
        licence = _canonical(tok)
        self.ids.append(licence)
        verdict = "ok" if licence in COMPATIBLE else "incompatible" if licence in INCOMPATIBLE else "unknown"
        if self.peek() == "WITH":
            self.take()
            exception = self.take() if self.peek() else ""
            if exception not in ADDITIVE_EXCEPTIONS and verdict == "ok":
                verdict = "unknown"
        return verdict


def verdict(expression: str) -> str:
    """"ok" when code under ``expression`` may be given on in a GPL-3.0-or-later bundle, "incompatible" when
    it may not, "unknown" when this module cannot tell (an id it does not know, or not an SPDX expression)."""
    tokens = _tokens(expression)
    if not tokens:
        return "unknown"
    try:
        return _Parser(tokens).parse()
    except (ValueError, IndexError):
        return "unknown"


def _is_spdx(expression: str) -> bool:
    """An expression every id of which this module knows (a free-text ``License`` can look like one)."""
    tokens = _tokens(expression)
    if not tokens:
        return False
    parser = _Parser(tokens)
    try:
        parser.parse()
    except (ValueError, IndexError):
        return False
    return all(i in COMPATIBLE or i in INCOMPATIBLE for i in parser.ids)


# ---------------------------------------------------------------------------------------------- packages


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _field(meta: md.PackageMetadata, name: str) -> str:
    """A metadata field's first value, "" when absent (the protocol has ``get_all``, not ``get``)."""
    values = meta.get_all(name) or []
    return str(values[0]) if values else ""


def metadata_licence(dist: md.Distribution) -> str:
    """What the metadata says about the licence, as one line (what ``Reviewed.says`` is compared with)."""
    meta = dist.metadata
    parts: list[str] = []
    if expr := _field(meta, "License-Expression").strip():
        parts.append(f"License-Expression: {expr}")
    lic = _field(meta, "License").strip()
    if lic and lic.upper() != "UNKNOWN":
        parts.append(f"License: {lic.splitlines()[0][:80]}")
    parts += [c for c in (meta.get_all("Classifier") or []) if c.startswith("License ::")]
    return "; ".join(parts)


def read_licence(dist: md.Distribution) -> tuple[str | None, str]:
    """(SPDX expression or ``None`` when unknown, where it was read)."""
    meta = dist.metadata
    if expr := _field(meta, "License-Expression").strip():
        return expr, "License-Expression"
    lic = _field(meta, "License").strip()
    if lic and "\n" not in lic and len(lic) <= 100:  # longer: the licence's text, not its name
        if _is_spdx(lic):
            return lic, "License"
        if (alias := ALIASES.get(lic.lower())) is not None:
            return alias, f"License: {lic!r}"
    classifiers = [c for c in (meta.get_all("Classifier") or []) if c.startswith("License ::")]
    mapped = [CLASSIFIERS.get(c) for c in classifiers]
    if classifiers and all(mapped):
        return " AND ".join(dict.fromkeys(m for m in mapped if m)), "classifiers"
    review = REVIEWED.get(normalize(meta["Name"]))
    if review is not None and review.says == metadata_licence(dist):
        return review.licence, f"reviewed: {review.reason}"
    return None, metadata_licence(dist) or "no licence in the metadata"


def _requirement_class() -> type:
    # ``packaging`` is a build and development tool here (pip and pytest need it), imported by name so that
    # PyInstaller does not put it in the bundle: the bundle reads the notices written at build time.
    return importlib.import_module("packaging.requirements").Requirement


def runtime_closure(root: str = ROOT_PACKAGE, path: list[str] | None = None,
                    requires: list[str] | None = None) -> list[md.Distribution]:
    """The distributions ``root`` needs at run time on this machine, ``root`` itself not included: its
    requirements (``requires``, else its installed metadata's) and theirs, with the extras they ask for, where
    their markers hold here (a Windows-only dependency is in the closure on the Windows build machine). Test
    tools (``extra == "test"``) are not."""
    requirement = _requirement_class()
    found: dict[str, md.Distribution] = {}
    done: dict[str, set[str]] = {normalize(root): {""}}  # per package: the extras whose requirements are in
    todo: list[tuple[str, frozenset[str]]] = [(r.name, frozenset(r.extras)) for r in map(requirement, requires or [])
                                              if r.marker is None or r.marker.evaluate({"extra": ""})]
    if requires is None:
        todo, done = [(root, frozenset())], {}
    while todo:
        name, extras = todo.pop()
        key = normalize(name)
        wanted = ({""} | set(extras)) - done.setdefault(key, set())
        if not wanted:
            continue
        dist = found.get(key) or _find(name, path)
        if dist is None:
            raise LookupError(f"{name} is required but not installed")
        found[key] = dist
        done[key] |= wanted
        for line in dist.requires or []:
            req = requirement(line)
            if (req.marker is None and "" in wanted) or (
                    req.marker is not None and any(req.marker.evaluate({"extra": e}) for e in wanted)):
                todo.append((req.name, frozenset(req.extras)))
    found.pop(normalize(root), None)
    return sorted(found.values(), key=lambda d: normalize(d.metadata["Name"]))


def _find(name: str, path: list[str] | None) -> md.Distribution | None:
    for dist in md.distributions(name=name, path=path if path is not None else sys.path):
        return dist
    return None


# ---------------------------------------------------------------------------------------------- what to print


@dataclass(frozen=True)
class Native:
    """A native library a wheel vendors. Only the wheels in ``NATIVE`` are judged (``reviewed``); a judged
    library with no ``licence`` is one nobody has read yet."""

    file: str
    component: str | None = None
    licence: str | None = None
    reviewed: bool = True


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    licence: str | None
    source: str
    texts: tuple[tuple[str, str], ...] = ()      # (title, text)
    native: tuple[Native, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return normalize(self.name)

    def problems(self) -> list[str]:
        """What keeps this component out of a GPL-3.0-or-later bundle (empty when nothing does)."""
        out: list[str] = []
        who = f"{self.name} {self.version}"
        if self.licence is None:
            out.append(f"{who}: licence unknown (the metadata says {self.source!r}); read it and add it to "
                       "REVIEWED in src/packdesk/licences.py")
        else:
            v = verdict(self.licence)
            if v == "incompatible":
                out.append(f"{who}: {self.licence} is not compatible with {OUR_LICENCE}")
            elif v == "unknown":
                out.append(f"{who}: licence {self.licence!r} is not known to be compatible with {OUR_LICENCE}")
        for lib in (n for n in self.native if n.reviewed):
            if lib.licence is None:
                out.append(f"{who} bundles {lib.file}: not reviewed (add it to NATIVE in src/packdesk/licences.py)")
            elif verdict(lib.licence) != "ok":
                out.append(f"{who} bundles {lib.file} ({lib.component}, {lib.licence}): not compatible with "
                           f"{OUR_LICENCE}")
        return out


def _licence_files(dist: md.Distribution) -> Iterator[tuple[str, str]]:
    names = dist.metadata.get_all("License-File") or []
    seen: set[str] = set()
    for name in names:
        for where in (f"licenses/{name}", name):  # metadata 2.4 puts them under licenses/, older at the top
            text = dist.read_text(where)
            if text is not None and name not in seen:
                seen.add(name)
                yield name, text
                break
    if not names:  # an old wheel: whatever licence-like file its .dist-info holds
        for f in dist.files or []:
            if (len(f.parts) >= 2 and f.parts[0].endswith(".dist-info")
                    and re.search(r"LICEN[CS]E|COPYING|NOTICE", f.name, re.IGNORECASE)):
                text = dist.read_text("/".join(f.parts[1:]))
                if text is not None:
                    yield f.name, text


def _vendored(dist: md.Distribution) -> list[str]:
    """The native libraries a wheel carries beside its package (auditwheel and delvewheel's ``<name>.libs``,
    delocate's ``.dylibs``)."""
    out = []
    for f in dist.files or []:
        if any(p.endswith(".libs") or p == ".dylibs" for p in f.parts[:-1]) and not f.name.endswith(".pyc"):
            out.append(f.name)
    return sorted(out)


def _native(dist_key: str, files: list[str]) -> tuple[Native, ...]:
    rules = NATIVE.get(dist_key)
    out: list[Native] = []
    for name in files:
        stem = name[3:] if name.startswith("lib") else name
        rule = next((r for r in rules or () if re.match(r.pattern, stem)), None)
        if rules is None:
            out.append(Native(name, reviewed=False))  # listed, not judged: see NATIVE
        else:
            out.append(Native(name, rule.component if rule else None, rule.licence if rule else None))
    return tuple(out)


def _ffmpeg_build() -> str | None:
    """FFmpeg's own words on its licence and build, from the libraries PyAV loads."""
    try:
        meta: dict[str, dict[str, Any]] = importlib.import_module("av._core").library_meta
    except Exception:  # no PyAV here, or one without library_meta
        return None
    lines = [f"{lib} {'.'.join(map(str, m['version']))}: {m['license']}" for lib, m in sorted(meta.items())]
    configuration = next(iter(meta.values()), {}).get("configuration", "")
    return "\n".join([*lines, "", f"configuration: {configuration}"])


def component(dist: md.Distribution, *, resources: Path | None = None) -> Component:
    name = dist.metadata["Name"]
    key = normalize(name)
    licence, source = read_licence(dist)
    texts = list(_licence_files(dist))
    notes: list[str] = []
    if not texts:
        notes.append("The package ships no licence file.")
    folder = (resources or resources_dir()) / "licences"
    for sup in SUPPLEMENTS.get(key, ()):
        texts.append((f"{sup.file} — {sup.why}", (folder / sup.file).read_text(encoding="utf-8")))
    if key == "av" and (build := _ffmpeg_build()) is not None:
        texts.append(("FFmpeg, as built into this wheel (its own report)", build))
    if key in NATIVE:
        notes.append("The wheel ships no licence texts of the native libraries it vendors; their licences are "
                     "listed below, and the texts they refer to are included here.")
    return Component(name, dist.version, licence, source, tuple(texts), _native(key, _vendored(dist)), tuple(notes))


def project_requirements() -> list[str] | None:
    """PackDesk's own dependencies from pyproject.toml in a source checkout (the installed metadata may be older
    than the checkout); ``None`` elsewhere."""
    pyproject = _source_root() / "pyproject.toml"
    if not pyproject.is_file():
        return None
    import tomllib

    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    return list(project.get("dependencies", [])) if project.get("name") == ROOT_PACKAGE else None


def components(root: str = ROOT_PACKAGE, path: list[str] | None = None, *,
               resources: Path | None = None) -> list[Component]:
    """Every package ``root`` ships (PackDesk: from this checkout's pyproject.toml when there is one), with its
    licence, texts and vendored libraries; ``path`` instead of ``sys.path`` to look for them."""
    requires = project_requirements() if root == ROOT_PACKAGE and path is None else None
    closure = runtime_closure(root, path, requires)
    return [component(d, resources=resources) for d in closure]


def check(found: Iterable[Component]) -> tuple[list[str], list[str]]:
    """(problems that fail the build, warnings): a pending decision (``PENDING_DECISION``) is a warning for the
    version it names."""
    problems: list[str] = []
    warnings: list[str] = []
    for c in found:
        pending = PENDING_DECISION.get(c.key)
        for p in c.problems():
            if pending is not None and pending[0] == c.version:
                warnings.append(f"{p} — decision pending: {pending[1]}")
            else:
                problems.append(p)
    return problems, warnings


_RULE = "=" * 78


def notices(found: Iterable[Component]) -> str:
    """THIRD-PARTY-NOTICES: a table of every bundled package, then each one's licence and texts."""
    found = list(found)
    head = [
        f"{APP_NAME} {__version__} — third-party notices",
        "",
        f"{APP_NAME} is free software under the GNU General Public License, version 3 or (at your option) any",
        "later version (GPL-3.0-or-later; the text is in LICENSE). It comes with ABSOLUTELY NO WARRANTY.",
        "It ships the packages below, each under its own licence, all of which allow it to be given on",
        "under the GPL-3.0. Written from the installed packages by scripts/licences.py.",
        "",
    ]
    width = max((len(c.name) for c in found), default=10) + 2
    head += [f"{c.name:<{width}}{c.version:<16}{c.licence or 'UNKNOWN'}" for c in found]
    body: list[str] = []
    for c in found:
        body += ["", _RULE, f"{c.name} {c.version}", f"Licence: {c.licence or 'UNKNOWN'} ({c.source})", _RULE]
        body += list(c.notes)
        if c.native:
            body.append("")
            body.append("Native libraries vendored in the wheel:")
            for lib in c.native:
                what = (f" — {lib.component}, {lib.licence}" if lib.component
                        else " — not reviewed" if lib.reviewed else "")
                body.append(f"  {lib.file}{what}")
        for title, text in c.texts:
            body += ["", f"----- {title} -----", text.rstrip("\n")]
    return "\n".join(head + body) + "\n"


# ---------------------------------------------------------------------------------------------- for the About dialog


def _source_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _bundle_file(name: str) -> Path | None:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and (Path(bundle) / name).is_file():
        return Path(bundle) / name
    return None


def licence_text() -> str:
    """PackDesk's LICENSE: from the bundle, the source checkout, or the installed package's metadata."""
    for candidate in (_bundle_file(LICENSE_NAME), _source_root() / LICENSE_NAME):
        if candidate is not None and candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    try:
        dist = md.distribution(ROOT_PACKAGE)
    except md.PackageNotFoundError:
        return ""
    return next((text for _, text in _licence_files(dist)), "")


def notices_text() -> str:
    """THIRD-PARTY-NOTICES as written into the bundle, or made now from the installed packages (a source
    checkout, or a PackDesk installed with pip)."""
    bundled = _bundle_file(NOTICES_NAME)
    if bundled is not None:
        return bundled.read_text(encoding="utf-8")
    return notices(components())
