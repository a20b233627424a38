"""Per-machine settings: declared once, typed, validated, versioned (Picard's option registry idea).

Stored as JSON in the config dir, not in the database: the database may be shared by many stations,
while a scanner port or a station name belongs to this PC.

Read as people save it: UTF-8 with or without a BOM (Windows Notepad writes one), UTF-16 with a BOM, or
CP949 (Notepad's "ANSI" on a Korean PC). A bad value falls back to its default for that key alone and is
named on the station; the file itself is never moved or rewritten. Three values are never replaced by a
default, because a default there silently makes another station: the station name (a new hash chain), the
database (a local file instead of the warehouse server) and the supervisor PIN (every supervisor screen
open). A bad value there, or a file that cannot be read at all, stops the station with the reason.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from packdesk.core.errors import SettingsError
from packdesk.core.station import CompleteMode
from packdesk.devices.realpacking import DEFAULT_START, DEFAULT_STOP, RealPackingConfig, RequestTemplate
from packdesk.devices.serial_scanner import Terminator
from packdesk.devices.wedge import WedgeConfig

log = logging.getLogger("packdesk.settings")

SETTINGS_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ScannerSettings(_Model):
    max_gap_ms: float = Field(40.0, ge=5, le=200, description="keys closer than this belong to one scan")
    min_length: int = Field(4, ge=1, le=64)
    prefix: str = Field("", max_length=8)
    suffix: str = Field("", max_length=8)
    tab_ends_scan: bool = False

    def wedge_config(self) -> WedgeConfig:
        return WedgeConfig(self.max_gap_ms, self.min_length, self.prefix, self.suffix, self.tab_ends_scan)


class SerialSettings(_Model):
    enabled: bool = False
    port: str = Field("", max_length=200)
    baudrate: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    terminator: Terminator = Terminator.CR


class CameraSettings(_Model):
    # "auto": the first webcam, else the synthetic camera; "0", "1": a webcam index; a video file path;
    # an IP camera URL (rtsp://, http://); "synthetic"
    source: str = Field("auto", min_length=1, max_length=500)
    resolution: Literal["320x240", "640x480", "800x600", "1280x720", "1920x1080"] = "640x480"
    fps: int = Field(30, ge=5, le=60)
    pre_roll_s: float = Field(3.0, ge=0, le=30)


class RecordingSettings(_Model):
    video_root: str = Field("", description="empty: the videos folder of the data dir")
    min_free_gb: float = Field(2.0, ge=0.1, le=10_000, description="refuse to record below this free space")
    retention_days: int = Field(90, ge=1, le=3650, description="older videos are deleted, unless kept")
    require_recording: bool = Field(False, description="refuse to start a pack that cannot be filmed")
    # "auto": a hardware H.264 encoder where the PC has one that works (tried at start), else libx264
    encoder: Literal["auto", "libx264"] = "auto"


class RealPackingSettings(_Model):
    """RealPacking's "web reception" request format is not public: every request is a template line such
    as ``GET /start?waybill={waybill}&packer={packer}`` (placeholders: waybill, station, packer, pack_key,
    order_nos, outcome), so the real format can be set without a new release."""

    host: str = Field("127.0.0.1", min_length=1, max_length=200)
    port: int = Field(8090, ge=1, le=65535)
    timeout_s: float = Field(2.0, ge=0.2, le=30)
    start_request: str = Field(DEFAULT_START.as_line(), min_length=3, max_length=500)
    stop_request: str = Field(DEFAULT_STOP.as_line(), min_length=3, max_length=500)
    cancel_request: str = Field("", max_length=500, description="empty: a cancelled pack sends stop")
    charset: Literal["utf-8", "cp949"] = "utf-8"

    @field_validator("start_request", "stop_request", "cancel_request")
    @classmethod
    def _template(cls, v: str) -> str:
        if v.strip():
            RequestTemplate.from_line(v)  # raises ValueError with the reason
        return v.strip()

    def config(self) -> RealPackingConfig:
        def t(line: str) -> RequestTemplate:
            return RequestTemplate.from_line(line, charset=self.charset)

        return RealPackingConfig(host=self.host, port=self.port, start=t(self.start_request),
                                 stop=t(self.stop_request),
                                 cancel=t(self.cancel_request) if self.cancel_request else None,
                                 timeout_s=self.timeout_s)


class CollectionSettings(_Model):
    enabled: bool = True
    times: list[str] = Field(default_factory=lambda: ["09:00", "13:00", "16:00"], max_length=5,
                             description="up to 5 times of day, HH:MM")
    weekdays_only: bool = Field(False, description="Mon-Fri only")
    catalogue_hour: int = Field(6, ge=0, le=23, description="the daily product sync, at this hour")

    @field_validator("times")
    @classmethod
    def _times(cls, v: list[str]) -> list[str]:
        out = []
        for t in v:
            t = t.strip()
            hh, _, mm = t.partition(":")
            if not (hh.isdigit() and mm.isdigit() and 0 <= int(hh) <= 23 and 0 <= int(mm) <= 59 and len(mm) == 2):
                raise ValueError(f"'{t}' is not a time of day (HH:MM)")
            out.append(f"{int(hh):02d}:{mm}")
        return sorted(set(out))


class DatabaseSettings(_Model):
    """"local": SQLite in the data folder (one station). "server": the warehouse's PostgreSQL, shared by
    every station; its password lives in the OS keyring, never here."""

    mode: Literal["local", "server"] = "local"
    host: str = Field("", max_length=200)
    port: int = Field(5432, ge=1, le=65535)
    name: str = Field("packdesk", min_length=1, max_length=63)
    user: str = Field("packdesk", min_length=1, max_length=63)

    def server_url(self, password: str | None) -> str:
        from urllib.parse import quote

        auth = quote(self.user, safe="") + (":" + quote(password, safe="") if password else "")
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{quote(self.name, safe='')}"


class SupervisorSettings(_Model):
    """Supervisor mode (settings, links, collection, outbox, review, reports) behind a PIN. Only its bcrypt
    hash is stored; no hash: the station has no PIN yet and everything is open (set one at first run)."""

    pin_hash: str = Field("", max_length=100)
    auto_lock_min: int = Field(5, ge=1, le=240, description="back to packer mode after this long untouched")


class WaybillSettings(_Model):
    """Where a parcel's tracking number comes from when it is not in the order: the seller's contracted
    courier (labels bound at the station, numbers typed in) and how strictly its numbers are checked."""

    courier: str = Field("CJGLS", min_length=1, max_length=32, description="the seller's contracted courier")
    # couriers whose numbers with a wrong check digit are accepted with a warning instead of refused
    # (core/tracking.py: a courier that issues numbers outside the rule)
    warn_check_digit: list[str] = Field(default_factory=list, max_length=30)

    @field_validator("courier")
    @classmethod
    def _courier(cls, v: str) -> str:
        from packdesk.core.couriers import BY_CODE

        if v not in BY_CODE:
            raise ValueError(f"'{v}' is not a courier code")
        return v

    @field_validator("warn_check_digit")
    @classmethod
    def _warn(cls, v: list[str]) -> list[str]:
        from packdesk.core.couriers import BY_CODE

        codes = [c.strip().upper() for c in v if c.strip()]
        unknown = [c for c in codes if c not in BY_CODE]
        if unknown:
            raise ValueError(f"not courier codes: {', '.join(unknown)}")
        return sorted(set(codes))

    @property
    def check_digit(self) -> dict[str, str]:
        """courier -> "warn" for ``core/tracking.check`` (the others refuse)."""
        return {c: "warn" for c in self.warn_check_digit}


class VideoLinkSettings(_Model):
    """The seller's S3-compatible storage for the buyer's video link (``services/video_link.py``). The access
    key and the secret key live in the OS keyring, never here."""

    endpoint: str = Field("", max_length=300, description="e.g. https://kr.object.ncloudstorage.com")
    bucket: str = Field("", max_length=63)
    region: str = Field("", max_length=40, description="empty: us-east-1 (R2: auto; Naver Cloud: kr-standard)")
    prefix: str = Field("packdesk/", max_length=100, description="the folder the videos go into")
    link_days: int = Field(7, ge=1, le=7, description="a link opens the video this many days (S3's limit: 7)")
    max_upload_kb_per_s: int = Field(0, ge=0, le=1_000_000, description="0: no limit")
    auto_upload: bool = Field(False, description="upload every completed pack's video by itself (a queue)")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        v = v.strip()
        if v and not v.startswith(("https://", "http://")):
            raise ValueError(f"'{v}' is not a web address (https://…)")
        return v.rstrip("/")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        v = v.strip().strip("/")
        return f"{v}/" if v else ""


class Settings(_Model):
    version: int = SETTINGS_VERSION
    station_name: str = Field("STATION-1", min_length=1, max_length=64)
    complete_mode: CompleteMode = CompleteMode.AUTO
    idle_timeout_min: int = Field(10, ge=1, le=240)
    # an item scan leaving at least this many of it says a count barcode (PD-QTY-n) would be quicker; 0: never
    count_hint_at: int = Field(6, ge=0, le=1000)
    claim_expiry_min: int = Field(10, ge=1, le=240, description="a waybill claimed by a silent station is free after")
    database_url: str = Field("", description="advanced override (tests); normally use 'database'")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    recorder: Literal["off", "opencv", "realpacking"] = "opencv"
    # ko: Korean first with English beside it (the default); en: English only (every screen; the evidence sheet
    # sent with a claim stays Korean-first)
    language: Literal["ko", "en"] = "ko"
    # the station opens full screen (F11 switches to a maximised window); off: maximised
    full_screen: bool = True
    demo_channel: bool = True
    scanner: ScannerSettings = Field(default_factory=ScannerSettings)
    serial: SerialSettings = Field(default_factory=SerialSettings)
    camera: CameraSettings = Field(default_factory=CameraSettings)
    recording: RecordingSettings = Field(default_factory=RecordingSettings)
    realpacking: RealPackingSettings = Field(default_factory=RealPackingSettings)
    collection: CollectionSettings = Field(default_factory=CollectionSettings)
    supervisor: SupervisorSettings = Field(default_factory=SupervisorSettings)
    waybill: WaybillSettings = Field(default_factory=WaybillSettings)
    video_link: VideoLinkSettings = Field(default_factory=VideoLinkSettings)


def _upgrade(raw: dict[str, object]) -> dict[str, object]:
    """Bring an older file's keys to this version (nothing to do yet: version 1 is the first)."""
    raw.setdefault("version", SETTINGS_VERSION)
    return raw


class SettingsUnusable(SettingsError):
    """The file cannot be read, or the station name, the database or the supervisor PIN in it is invalid:
    the station does not start (``code`` says which)."""

    code = "settings_unsafe"


def _never_defaulted(key: tuple[str, ...]) -> bool:
    """The keys whose default would silently make another station (module docstring)."""
    if not key or key[0] in ("station_name", "database_url", "database"):
        return True
    return key[0] == "supervisor" and key[1:] != ("auto_lock_min",)


def read_settings_text(path: Path) -> str:
    """The file's text in whichever encoding Windows editors save: UTF-16 (BOM), UTF-8 (BOM or not), CP949.
    Raises ``UnicodeDecodeError`` for none of them."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp949")


def load_settings(path: Path) -> tuple[Settings, SettingsError | None]:
    """This PC's settings, and what was wrong with the file (its bad keys, each replaced by its default), or
    None. Raises ``SettingsUnusable`` when it must not start (see the module docstring); never changes the
    file."""
    if not path.exists():
        return Settings(), None
    try:
        raw = json.loads(read_settings_text(path))
    except (OSError, ValueError) as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        problems = _describe(e)
        log.error("settings file %s cannot be read (%s): not started", path, problems)
        raise SettingsUnusable("settings_unreadable", detail=f"{path}: {problems}", path=str(path),
                               problems=problems) from e
    if not isinstance(raw, dict):
        log.error("settings file %s holds no settings object: not started", path)
        raise SettingsUnusable("settings_unreadable", detail=f"{path}: top level is not an object", path=str(path),
                               problems="top level is not an object")
    raw = _upgrade(raw)
    dropped: list[str] = []
    while True:  # each pass drops at least one key, so this ends
        try:
            settings = Settings.model_validate(raw)
            break
        except ValidationError as e:
            errors = [(_setting_key(err["loc"]), _describe_error(err)) for err in e.errors()]
        unsafe = [text for key, text in errors if _never_defaulted(key)]
        if unsafe:
            problems = "; ".join(unsafe)
            log.error("settings file %s: %s: not started", path, problems)
            raise SettingsUnusable(detail=f"{path}: {problems}", path=str(path), problems=problems)
        gone = [text for key, text in errors if _drop(raw, key)]
        if not gone:  # nothing left to drop (an error about the whole file): not a per-key fallback
            problems = "; ".join(text for _, text in errors)
            raise SettingsUnusable(detail=f"{path}: {problems}", path=str(path), problems=problems)
        dropped += gone
    if not dropped:
        return settings, None
    problems = "; ".join(dropped)
    log.warning("settings file %s: %s; those keys use their defaults (the file is left as it is)", path, problems)
    return settings, SettingsError(detail=f"{path}: {problems}", problems=problems, path=str(path))


def _setting_key(loc: tuple[int | str, ...]) -> tuple[str, ...]:
    """The setting an error is about: its location down to the first part that is not a nested section
    (``("collection", "times", 0)`` is the setting ``collection.times``)."""
    model: type[BaseModel] = Settings
    key: list[str] = []
    for part in loc:
        key.append(str(part))
        field = model.model_fields.get(str(part))
        ann = field.annotation if field is not None else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            break
        model = ann
    return tuple(key)


def _drop(raw: dict[str, object], key: tuple[str, ...]) -> bool:
    node: object = raw
    for part in key[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    return isinstance(node, dict) and node.pop(key[-1], _MISSING) is not _MISSING


_MISSING = object()


def _describe_error(err: Mapping[str, Any]) -> str:
    key = ".".join(str(p) for p in err["loc"])
    if err.get("type") == "extra_forbidden":
        return f"{key}: unknown setting"
    if key.startswith("supervisor.pin"):  # a PIN's hash is not for the screen
        return f"{key}: {err['msg']}"
    shown = repr(err.get("input"))
    return f"{key}: {err['msg']} ({shown if len(shown) <= 40 else shown[:39] + '…'})"


def _describe(e: Exception) -> str:
    if isinstance(e, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
    return str(e)


def save_settings(settings: Settings, path: Path) -> None:
    """Atomic: a power cut leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(settings.model_dump_json(indent=2), encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------ copying a set-up to the next PC

EXPORT_KIND = "packdesk-settings"
OLDEST_SETTINGS_VERSION = 1  # the oldest version ``_upgrade`` can bring up to date
# this PC's own: its name among the stations, and an expert's database override (a path on this disk)
PER_PC_KEYS = ("station_name", "database_url")


def export_settings(settings: Settings, path: Path) -> None:
    """Write ``settings`` for another PC: everything but ``PER_PC_KEYS``. Secrets (account keys, the server
    password) live in the OS keyring, never in settings, so none can be in the file. The supervisor PIN's
    bcrypt hash is copied: one PIN for every station of the warehouse (the hash only checks a PIN)."""
    from datetime import UTC, datetime

    from packdesk import APP_NAME, __version__

    data = settings.model_dump(mode="json", exclude=set(PER_PC_KEYS))
    doc = {"app": APP_NAME, "kind": EXPORT_KIND, "exported_by": f"{APP_NAME} {__version__}",
           "exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "settings": data}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise SettingsError("settings_export_failed", detail=f"{path}: {e}", path=str(path)) from e
    log.info("settings exported to %s", path)


def import_settings(path: Path, current: Settings) -> Settings:
    """Settings from ``export_settings``'s file for this PC: validated by the model, upgraded from an older
    version, this PC's ``PER_PC_KEYS`` kept. An empty PIN hash in the file keeps this PC's PIN (an import never
    opens a locked station). Raises ``SettingsError`` saying what is wrong with the file."""
    try:
        doc = json.loads(read_settings_text(path))
    except (OSError, UnicodeError, ValueError) as e:
        raise SettingsError("settings_import_unreadable", detail=f"{path}: {e}", path=str(path),
                            problems=_describe(e)) from e
    if not (isinstance(doc, dict) and doc.get("kind") == EXPORT_KIND and isinstance(doc.get("settings"), dict)):
        raise SettingsError("settings_import_foreign", detail=f"{path}: no {EXPORT_KIND} document", path=str(path))
    raw: dict[str, object] = dict(doc["settings"])
    version = raw.get("version", SETTINGS_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise SettingsError("settings_import_invalid", detail=f"{path}: version {version!r}", path=str(path),
                            problems=f"version: {version!r}")
    if version > SETTINGS_VERSION:
        raise SettingsError("settings_import_newer", detail=f"{path}: version {version}", path=str(path),
                            version=version, supported=SETTINGS_VERSION)
    if version < OLDEST_SETTINGS_VERSION:
        raise SettingsError("settings_import_older", detail=f"{path}: version {version}", path=str(path),
                            version=version, oldest=OLDEST_SETTINGS_VERSION)
    raw = _upgrade(raw)
    for key in PER_PC_KEYS:
        raw[key] = getattr(current, key)
    try:
        imported = Settings.model_validate(raw)
    except ValidationError as e:
        problems = _describe(e)
        raise SettingsError("settings_import_invalid", detail=f"{path}: {problems}", path=str(path),
                            problems=problems) from e
    if not imported.supervisor.pin_hash and current.supervisor.pin_hash:
        imported.supervisor.pin_hash = current.supervisor.pin_hash
    log.info("settings imported from %s", path)
    return imported


def database_url(settings: Settings, sqlite_file: Path) -> str:
    """The URL this station opens: the override, the warehouse server (password from the keyring), or the
    SQLite file in the data folder."""
    if settings.database_url:
        return settings.database_url
    if settings.database.mode == "server":
        from packdesk.services.secrets import get_named_secret

        return settings.database.server_url(get_named_secret(DB_SECRET))
    return f"sqlite:///{sqlite_file}"


DB_SECRET = "database-server"
