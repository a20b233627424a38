"""Child processes the kill tests start (an uploader, a dispatcher) and kill -9 mid-way."""

from __future__ import annotations

import signal
import subprocess


def kill_9(child: subprocess.Popen[str]) -> str:
    """``kill -9`` the child, which must still be running; what it printed. It is reaped either way."""
    try:
        assert child.poll() is None, "the child ended before it was killed"
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        assert child.stdout is not None
        out = child.stdout.read()
        child.stdout.close()
    return out
