"""What the collection window's runs table says of a run: the columns a supervisor reads at a glance (when,
which account, how, the window, how it ended, the counts in one cell, the error in words), and the rest — every
count, who started it, the error's code and detail — in the row's tooltip and the detail pane under the table.

Fifteen columns needed a horizontal scroll at 1280 px (issue #20); seven fit. The error is always words from
the catalogue (``services/collect.run_error_words``: the marketplace's own message where it gave one); its bare
code is only in the tooltip and the detail, for whoever reports it.
"""

from __future__ import annotations

from packdesk.core.enums import RunStatus
from packdesk.core.kst import kst_text
from packdesk.services.collect import RunRow
from packdesk.ui.i18n import both, one, plural, tr, two_lines

RUN_TIME = "%m-%d %H:%M"
FULL_TIME = "%Y-%m-%d %H:%M:%S"
# the columns, in order; ``RUN_COLUMNS.index`` is how the window and its tests find one
STARTED, ACCOUNT, METHOD, WINDOW, STATUS, COUNTS, ERROR = range(7)
RUN_COLUMNS = ("시작 / Started", "계정 / Account", "방식 / Method", "기간 / Window", "상태 / Status",
               "건수 / Counts", "오류 / Error")
# the widest a column grows to its contents (px); longer texts end in "…", whole in the tooltip and the detail
WIDEST = {ACCOUNT: 180, COUNTS: 260}
TRIGGER_TEXT = {"manual": "수동 / manual", "schedule": "자동 / auto", "startup": "시작 / startup",
                "excel": "엑셀 / Excel"}
STATUS_TEXT = {RunStatus.RUNNING: "진행 중 / running", RunStatus.SUCCEEDED: "완료 / done",
               RunStatus.FAILED: "실패 / failed", RunStatus.ABANDONED: "중단됨 / abandoned"}
FAILED = frozenset({RunStatus.FAILED, RunStatus.ABANDONED})


def counts_cell(run: RunRow) -> str:
    """The counts a supervisor checks, in one cell: orders collected, new lines, orders set aside; a cancel
    request, a cancellation or a tracking number only where the run had one. One language (the cell stays
    narrow); the tooltip and the detail pane say every count in both."""
    pieces = [one(f"주문 {run.orders}", plural(run.orders, "order")),
              one(f"신규 {run.registered}", f"{run.registered:,} new"),
              one(f"보류 {run.set_aside}", f"{run.set_aside:,} set aside")]
    if run.cancel_requested:
        pieces.append(one(f"취소요청 {run.cancel_requested}", plural(run.cancel_requested, "cancel request")))
    if run.cancelled:
        pieces.append(one(f"취소 {run.cancelled}", f"{run.cancelled:,} cancelled"))
    if tracking := run.tracking_registered + run.tracking_sent:
        pieces.append(one(f"송장 {tracking}", plural(tracking, "tracking number")))
    if run.returns:
        pieces.append(one(f"반품 {run.returns}", plural(run.returns, "return")))
    return " · ".join(pieces)


def cells(run: RunRow) -> tuple[str, ...]:
    """The row's texts, by ``RUN_COLUMNS``."""
    window = f"{kst_text(run.window_from, RUN_TIME)} ~ {kst_text(run.window_to, RUN_TIME)}"
    return (kst_text(run.started_at, RUN_TIME), run.account, tr(TRIGGER_TEXT.get(run.trigger, run.trigger)),
            window, tr(STATUS_TEXT[run.status]), counts_cell(run), both(*run.error) if run.error_code else "")


def all_counts(run: RunRow) -> str:
    """Every count of the run, named, on a Korean line over an English one."""
    return two_lines(
        f"주문 {run.orders} · 상품 {run.lines} · 신규 {run.registered} · 취소요청 {run.cancel_requested} · "
        f"취소 {run.cancelled} · 송장등록 {run.tracking_registered} · 송장전송 {run.tracking_sent} · "
        f"보류 {run.set_aside} · 반품 {run.returns}",
        f"{plural(run.orders, 'order')} · {plural(run.lines, 'line')} · {run.registered:,} new · "
        f"{plural(run.cancel_requested, 'cancel request')} · {run.cancelled:,} cancelled · "
        f"{run.tracking_registered:,} tracking registered · {run.tracking_sent:,} tracking sent · "
        f"{run.set_aside:,} set aside · {plural(run.returns, 'return')}")


def detail(run: RunRow) -> str:
    """The whole run for the detail pane (and the row's tooltip): when, by whom, its window, every count, the
    error in words, then its code and detail (which orders were set aside and why) for a report."""
    head = both(f"{run.account} — {kst_text(run.started_at, FULL_TIME)} 시작, 실행: {run.started_by or '-'}, "
                f"기간 {kst_text(run.window_from, RUN_TIME)} ~ {kst_text(run.window_to, RUN_TIME)}",
                f"{run.account} — started {kst_text(run.started_at, FULL_TIME)} by {run.started_by or '-'}, "
                f"window {kst_text(run.window_from, RUN_TIME)} ~ {kst_text(run.window_to, RUN_TIME)}")
    parts = [head, all_counts(run)]
    if run.error_code:
        parts.append(two_lines(*run.error))
        parts.append(both(f"코드: {run.error_code}", f"Code: {run.error_code}")
                     + (f"\n{run.error_detail}" if run.error_detail else ""))
    return "\n".join(parts)
