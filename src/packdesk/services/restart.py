"""Restarting PackDesk (issue #20: settings that apply at the next start offer "Restart now").

A restart is the ordinary way out followed by a new start, never a second copy beside the first: the screen asks
(``request``) and closes the station window the way a person does (a pack still open asks first); the
application's event loop ends, the station shuts down, and ``app.main``, on its way out, closes the activation
socket and calls ``relaunch``, which releases the data folder's one-instance lock before it starts the new
process: so the lock the new process takes at its start is free (were it started earlier it would find the folder
held and bring the old, closing window forward instead). If the new process cannot be started the old one still
ends; the log says why, and PackDesk is started again by hand.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from packdesk.services.instance import InstanceLock

log = logging.getLogger("packdesk.restart")

ONE_TIME_ARGS = ("--first-run",)  # done once: the restarted station starts as it normally does

_requested = False


def request() -> None:
    global _requested
    _requested = True


def cancel() -> None:
    """The window did not close (a pack is still open): no restart."""
    global _requested
    _requested = False


def requested() -> bool:
    return _requested


def command(argv: Sequence[str]) -> list[str]:
    """How this PackDesk was started, again: the frozen bundle's own program, else this Python with
    ``-m packdesk``; the same arguments (a data folder, ``--no-demo``) without the one-time ones."""
    args = [a for a in argv if a not in ONE_TIME_ARGS]
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "packdesk", *args]


def relaunch(argv: Sequence[str], instance: InstanceLock, *, popen: Callable[..., Any] = subprocess.Popen) -> bool:
    """Start PackDesk again if a restart was asked for, ``instance`` (this process's hold on the data folder)
    released first whatever the caller did. True when the new process was started."""
    global _requested
    if not _requested:
        return False
    _requested = False
    instance.release()  # before the new process looks for it
    cmd = command(argv)
    kwargs: dict[str, Any]
    if sys.platform == "win32":  # its own process group, no console: it outlives this process's exit
        kwargs = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS}
    else:
        kwargs = {"start_new_session": True}
    try:
        popen(cmd, close_fds=True, stdin=subprocess.DEVNULL, **kwargs)
    except OSError as e:
        log.error("restart: could not start %s: %s — start PackDesk again by hand", cmd, e)
        return False
    log.info("restart: started %s", cmd)
    return True
