from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import RecordingStatus
from packdesk.services.retention import purge_old_videos

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def add(db: Database, root: Path, name: str, age_days: int, *, keep: bool = False, recorder: str = "opencv",
        station: str = "S1") -> Path:
    started = NOW - timedelta(days=age_days)
    path = root / started.strftime("%Y-%m-%d") / f"{name}.ts"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"v" * 1000)
    with db.session() as s:
        s.add(m.Recording(tracking_number=name, station=station, path=str(path), started_at=started, keep=keep,
                          status=RecordingStatus.COMPLETE, recorder=recorder))
    return path


def test_old_videos_go_kept_and_recent_stay(db: Database, tmp_path: Path) -> None:
    old = add(db, tmp_path, "old", 100)
    claimed = add(db, tmp_path, "claimed", 200, keep=True)
    recent = add(db, tmp_path, "recent", 10)
    result = purge_old_videos(db, older_than_days=90, now=NOW, root=tmp_path)
    assert (result.deleted, result.freed_bytes, result.kept) == (1, 1000, 1)
    assert not old.exists() and not old.parent.exists()  # its empty day folder too
    assert claimed.exists() and recent.exists()
    with db.session() as s:
        rows = {r.tracking_number: r.deleted_at for r in s.scalars(select(m.Recording))}
    assert rows == {"old": NOW, "claimed": None, "recent": None}  # the index keeps the row
    assert purge_old_videos(db, older_than_days=90, now=NOW).deleted == 0  # idempotent


def test_missing_file_is_just_marked(db: Database, tmp_path: Path) -> None:
    gone = add(db, tmp_path, "gone", 100)
    gone.unlink()
    assert purge_old_videos(db, older_than_days=90, now=NOW).deleted == 1


def test_each_station_purges_only_its_own_videos(db: Database, tmp_path: Path) -> None:
    """On a shared database another station's file is on its own PC: not missing here, not ours to delete."""
    mine = add(db, tmp_path, "mine", 100)
    theirs = add(db, tmp_path, "theirs", 100, station="S2")
    assert purge_old_videos(db, older_than_days=90, now=NOW, root=tmp_path, station="S1").deleted == 1
    assert not mine.exists() and theirs.exists()
    with db.session() as s:
        assert s.scalar(select(m.Recording.deleted_at).where(m.Recording.tracking_number == "theirs")) is None
