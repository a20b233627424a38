"""One running PackDesk per data folder.

A second copy started on the same folder (a double-click on the icon is enough) used to close the first
copy's open pack as abandoned, delete its waybill claim and chain its half-written video: the start-up
clean-up (``StationService.start``) cannot tell "left open by a crash" from "open in a live process". The
lock makes that question answerable: whoever holds it is the only process that may clean up, claim or
chain anything of this folder's station, and a crash frees it.

The lock is ``filelock``'s native lock (``flock`` on Linux and macOS, ``LockFileEx`` on Windows), held on
an open file for the process's life; the operating system drops it when the process ends, however it ends
(tested with SIGKILL). Beside it, ``instance.json`` tells a second start who holds the lock (PID, host,
since): filelock may truncate its own file when another process tries it, so the holder's details are not
kept there.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from packdesk.core.errors import KnownError

log = logging.getLogger("packdesk.instance")

LOCK_FILE = "packdesk.lock"
OWNER_FILE = "instance.json"


class InstanceRunning(KnownError):
    """Another live process holds this data folder; ``pid`` is 0 when its details could not be read."""

    code = "instance_running"


class InstanceLock:
    """The data folder's lock; ``acquire`` raises ``InstanceRunning`` when another process has it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = FileLock(str(data_dir / LOCK_FILE), timeout=0)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self) -> InstanceLock:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            owner = read_owner(self.data_dir)
            pid = int(owner.get("pid") or 0)
            raise InstanceRunning(detail=f"{self.data_dir} is in use by process {pid or '?'} ({owner})",
                                  pid=pid or "?", path=str(self.data_dir), host=owner.get("host", ""),
                                  since=owner.get("since", "")) from None
        owner = {"pid": os.getpid(), "host": socket.gethostname(),
                 "since": datetime.now(UTC).isoformat(timespec="seconds")}
        try:
            tmp = self.data_dir / (OWNER_FILE + ".tmp")
            tmp.write_text(json.dumps(owner), encoding="utf-8")
            os.replace(tmp, self.data_dir / OWNER_FILE)
        except OSError as e:  # the lock is what counts; the details only help the message of a second start
            log.warning("could not write %s: %s", OWNER_FILE, e)
        log.info("data folder %s is this process's (pid %s)", self.data_dir, owner["pid"])
        return self

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()


def read_owner(data_dir: Path) -> dict[str, str | int]:
    """Who holds the folder, as its holder wrote it ({} when unknown)."""
    try:
        raw = json.loads((data_dir / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}
