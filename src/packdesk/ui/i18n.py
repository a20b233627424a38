"""The language of the screens.

PackDesk writes every text people read Korean first with English beside it: a literal "한국어 / English", or
a (Korean, English) pair (the catalogue ``core/words``, and ``both`` below for texts with data in them). An
English count says its noun with ``plural`` ("1 line", "2 lines"), never "1 lines" or "line(s)". ``ko``, the
default, shows them as written — the brief's rule, Korean first with English. ``en`` shows only the English,
for packers who do not read Korean. The language comes from the settings (``language``) and is set once at
start, before any window is built (settings apply at the next start).

Every screen goes through this module: a Korean literal in src/packdesk/ui is written inside ``tr``,
``both``, ``one``, ``two_lines`` or ``pair``, or in an UPPER_CASE table whose texts pass through them where shown
(tests/ui/test_i18n_sources.py reads the source for it); each screen's English test drives it and finds no
Korean but the shop's own words (tests/ui/test_i18n*.py). Not translated, on purpose: the shop's data as it
came, and the evidence sheet sent to a marketplace for a claim (its reader is outside the warehouse).
"""

from __future__ import annotations

from packdesk.core.words import HANGUL, english, korean, plural, split

__all__ = ["HANGUL", "LANGUAGES", "both", "english", "korean", "language", "one", "pair", "plural",
           "set_language", "short", "split", "tr", "two_lines"]

LANGUAGES = ("ko", "en")
_SEP = " / "

_language = "ko"


_qt_translator: object | None = None  # Qt's own Korean texts (standard buttons, file dialogs), while installed


def set_language(lang: str) -> None:
    """The screens' language, and Qt's own texts with it: ``ko`` loads Qt's Korean translation (``qtbase_ko``,
    shipped with PySide6), so a standard button says "저장", "취소", "다음 >"; ``en`` leaves Qt in English."""
    global _language
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}")
    _language = lang
    _qt_texts(lang)


def _qt_texts(lang: str) -> None:
    global _qt_translator
    from PySide6.QtCore import QCoreApplication, QLibraryInfo, QTranslator

    app = QCoreApplication.instance()
    if app is None:
        return  # no Qt application (a command-line run): nothing shows Qt's texts
    if _qt_translator is not None:
        app.removeTranslator(_qt_translator)  # type: ignore[arg-type]
        _qt_translator = None
    if lang == "ko":
        t = QTranslator(app)
        if t.load("qtbase_ko", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(t)
            _qt_translator = t


def language() -> str:
    return _language


def tr(text: str) -> str:
    """A "한국어 / English" literal in the screen's language."""
    return text if _language == "ko" else english(text)


def both(ko: str, en: str) -> str:
    """A text built with data in it (names, numbers, codes), given as its two halves."""
    return f"{ko}{_SEP}{en}" if _language == "ko" else en


def one(ko: str, en: str) -> str:
    """A short text shown in one language only (its other half is elsewhere on screen, or obvious)."""
    return ko if _language == "ko" else en


def short(text: str) -> str:
    """A "한국어 / English" text in the screen's language alone: for a field with little room (the status bar),
    whose whole text, both halves, is in its tooltip."""
    return korean(text) if _language == "ko" else english(text)


def two_lines(ko: str, en: str) -> str:
    """A longer text (a question, an explanation, an error) as a Korean line over an English one; in English,
    the English alone."""
    return f"{ko}\n{en}" if _language == "ko" else en


def pair(ko: str, en: str) -> tuple[str, str]:
    """A (Korean, English) pair for a big line and a small one under it: in English, the English is the big
    line and there is no second."""
    return (ko, en) if _language == "ko" else (en, "")
