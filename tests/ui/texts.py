"""What a person can read on a window, and the shop's own words that may stay Korean in any language.

Shared by the screen-language tests (tests/ui/test_i18n*.py)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTableWidget,
    QWidget,
)
from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.ui.i18n import HANGUL


def strip(text: str, data: AbstractSet[str]) -> str:
    """``text`` without the shop's own words in it."""
    for d in sorted(data, key=len, reverse=True):
        text = text.replace(d, "")
    return text


def visible_texts(root: QWidget) -> list[str]:
    """Every text a person can read on ``root`` and its menus."""
    out: list[str] = [root.windowTitle()]
    for w in root.findChildren(QWidget):
        if isinstance(w, QLabel | QAbstractButton):
            out.append(w.text())
        elif isinstance(w, QLineEdit | QPlainTextEdit):
            out.append(w.placeholderText())
        elif isinstance(w, QGroupBox):
            out.append(w.title())
        elif isinstance(w, QComboBox):
            out.extend(w.itemText(i) for i in range(w.count()))
        elif isinstance(w, QTableWidget):
            out.extend(w.horizontalHeaderItem(c).text() for c in range(w.columnCount()))
            out.extend(w.item(r, c).text() for r in range(w.rowCount()) for c in range(w.columnCount())
                       if w.item(r, c) is not None)
        elif isinstance(w, QMenu):
            out.append(w.title())
            out.extend(a.text() for a in w.actions())
        out.append(w.toolTip())
    return [t for t in out if t]


def shop_words(db: Database) -> set[str]:
    """Names that come from the shop as they are: items, options, recipients and their addresses and delivery
    messages, packers, products (ordered and in the synced catalogue), accounts."""
    columns = (m.Item.name, m.Item.option_name, m.Order.recipient_name, m.Order.address, m.Order.delivery_message,
               m.Packer.name, m.OrderLine.product_name, m.ChannelAccount.name, m.SalesProduct.product_name,
               m.SalesProduct.option_name)
    with db.session() as s:
        data = {w for c in columns for w in s.scalars(select(c))} \
            | {f"{r.product_name} {r.option_name}" for r in s.execute(select(m.OrderLine.product_name,
                                                                               m.OrderLine.option_name))}
    return {d for d in data if d}


def korean_left(texts: list[str], data: AbstractSet[str] = frozenset()) -> list[str]:
    """The texts that still hold Korean once the shop's own words are taken out."""
    return sorted({t for t in texts if HANGUL.search(strip(t, data))})
