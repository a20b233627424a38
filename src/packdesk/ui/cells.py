"""A table cell a screen filled itself. ``QTableWidget.item`` is typed ``QTableWidgetItem | None`` (an empty cell
has no item); the screens read back only cells they set, so a missing one is a bug, said as one."""

from __future__ import annotations

from PySide6.QtWidgets import QTableWidget, QTableWidgetItem


def item_at(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    item = table.item(row, column)
    if item is None:
        raise LookupError(f"{table.objectName() or 'table'}: no item at row {row}, column {column}")
    return item
