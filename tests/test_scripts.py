"""scripts/setup.sh and scripts/run.sh as real processes: install from the lock once, then start without pip
or a package index, and set up again only when pyproject.toml, a lock file or setup.sh changed.

The scripts run on a copy of the repository's set-up files in tmp_path, with a ``.venv`` whose ``python``
answers ``-m pip`` by writing its arguments to a log (succeeding only when the test says the network is up)
and runs anything else with this interpreter; its ``packdesk`` is the real ``python -m packdesk``. PATH holds
only the few tools the scripts use (no dpkg/apt-get: the system-package step is skipped), and the package
index points at a closed port, so a start that reached for the network would fail or leave a trace."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from packdesk import __version__

REPO = Path(__file__).resolve().parents[1]
FILES = ["pyproject.toml", "scripts/setup.sh", "scripts/run.sh", "requirements/runtime.txt",
         "requirements/test.txt"]
TOOLS = ["bash", "cat", "cut", "dirname", "sha256sum", "rm"]

FAKE_PYTHON = """#!/bin/sh
if [ "$1" = -m ] && [ "$2" = pip ]; then
  shift 2
  echo "$*" >> "{log}"
  [ "${{FAKE_NETWORK:-}}" = up ] && exit 0
  echo "ERROR: Could not find a version that satisfies the requirement (no index reachable)" >&2
  exit 1
fi
exec "{python}" "$@"
"""
FAKE_PACKDESK = """#!/bin/sh
PYTHONPATH="{src}" exec "{python}" -m packdesk "$@"
"""


class Checkout:
    """A copy of the set-up files with a fake .venv; ``run`` runs one of its scripts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pip_log = root / "pip.log"
        for name in FILES:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
        venv_bin = root / ".venv" / "bin"
        venv_bin.mkdir(parents=True)
        self._script(venv_bin / "python", FAKE_PYTHON.format(log=self.pip_log, python=sys.executable))
        self._script(venv_bin / "packdesk", FAKE_PACKDESK.format(src=REPO / "src", python=sys.executable))
        tools = root / "tools"
        tools.mkdir()
        for tool in TOOLS:
            found = shutil.which(tool)
            assert found, tool
            (tools / tool).symlink_to(found)
        self.path = str(tools)

    @staticmethod
    def _script(path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)

    def pip_calls(self) -> list[str]:
        return self.pip_log.read_text(encoding="utf-8").splitlines() if self.pip_log.exists() else []

    def run(self, script: str, *args: str, network: bool = False) -> subprocess.CompletedProcess[str]:
        env = {"PATH": self.path, "HOME": str(self.root), "QT_QPA_PLATFORM": "offscreen",
               "PIP_INDEX_URL": "http://127.0.0.1:9/", "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "",
               "PIP_CONFIG_FILE": os.devnull}
        if network:
            env["FAKE_NETWORK"] = "up"
        return subprocess.run(["bash", f"scripts/{script}", *args], cwd=self.root, env=env, capture_output=True,
                              text=True, timeout=120)


@pytest.fixture
def checkout(tmp_path: Path) -> Checkout:
    return Checkout(tmp_path / "repo")


def test_set_up_once_then_run_starts_without_pip(checkout: Checkout) -> None:
    r = checkout.run("setup.sh", network=True)
    assert r.returncode == 0, r.stderr
    calls = checkout.pip_calls()
    assert calls[0] == "install -q --require-hashes --no-deps -r requirements/test.txt"
    assert "install -q --no-deps -e ." in calls

    r = checkout.run("run.sh", "--version")  # no network from here on
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"PackDesk {__version__}"
    assert checkout.pip_calls() == calls  # pip never ran

    r = checkout.run("setup.sh")  # a second set-up finds nothing to do either
    assert r.returncode == 0 and "up to date" in r.stdout
    assert checkout.pip_calls() == calls


def test_first_start_installs_the_runtime_lock_only(checkout: Checkout) -> None:
    r = checkout.run("run.sh", "--version", network=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(f"PackDesk {__version__}")
    assert checkout.pip_calls()[0] == "install -q --require-hashes --no-deps -r requirements/runtime.txt"
    assert checkout.run("setup.sh", "--check", "--runtime").returncode == 0
    assert checkout.run("setup.sh", "--check").returncode == 1  # the test tools are not there


@pytest.mark.parametrize("changed", ["pyproject.toml", "requirements/runtime.txt", "scripts/setup.sh"])
def test_a_dependency_change_sets_up_again_before_starting(checkout: Checkout, changed: str) -> None:
    assert checkout.run("run.sh", "--version", network=True).returncode == 0
    before = len(checkout.pip_calls())
    with (checkout.root / changed).open("a", encoding="utf-8") as f:
        f.write("\n# changed\n")

    offline = checkout.run("run.sh", "--version")  # needs installing, and no index: says so, does not start
    assert offline.returncode != 0 and "PackDesk" not in offline.stdout
    assert len(checkout.pip_calls()) == before + 1
    # the failed install left no stamp: the next start tries again, and with the network it starts
    r = checkout.run("run.sh", "--version", network=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(f"PackDesk {__version__}")
    assert len(checkout.pip_calls()) > before + 1
    after = len(checkout.pip_calls())
    assert checkout.run("run.sh", "--version").returncode == 0
    assert len(checkout.pip_calls()) == after
