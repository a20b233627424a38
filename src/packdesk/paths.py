"""Where PackDesk keeps its files.

Every directory is redirectable (``--data-dir`` or ``PACKDESK_HOME``), so a portable install on a USB
stick and every test run use their own folder and never touch the user's real profile.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from packdesk import APP_ID

ENV_HOME = "PACKDESK_HOME"


@dataclass(frozen=True)
class AppDirs:
    data: Path
    config: Path
    logs: Path
    videos: Path

    @property
    def database(self) -> Path:
        return self.data / "packdesk.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    def host_id(self) -> str:
        """This PC install's id, made once: tells two PCs apart when they share a database."""
        path = self.config / "host-id"
        try:
            value = path.read_text(encoding="ascii").strip()
            if len(value) == 36:
                return value
        except (OSError, UnicodeError):
            pass
        import uuid

        value = str(uuid.uuid4())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value, encoding="ascii")
        return value

    def ensure(self) -> AppDirs:
        for p in (self.data, self.config, self.logs, self.videos):
            p.mkdir(parents=True, exist_ok=True)
        return self


def app_dirs(data_dir: str | os.PathLike[str] | None = None) -> AppDirs:
    """Per-user dirs from platformdirs, or everything under one folder for a portable install."""
    root = data_dir or os.environ.get(ENV_HOME)
    if root:
        base = Path(root).expanduser().resolve()
        return AppDirs(data=base, config=base / "config", logs=base / "logs", videos=base / "videos")
    return AppDirs(
        data=Path(platformdirs.user_data_dir(APP_ID, appauthor=False)),
        config=Path(platformdirs.user_config_dir(APP_ID, appauthor=False)),
        logs=Path(platformdirs.user_log_dir(APP_ID, appauthor=False)),
        videos=Path(platformdirs.user_videos_dir()) / "PackDesk",
    )


def resources_dir() -> Path:
    """The top-level ``resources/`` folder: next to the sources, or inside a PyInstaller bundle."""
    override = os.environ.get("PACKDESK_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
