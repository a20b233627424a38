"""Staff (services/staff.py): packers added, renamed, deactivated and given new badges by the rules, and the
station (services/station.py, without Qt) following each change as soon as it reloads its packers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core import queries
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome, ScanKind
from packdesk.core.station import Msg, PackerRef, Sound
from packdesk.services import mapping as mp
from packdesk.services import staff
from packdesk.services.staff import StaffError, StaffMember
from packdesk.services.station import COMMAND_PREFIX
from tests.services.test_mapping import _refused, shirt_rows
from tests.services.test_station_service import Rig

BADGE = re.compile(r"PD-STAFF-[ACDEFHJKMNPRTUVWXY3479]{6}")
MUG, TUMBLER = BARCODE["MUG-WH-01"], BARCODE["TMB-500"]


def add(db: Database, name: str, **kw: object) -> StaffMember:
    with db.session() as s:
        return staff.add_packer(s, name, **kw)  # type: ignore[arg-type]


def refused(db: Database, fn: object, *args: object, **kw: object) -> StaffError:
    with pytest.raises(StaffError) as err, db.session() as s:
        fn(s, *args, **kw)  # type: ignore[operator]
    return err.value


def members(db: Database) -> list[StaffMember]:
    with db.session() as s:
        return staff.list_staff(s)


def codes(seq: list[str]) -> object:
    it: Iterator[str] = iter(seq)
    return lambda: next(it)


# ---------------------------------------------------------------------------------------------- adding


def test_a_new_packer_gets_a_readable_unique_badge_and_can_be_listed(db: Database) -> None:
    kim = add(db, "  김민수  ")
    assert kim.name == "김민수" and kim.active and kim.packs == 0
    assert BADGE.fullmatch(kim.badge_code) and not kim.badge_code.startswith(COMMAND_PREFIX)
    made = {add(db, f"작업자{n}").badge_code for n in range(30)}
    assert len(made) == 30 and all(BADGE.fullmatch(c) for c in made)
    listed = members(db)
    assert [mb.name for mb in listed][:2] == ["김민수", "작업자0"] and listed[0] == kim
    with db.session() as s:
        assert (PackerRef(kim.id, "김민수"), kim.badge_code) in queries.active_packers(s)


@pytest.mark.parametrize(("name", "code"), [
    ("", "staff_name_empty"),
    ("   ", "staff_name_empty"),
    ("김\n민수", "staff_name_invalid"),
    ("김\t민수", "staff_name_invalid"),
    ("가" * 101, "staff_name_too_long"),
])
def test_bad_names_are_refused_and_nothing_is_written(db: Database, name: str, code: str) -> None:
    e = refused(db, staff.add_packer, name)
    assert e.code == code and members(db) == []
    if code == "staff_name_too_long":
        assert e.params == {"limit": 100, "length": 101}


def test_a_name_of_a_hundred_characters_is_kept_whole(db: Database) -> None:
    assert add(db, "가" * 100).name == "가" * 100


def test_two_active_packers_never_share_a_name_but_a_deactivated_one_does_not_count(db: Database) -> None:
    kim = add(db, "Kim Minsu")
    e = refused(db, staff.add_packer, " kim minsu ")
    assert e.code == "staff_name_taken" and e.params == {"name": "kim minsu"}
    with db.session() as s:
        staff.deactivate_packer(s, kim.id)
    again = add(db, "Kim Minsu")  # the same name, hired again: a new packer, a new badge
    assert again.id != kim.id and again.badge_code != kim.badge_code
    e = refused(db, staff.reactivate_packer, kim.id)  # two active of one name: rename one first
    assert e.code == "staff_name_taken"
    with db.session() as s:
        staff.rename_packer(s, kim.id, "Kim Minsu (1)")
        assert staff.reactivate_packer(s, kim.id).active


def test_a_badge_never_equals_a_badge_an_item_barcode_or_a_waybill_in_any_case(demo_db: Database) -> None:
    first = add(demo_db, "김하나", make_code=codes(["PD-STAFF-AAAAAA"]))
    with demo_db.session() as s:  # an item whose barcode looks like a badge (it was made before the rule)
        item = s.scalars(select(m.Item)).first()
        assert item is not None
        item.barcodes.append(m.ItemBarcode(barcode="pd-staff-cccccc"))
    taken = ["pd-staff-aaaaaa", "PD-STAFF-CCCCCC", Scenario.SIMPLE, "PD-PACKER-001", "PD-STAFF-DDDDDD"]
    second = add(demo_db, "김둘", make_code=codes(taken))
    assert (first.badge_code, second.badge_code) == ("PD-STAFF-AAAAAA", "PD-STAFF-DDDDDD")
    e = refused(demo_db, staff.add_packer, "김셋", make_code=codes(["PD-STAFF-AAAAAA"] * staff.BADGE_TRIES))
    assert e.code == "staff_conflict" and [mb.name for mb in members(demo_db)].count("김셋") == 0


def test_an_item_barcode_that_is_a_staff_badge_is_refused(demo_db: Database) -> None:
    kim = add(demo_db, "김새봄")
    rows = shirt_rows(demo_db)
    assert _refused(demo_db, [mp.NewItem(rows[0].id, "S-1", "셔츠", barcodes=(kim.badge_code.lower(),))]) \
        == [(0, "item_barcode_reserved")]


# ---------------------------------------------------------------------------------------------- changes


def test_rename_deactivate_reactivate_and_unknown_packers(db: Database) -> None:
    kim = add(db, "김민수")
    lee = add(db, "이서연")
    with db.session() as s:
        assert staff.rename_packer(s, kim.id, " 김민수A ").name == "김민수A"
    assert refused(db, staff.rename_packer, kim.id, "이서연").code == "staff_name_taken"
    assert refused(db, staff.rename_packer, kim.id, "").code == "staff_name_empty"
    with db.session() as s:
        assert staff.rename_packer(s, kim.id, "김민수A").name == "김민수A"  # its own name again: fine
        out = staff.deactivate_packer(s, lee.id)
        assert not out.active and out.badge_code == lee.badge_code
        assert staff.deactivate_packer(s, lee.id) == out  # twice: nothing more
        assert [p.name for p, _ in queries.active_packers(s)] == ["김민수A"]
        assert queries.inactive_badges(s) == {lee.badge_code.lower(): PackerRef(lee.id, "이서연")}
    assert [(mb.name, mb.active) for mb in members(db)] == [("김민수A", True), ("이서연", False)]
    with db.session() as s:
        back = staff.reactivate_packer(s, lee.id)
        assert back.active and back.badge_code == lee.badge_code  # the same badge signs in again
        assert staff.reactivate_packer(s, lee.id) == back
        assert queries.inactive_badges(s) == {}
    for fn in (staff.rename_packer, staff.deactivate_packer, staff.reactivate_packer, staff.new_badge,
               staff.get_member):
        args = (999, "누구") if fn is staff.rename_packer else (999,)
        assert refused(db, fn, *args).code == "staff_not_found"


def test_a_new_badge_code_retires_the_old_one(db: Database) -> None:
    kim = add(db, "김민수")
    with db.session() as s:
        new = staff.new_badge(s, kim.id)
        assert BADGE.fullmatch(new.badge_code) and new.badge_code != kim.badge_code and new.name == "김민수"
        badges = [b for _, b in queries.active_packers(s)]
        assert badges == [new.badge_code] and kim.badge_code.lower() not in queries.inactive_badges(s)


def test_names_typed_one_a_line() -> None:
    assert staff.clean_names(["김민수", "", "  이서연 ", "   "]) == ["김민수", "이서연"]
    with pytest.raises(StaffError) as err:
        staff.clean_names(["김민수", "이서연", "김민수"])
    assert err.value.code == "staff_name_repeated" and err.value.params == {"name": "김민수", "line": 3, "other": 1}
    with pytest.raises(StaffError) as err:
        staff.clean_names(["김민수", "가" * 101])
    assert err.value.code == "staff_name_too_long" and err.value.params["line"] == 2
    with pytest.raises(StaffError) as err:
        staff.clean_names(["", "  "])
    assert err.value.code == "staff_none"


def test_adding_several_keeps_a_name_that_is_already_there(db: Database) -> None:
    add(db, "김민수")
    with db.session() as s:
        made = staff.add_packers(s, ["김민수", "이서연"])
    assert [mb.name for mb in made] == ["이서연"] and [mb.name for mb in members(db)] == ["김민수", "이서연"]
    with pytest.raises(StaffError), db.session() as s:  # any other problem stops it whole
        staff.add_packers(s, ["박지훈", ""])
    assert [mb.name for mb in members(db)] == ["김민수", "이서연"]


# ---------------------------------------------------------------------------------------------- the station follows


@pytest.fixture
def rig(demo_db: Database) -> Iterator[Rig]:
    r = Rig(demo_db)
    yield r
    r.worker.close()


def reload(rig: Rig) -> None:
    done: list[bool] = []
    rig.svc.reload_packers(lambda: done.append(True))
    rig.settle()
    assert done == [True]


def test_a_new_packer_signs_in_once_the_station_reloads_and_deactivation_keeps_their_history(
        rig: Rig, demo_db: Database) -> None:
    park = add(demo_db, "박새롬")
    rig.scan(park.badge_code)
    assert rig.message is Msg.UNKNOWN_BARCODE  # not read yet: a station knows its packers from memory
    reload(rig)
    rig.scan(park.badge_code.lower())  # a scan read back from Hangul mode: case lost
    assert rig.message is Msg.PACKER_SET and rig.svc.state.packer == PackerRef(park.id, "박새롬")
    rig.scan(Scenario.SIMPLE, MUG, TUMBLER, MUG)
    assert rig.message is Msg.PACK_COMPLETE
    assert [(mb.name, mb.packs) for mb in members(demo_db) if mb.id == park.id] == [("박새롬", 1)]
    with demo_db.session() as s:
        staff.rename_packer(s, park.id, "박새롬B")
        staff.deactivate_packer(s, park.id)
    reload(rig)
    assert rig.svc.state.packer is None and rig.message is Msg.PACKER_DEACTIVATED
    assert rig.listener.sounds[-1] is Sound.WARNING
    rig.scan(park.badge_code)
    assert rig.message is Msg.PACKER_INACTIVE and rig.listener.sounds[-1] is Sound.ERROR
    assert rig.svc.state.message.params["name"] == "박새롬B"
    rig.scan(Scenario.TEA_SET)
    assert rig.message is Msg.PACKER_REQUIRED
    with demo_db.session() as s:  # their history is untouched: the pack, under the name it was packed under
        ps = s.scalars(select(m.PackSession)).one()
        assert (ps.packer_id, ps.packer_name, ps.outcome) == (park.id, "박새롬", PackOutcome.COMPLETED)
        last = s.scalars(select(m.ScanEvent).where(m.ScanEvent.kind == ScanKind.PACKER)
                         .order_by(m.ScanEvent.id.desc())).first()
        assert last is not None and not last.accepted and last.reason == "packer_inactive"
    assert [(mb.name, mb.active, mb.packs) for mb in members(demo_db) if mb.id == park.id] == [("박새롬B", False, 1)]


def test_deactivated_mid_pack_the_packer_finishes_then_is_signed_out(rig: Rig, demo_db: Database) -> None:
    park = add(demo_db, "박새롬")
    reload(rig)
    rig.scan(park.badge_code, Scenario.SIMPLE, MUG)
    with demo_db.session() as s:
        staff.deactivate_packer(s, park.id)
    reload(rig)
    assert rig.message is Msg.PACKER_DEACTIVATED_AFTER_PACK and rig.svc.state.packer is not None
    rig.scan(TUMBLER, MUG)
    assert rig.message is Msg.PACK_COMPLETE and rig.svc.state.packer is None
    assert rig.svc.state.message.params["signed_out"] == "박새롬"
    with demo_db.session() as s:
        ps = s.scalars(select(m.PackSession)).one()
        assert ps.outcome is PackOutcome.COMPLETED and ps.packer_name == "박새롬"


def test_a_reload_that_changes_nothing_draws_nothing(rig: Rig, demo_db: Database) -> None:
    rig.scan("PD-PACKER-001")
    drawn = len(rig.listener.states)
    reload(rig)
    assert len(rig.listener.states) == drawn
    with demo_db.session() as s:
        kim = next(mb for mb in staff.list_staff(s) if mb.badge_code == "PD-PACKER-001")
        staff.rename_packer(s, kim.id, "김민수 (포장1)")
    reload(rig)
    assert len(rig.listener.states) == drawn + 1 and rig.svc.state.packer == PackerRef(kim.id, "김민수 (포장1)")
