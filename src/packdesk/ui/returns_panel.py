"""The station's returns inspection screen (반품 검수): shown in place of the pack's while returns mode is on,
the camera picture kept beside it.

It must never be taken for packing: a purple bar says "반품 검수 / Returns inspection" above everything, the
message under it is coloured by level like the station's banner, and the buttons are the returns mode's
(the four conditions, complete, cancel, back to packing), each with its barcode as on the command sheet. The
tables show what the original parcel held (returned / sent) and every item that came out, in order, with
whether the original sent it and the condition marked. The panel only draws the returns state it is given;
every rule lives in ``core/returns.py``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from packdesk.core import words
from packdesk.core.returns import Condition, Inspection, ReturnsState
from packdesk.core.station import Command
from packdesk.services.returns import CONDITION_CODES, RETURNS_OFF
from packdesk.services.station import COMMAND_CODES, StationService
from packdesk.ui.cells import item_at
from packdesk.ui.i18n import both, one, pair, tr, two_lines
from packdesk.ui.station_view import BANNER_STYLE, CommandButton, Metrics, StationView, restyle

MODE_BG, MODE_FG = "#6a1b9a", "#ffffff"  # purple: no other screen of the station uses it
NOT_OURS_BG = QColor("#ffcdd2")
PROBLEM_BG = QColor("#ffe0b2")
SENT_COLUMNS = ("상품 / Item", "옵션 / Option", "반품 / Returned")
OUT_COLUMNS = ("#", "상품 / Item", "옵션 / Option", "보낸 상품 / Sent", "상태 / Condition")


def condition_text(condition: Condition | str) -> str:
    return both(*words.label(words.CONDITION, str(condition)))


class ReturnsPanel(QFrame):
    """The returns screen; ``command_pressed`` carries a button's barcode, as if scanned."""

    def __init__(self, view: StationView) -> None:
        super().__init__()
        self.setObjectName("returnsPanel")
        self.view = view
        self.mode_bar = QLabel(tr("반품 검수 / Returns inspection"), objectName="returnsMode")
        self.mode_bar.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner = QLabel(objectName="returnsBanner")
        self.banner.setWordWrap(True)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner_en = QLabel(objectName="returnsBannerEn")
        self.banner_en.setWordWrap(True)
        self.banner_en.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.repeat = QLabel(objectName="returnsRepeat")
        self.message_box = QFrame(objectName="returnsMessage")
        ml = QHBoxLayout(self.message_box)
        texts = QVBoxLayout()
        texts.addWidget(self.banner)
        texts.addWidget(self.banner_en)
        ml.addLayout(texts, 1)
        ml.addWidget(self.repeat)
        self.heading = QLabel(objectName="returnsHeading")  # the original order, or what to scan
        self.heading.setWordWrap(True)
        self.sent = self._table("returnsSent", SENT_COLUMNS)
        self.out = self._table("returnsOut", OUT_COLUMNS)
        tables = QHBoxLayout()
        tables.addWidget(self.sent, 2)
        tables.addWidget(self.out, 3)
        self.buttons: dict[str, CommandButton] = {}
        # seven buttons in two rows: each title a Korean line over an English one ("구성품 누락 / Missing part"
        # on one line was cut at both ends at 1280x800)
        conditions = QHBoxLayout()
        for code, condition in CONDITION_CODES.items():
            title = two_lines(*words.label(words.CONDITION, str(condition)))
            conditions.addWidget(self._button(condition, code, title), 1)
        codes = {c: code for code, c in COMMAND_CODES.items()}
        commands = QHBoxLayout()
        for what, code, title in ((Command.COMPLETE, codes[Command.COMPLETE], two_lines("검수 완료", "Complete")),
                                  (Command.CANCEL, codes[Command.CANCEL], two_lines("검수 취소", "Cancel")),
                                  (Command.LOGOUT, RETURNS_OFF, two_lines("포장으로 돌아가기", "Back to packing"))):
            commands.addWidget(self._button(what, code, title), 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.mode_bar)
        layout.addWidget(self.message_box)
        layout.addWidget(self.heading)
        layout.addLayout(tables, 1)
        layout.addLayout(conditions)
        layout.addLayout(commands)
        self.hide()

    @staticmethod
    def _table(name: str, columns: tuple[str, ...]) -> QTableWidget:
        t = QTableWidget(0, len(columns), objectName=name)
        t.setHorizontalHeaderLabels([tr(c) for c in columns])
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        t.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setSectionResizeMode(1 if name == "returnsOut" else 0, QHeaderView.ResizeMode.Stretch)
        if name == "returnsOut":  # the condition shares the room with the item: at its contents' width ("— scan
            # its condition" in both languages) it left the item's name no room at 1280x800
            t.horizontalHeader().setSectionResizeMode(len(OUT_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        return t

    def _button(self, what: Command | Condition, code: str, title: str) -> CommandButton:
        button = CommandButton(what, code, title)
        button.setObjectName("returns" + code.title().replace("-", ""))  # not the pack's buttons' names
        button.clicked.connect(lambda _=False, c=code: self.view.command_pressed.emit(c))
        self.buttons[code] = button
        return button

    def apply_metrics(self, m: Metrics) -> None:
        px = m.px
        self.setStyleSheet(f"""
            #returnsMode {{ font-size: {px("heading")}px; font-weight: bold; padding: 8px; border-radius: 8px;
                            background: {MODE_BG}; color: {MODE_FG}; }}
            #returnsBanner {{ font-size: {px("banner")}px; font-weight: bold; }}
            #returnsBannerEn {{ font-size: {px("banner_en")}px; }}
            #returnsRepeat {{ font-size: {px("repeat")}px; font-weight: bold; }}
            #returnsHeading {{ font-size: {px("heading")}px; font-weight: bold; color: {MODE_BG}; }}
            #returnsSent, #returnsOut {{ font-size: {px("rows")}px; }}
            #commandTitle {{ font-size: {px("button")}px; font-weight: bold; }}
            #commandCode {{ font-size: {px("button_code")}px; }}
        """)
        for b in self.buttons.values():
            b.apply_metrics(m)
            lines = b.title.text().count("\n")  # the pack's buttons have one title line; these two in Korean
            b.setMinimumHeight(b.minimumHeight() + lines * round(px("button") * 1.3))

    # ------------------------------------------------------------------ drawing

    def render(self, state: ReturnsState) -> None:  # type: ignore[override]
        msg = state.message
        ko, en = pair(*words.station_words(msg.code, msg.params))
        self.banner.setText(ko)
        self.banner_en.setText(en)
        self.banner_en.setVisible(bool(en))
        self.repeat.setText(f"×{msg.repeat}")
        self.repeat.setVisible(msg.repeat > 1)
        bg, fg = BANNER_STYLE[msg.level]
        restyle(self.message_box, f"#returnsMessage {{ background: {bg}; border: 6px solid {MODE_BG}; "
                                  f"border-radius: 8px; }} QLabel {{ color: {fg}; }}")
        self.message_box.setProperty("level", msg.level.value)
        insp = state.inspection or state.done
        self.buttons[COMMAND_CODES_BY[Command.COMPLETE]].setEnabled(state.inspection is not None)
        self.buttons[COMMAND_CODES_BY[Command.CANCEL]].setEnabled(state.inspection is not None)
        self.buttons[RETURNS_OFF].setEnabled(state.inspection is None)
        for code in CONDITION_CODES:
            self.buttons[code].setEnabled(bool(state.inspection and state.inspection.lines))
        self._heading(state)
        self._tables(insp)

    def _heading(self, state: ReturnsState) -> None:
        insp = state.inspection
        if insp is None:
            done = state.done
            if done is not None:
                self.heading.setText(one(f"검수 완료: {done.return_code} — ▶ 다음 반품을 스캔하세요",
                                         f"Inspected: {done.return_code} — ▶ scan the next return"))
            else:
                self.heading.setText(tr("▶ 반품 송장, 원래 송장 또는 주문번호를 스캔하세요 / "
                                        "Scan the return label, original waybill or order number"))
        elif insp.original is None:
            self.heading.setText(one(f"● 녹화 중 · 반품 {insp.return_code} — 원 주문 미확인: 원래 송장 또는 주문번호를 "
                                     f"스캔하세요",
                                     f"● Recording · return {insp.return_code} — original unknown: scan the "
                                     f"original waybill or order number"))
        else:
            o = insp.original
            self.heading.setText(one(f"● 녹화 중 · 원 송장 {o.tracking_number} · 주문 {', '.join(o.order_nos)}",
                                     f"● Recording · original waybill {o.tracking_number} · order "
                                     f"{', '.join(o.order_nos)}"))

    def _tables(self, insp: Inspection | None) -> None:
        sent = insp.original.items if insp is not None and insp.original is not None else ()
        back = insp.counts() if insp is not None else {}
        self.sent.setRowCount(len(sent))
        for row, it in enumerate(sent):
            n = back.get(it.item_id, 0)
            for col, text in enumerate((it.name, it.option_name, f"{n} / {it.quantity}")):
                cell = QTableWidgetItem(text)
                if n >= it.quantity:
                    cell.setBackground(QColor("#c8e6c9"))
                self.sent.setItem(row, col, cell)
        lines = insp.lines if insp is not None else ()
        self.out.setRowCount(len(lines))
        for row, ln in enumerate(lines):
            texts = (str(ln.line_no), ln.name or ln.code, ln.option_name,
                     tr("예 / Yes") if ln.expected else tr("아님 / Not ours"),
                     condition_text(ln.condition) if ln.condition else tr("— 상태를 스캔하세요 / scan its condition"))
            for col, text in enumerate(texts):
                cell = QTableWidgetItem(text)
                if not ln.expected:
                    cell.setBackground(NOT_OURS_BG)
                elif ln.condition not in (None, Condition.OK):
                    cell.setBackground(PROBLEM_BG)
                self.out.setItem(row, col, cell)
        if lines:
            self.out.scrollToBottom()

    def out_texts(self) -> list[tuple[str, ...]]:
        """Each item that came out as the screen shows it (tests read it)."""
        return [tuple(item_at(self.out, r, c).text() for c in range(self.out.columnCount()))
                for r in range(self.out.rowCount())]

    def sent_texts(self) -> list[tuple[str, str]]:
        return [(item_at(self.sent, r, 0).text(), item_at(self.sent, r, 2).text()) for r in range(self.sent.rowCount())]

    def level(self) -> str:
        return str(self.message_box.property("level"))


COMMAND_CODES_BY = {c: code for code, c in COMMAND_CODES.items()}


def install(view: StationView, service: StationService, action: QAction) -> ReturnsPanel:
    """Put the returns screen in the station view, drawn from the service's returns desk; the menu's switch
    follows the mode and switches it."""
    panel = ReturnsPanel(view)
    view.set_mode_panel(panel)
    panel.apply_metrics(view.metrics)

    def draw(state: ReturnsState) -> None:
        panel.render(state)
        view.show_mode(state.active)
        action.setChecked(state.active)

    service.returns.on_state = draw  # the menu's switch (``action``, checkable) follows the mode
    return panel

