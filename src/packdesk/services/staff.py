"""Staff (작업자): the packers a supervisor adds, renames, deactivates and gives badges, in the product itself.

A packer signs in at a station by scanning their badge. Without packers no waybill can be packed, so a PC
set up without the demo shop asks for at least one name (``ui/first_run.py``), and the supervisor's staff
screen (``ui/staff_view.py``) does the rest; ``packdesk staff add NAME`` does it from the command line.

Rules kept here, whoever calls:
- a name is trimmed, not empty, at most ``MAX_NAME`` characters, without line breaks or control characters
  (it is burned into every video and printed on the badge), and no two *active* packers share one (a
  deactivated 김민수 does not stop a new 김민수 being hired);
- a badge code is made here, never typed: ``PD-STAFF-`` and six characters a person cannot misread (no 0/O,
  1/I/L, 2/Z, 5/S, 8/B, 6/G), upper case because a scan read back from Hangul mode loses case and the
  station matches badges case-insensitively. It never equals another badge, an item barcode or a waybill
  number, in any case; and the prefix keeps it apart from the station's commands (``PD-CMD-``), which the
  product-link rules (``services/mapping.py``) already keep item barcodes away from, badges included;
- nothing is deleted: a deactivated packer keeps their pack sessions, scans and recordings (rows carry the
  packer's id and name as it was), cannot sign in, and can be reactivated; a new badge code makes the
  old badge worthless at once (a lost badge).

Errors are ``StaffError`` (a ``KnownError``); ``ui/messages.py`` holds their Korean and English words.
Qt-free; every function runs in the caller's one short transaction (``Database.session``).
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.enums import PackOutcome
from packdesk.core.errors import KnownError

log = logging.getLogger("packdesk.staff")

MAX_NAME = 100  # packers.name, pack_sessions.packer_name
BADGE_PREFIX = "PD-STAFF-"
BADGE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"  # nothing a person could read as another character
BADGE_LENGTH = 6  # 22**6 = 113 million codes
BADGE_TRIES = 20


class StaffError(KnownError):
    """Bad input or a packer that is gone: nothing was written."""

    code = "staff_error"


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    badge_code: str
    active: bool
    packs: int  # packs completed, at any station


def random_badge() -> str:
    return BADGE_PREFIX + "".join(secrets.choice(BADGE_ALPHABET) for _ in range(BADGE_LENGTH))


# ---------------------------------------------------------------------------------------------- names


def clean_name(raw: str) -> str:
    """The name as stored, or ``StaffError`` saying what is wrong with it."""
    name = raw.strip()
    if not name:
        raise StaffError("staff_name_empty")
    if any(unicodedata.category(ch).startswith("C") for ch in name):  # line breaks, tabs, control characters
        raise StaffError("staff_name_invalid", name=name[:40])
    if len(name) > MAX_NAME:
        raise StaffError("staff_name_too_long", limit=MAX_NAME, length=len(name))
    return name


def clean_names(lines: Iterable[str]) -> list[str]:
    """Several names, one a line (the first-run set-up): blank lines are skipped, the rest must each be a
    good name and differ from each other; at least one. The first problem raises, with its ``line`` (1-based)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            name = clean_name(raw)
        except StaffError as e:
            e.params["line"] = n
            raise
        if name.casefold() in seen:
            raise StaffError("staff_name_repeated", name=name, line=n, other=seen[name.casefold()])
        seen[name.casefold()] = n
        names.append(name)
    if not names:
        raise StaffError("staff_none")
    return names


def _check_free(s: Session, name: str, except_id: int | None = None) -> None:
    """No other active packer has this name (letter case aside). The active packers' rows are locked first, so
    two supervisors adding the same name at two stations of one server take turns (PostgreSQL; SQLite
    writes one at a time anyway)."""
    P = m.Packer
    taken = s.execute(select(P.id, P.name).where(P.active).with_for_update()).all()
    folded = name.casefold()
    if any(r.name.casefold() == folded and r.id != except_id for r in taken):
        raise StaffError("staff_name_taken", name=name)


# ---------------------------------------------------------------------------------------------- badges


def _badge_taken(s: Session, code: str) -> bool:
    folded = code.lower()
    for column in (m.Packer.badge_code, m.ItemBarcode.barcode, m.Waybill.tracking_number):
        if s.scalar(select(func.count()).where(func.lower(column) == folded)):
            return True
    return False


def _free_badge(s: Session, make_code: Callable[[], str]) -> str:
    for _ in range(BADGE_TRIES):
        code = make_code()
        if not _badge_taken(s, code):
            return code
    raise StaffError("staff_conflict", detail=f"no free badge code in {BADGE_TRIES} tries")


# ---------------------------------------------------------------------------------------------- reading


def list_staff(s: Session) -> list[StaffMember]:
    """Every packer, active first, then by name; with the packs each completed."""
    P, PS = m.Packer, m.PackSession
    packs = (select(PS.packer_id, func.count().label("n")).where(PS.outcome == PackOutcome.COMPLETED)
             .group_by(PS.packer_id).subquery())
    rows = s.execute(select(P.id, P.name, P.badge_code, P.active, func.coalesce(packs.c.n, 0).label("packs"))
                     .outerjoin(packs, packs.c.packer_id == P.id)
                     .order_by(P.active.desc(), P.name, P.id))
    return [StaffMember(r.id, r.name, r.badge_code or "", bool(r.active), int(r.packs)) for r in rows]


def get_member(s: Session, packer_id: int) -> StaffMember:
    for member in list_staff(s):  # a small table; the same row as the list shows
        if member.id == packer_id:
            return member
    raise StaffError("staff_not_found", detail=f"packer {packer_id}")


def _packer(s: Session, packer_id: int) -> m.Packer:
    packer = s.get(m.Packer, packer_id, with_for_update=True)
    if packer is None:
        raise StaffError("staff_not_found", detail=f"packer {packer_id}")
    return packer


def _flush(s: Session) -> None:
    """A badge code or name another station stored in the same instant: refused, try again."""
    try:
        s.flush()
    except IntegrityError as e:
        raise StaffError("staff_conflict", detail=str(e.orig)) from e


# ---------------------------------------------------------------------------------------------- changes


def add_packer(s: Session, name: str, *, make_code: Callable[[], str] = random_badge) -> StaffMember:
    """A new active packer with a fresh badge code."""
    name = clean_name(name)
    _check_free(s, name)
    packer = m.Packer(name=name, badge_code=_free_badge(s, make_code), active=True)
    s.add(packer)
    _flush(s)
    log.info("packer %s added: %s (badge %s)", packer.id, name, packer.badge_code)
    return StaffMember(packer.id, packer.name, packer.badge_code or "", True, 0)


def add_packers(s: Session, names: Sequence[str], *, make_code: Callable[[], str] = random_badge
                ) -> list[StaffMember]:
    """Several at once (the first-run set-up, checked there with ``clean_names``): a name an active packer
    already has is kept as it is, not added twice (set-up run again over a database that has staff)."""
    made: list[StaffMember] = []
    for name in names:
        try:
            made.append(add_packer(s, name, make_code=make_code))
        except StaffError as e:
            if e.code != "staff_name_taken":
                raise
            log.info("packer %s exists already: kept", name)
    return made


def rename_packer(s: Session, packer_id: int, name: str) -> StaffMember:
    """A new name for what they pack from now on; what they packed keeps the name it was packed under."""
    name = clean_name(name)
    packer = _packer(s, packer_id)
    if packer.active:
        _check_free(s, name, except_id=packer_id)
    old, packer.name = packer.name, name
    _flush(s)
    log.info("packer %s renamed: %s -> %s", packer_id, old, name)
    return get_member(s, packer_id)


def deactivate_packer(s: Session, packer_id: int) -> StaffMember:
    """They can no longer sign in; their history stays (a station where they are signed in signs them out
    once its open pack ends: ``core/station.py``). Deactivating twice changes nothing."""
    packer = _packer(s, packer_id)
    if packer.active:
        packer.active = False
        _flush(s)
        log.info("packer %s deactivated: %s", packer_id, packer.name)
    return get_member(s, packer_id)


def reactivate_packer(s: Session, packer_id: int) -> StaffMember:
    """Back at work with the same badge; refused while another active packer has their name (rename one)."""
    packer = _packer(s, packer_id)
    if not packer.active:
        _check_free(s, packer.name, except_id=packer_id)
        packer.active = True
        _flush(s)
        log.info("packer %s reactivated: %s", packer_id, packer.name)
    return get_member(s, packer_id)


def new_badge(s: Session, packer_id: int, *, make_code: Callable[[], str] = random_badge) -> StaffMember:
    """A lost badge: a new code; the old one stops working at every station as soon as it reloads its packers."""
    packer = _packer(s, packer_id)
    old, packer.badge_code = packer.badge_code, _free_badge(s, make_code)
    _flush(s)
    log.info("packer %s has a new badge %s (was %s)", packer_id, packer.badge_code, old)
    return get_member(s, packer_id)
