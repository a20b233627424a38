"""The station's background, without Qt: order collection, the catalogue sync, the dispatch uploader, the
connectivity and database monitors, the station's heartbeat, the change feed, and every schedule entry.

Built in two steps because the window needs the services before anything runs: ``Background(...)`` claims the
station name (``core/stations.py``: refused here, before anything of another PC's station is touched) and makes
the services; ``running(listener, post)`` schedules and starts them and, on leaving, stops them in reverse order
(one ``ExitStack``). ``leave`` is the last word at shutdown: this PC's chain head remembered and the station name
released, after the recordings the shutdown closed were indexed.

Whatever the background has to tell the screens reaches ``BackgroundListener`` through ``post`` (the UI thread);
packing never waits on any of it.

Adding a background service: make it in ``__init__`` (an attribute with its type), then in ``running`` start it
and ``stack.callback(<its stop>)``, and give its periodic work one line in ``_schedule``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Protocol

from packdesk.channels import xml_relay
from packdesk.core import stations
from packdesk.core.db import Database
from packdesk.core.enums import LineStatus
from packdesk.core.models import utcnow
from packdesk.paths import AppDirs
from packdesk.services import video_link
from packdesk.services.catalogue import CatalogueSyncer
from packdesk.services.changes import ChangeFeed
from packdesk.services.collect import Collector, make_channel
from packdesk.services.connectivity import ConnectivityMonitor, database_probe, marketplace_probe
from packdesk.services.dispatch import PASS_EVERY_S, Uploader
from packdesk.services.integrity import ANCHOR_FILE, update_anchor
from packdesk.services.pictures import PictureCache, picture_folder
from packdesk.services.retention import purge_old_videos
from packdesk.services.schedule import Jobs
from packdesk.services.settings import Settings
from packdesk.services.video_uploads import PASS_EVERY_S as VIDEO_PASS_S
from packdesk.services.video_uploads import QueueProgress, UploadQueue

log = logging.getLogger("packdesk.background")

Post = Callable[[Callable[[], None]], None]  # runs a function on the UI thread (ui/bridge.MainThreadPoster.post)


class BackgroundListener(Protocol):
    """What the background tells the station; always called on the UI thread (through ``post``)."""

    def on_outbox_counts(self, waiting: int, rejected: int, held: int) -> None: ...

    def on_connectivity(self, online: bool) -> None: ...

    def on_db_status(self, ok: bool) -> None: ...

    def on_lines_changed(self, statuses: Mapping[int, LineStatus]) -> None: ...

    def reload_packers(self) -> None: ...

    def on_video_uploads(self, progress: QueueProgress) -> None: ...


def video_root(settings: Settings, dirs: AppDirs) -> Path:
    return Path(settings.recording.video_root) if settings.recording.video_root else dirs.videos


class Background:
    def __init__(self, db: Database, settings: Settings, dirs: AppDirs) -> None:
        self.db, self.settings, self.station = db, settings, settings.station_name
        self.host_id = dirs.host_id()
        with db.session() as s:  # raises StationNameTaken: another PC is this station
            stations.register(s, self.station, self.host_id, socket.gethostname(), utcnow())
        self.anchor_file = dirs.data / ANCHOR_FILE
        self.video_root = video_root(settings, dirs)
        # the products' pictures on this PC: fetched with the catalogue sync, shown on the station, an item's own
        # photo set in the product links (services/pictures.py)
        self.pictures = PictureCache(picture_folder(dirs.data))
        self.collector = Collector(db, station=self.station)
        self.collector.close_abandoned()  # runs a crash left "running" end now, with what they had stored
        self.syncer = CatalogueSyncer(db, make_channel, pictures=self.pictures.fetch)
        # the marketplaces' hosts, online/offline (issue #5): the uploader sends only online (the demo shop
        # drains offline too) and catches up as soon as the connection is back
        self.monitor = ConnectivityMonitor(marketplace_probe(db))
        self.uploader = Uploader(db, station=self.station, is_online=lambda: self.monitor.online)
        # a shared server can go away: every station shows it at once
        self.db_monitor = None if db.engine.dialect.name == "sqlite" else ConnectivityMonitor(
            database_probe(db), interval=5.0, offline_interval=2.0, failures_to_offline=1)
        # the buyer's video link, by itself when the settings turn it on: every completed pack's video to the
        # seller's storage, resumed after a restart or an outage (services/video_uploads.py)
        vl = settings.video_link
        self.video_uploads = UploadQueue(
            db, lambda: video_link.storage(vl.endpoint, vl.bucket, vl.region, vl.prefix), station=self.station,
            work_dir=dirs.data / "video-uploads", throttle=video_link.Throttle(vl.max_upload_kb_per_s * 1000 or None),
        ) if vl.auto_upload else None
        self.jobs = Jobs()

    @contextlib.contextmanager
    def running(self, listener: BackgroundListener, post: Post) -> Iterator[Background]:
        """Everything scheduled and started; stopped (last started, first stopped) when the block ends."""
        with ExitStack() as stack:
            stack.callback(xml_relay.close_all)  # Sabangnet's request-XML host, after the jobs that use it stopped
            self.uploader.on_counts = lambda c: post(partial(listener.on_outbox_counts, c.waiting, c.rejected,
                                                             c.held))
            self.monitor.add_listener(lambda online: post(partial(listener.on_connectivity, online)))
            self.monitor.add_listener(lambda online: self.uploader.kick(retry_now=True) if online else None)
            self.monitor.start()
            if self.db_monitor is not None:
                self.db_monitor.add_listener(lambda ok: post(partial(listener.on_db_status, ok)))
                self.db_monitor.start()
            self.uploader.kick()  # at start: settle what a crash left SENDING, then drain
            stack.callback(self.uploader.close)
            if self.video_uploads is not None:
                self.video_uploads.on_progress = lambda p: post(partial(listener.on_video_uploads, p))
                stack.callback(self.video_uploads.close)
            stack.callback(self.monitor.stop)
            if self.db_monitor is not None:
                stack.callback(self.db_monitor.stop)
            self._schedule(listener, post)
            self.jobs.start()
            stack.callback(self.jobs.stop)
            yield self

    def _schedule(self, listener: BackgroundListener, post: Post) -> None:
        """Every schedule entry of the station. Those that need the marketplaces skip while offline and run once
        when the connection is back (``gated``)."""
        jobs, settings, gated = self.jobs, self.settings, self.monitor.gated
        collection = settings.collection
        if settings.recorder == "opencv":
            jobs.daily("retention", self.purge_videos, hour=3, minute=30, first_run_in=timedelta(minutes=1))
        # the catalogues once a day, from each account's hour on (products new to the store show up to be linked)
        jobs.every("catalogue", partial(self.syncer.sync_due, collection.catalogue_hour), seconds=600, gate=gated)
        if collection.enabled:
            for at in collection.times:
                hour, minute = (int(x) for x in at.split(":"))
                run = partial(self.collector.run_time, at, self.station, collection.weekdays_only)
                jobs.daily(f"collect-{at}", run, hour, minute, weekdays_only=collection.weekdays_only, gate=gated)
            # a scheduled time a station took and did not finish (it went away), or that found no station on, is
            # collected by another station within a minute or two (services/collect.Collector.follow_up)
            follow_up = partial(self.collector.follow_up, collection.times, collection.weekdays_only)
            jobs.every("collection-follow-up", follow_up, seconds=60, gate=gated)
        jobs.every("dispatch", self.uploader.run_once, seconds=PASS_EVERY_S)  # also renews the upload leases
        jobs.every("dispatch-counts", self.uploader.publish_counts, seconds=5)  # a pack just queued shows soon
        jobs.every("station-heartbeat", self.heartbeat, seconds=stations.HEARTBEAT_S)
        # what other stations and this one's background jobs changed: the open pack follows within seconds
        feed = ChangeFeed(self.db)

        def changes() -> None:
            if changed := feed.poll():
                post(partial(listener.on_lines_changed, changed))

        jobs.every("changes", changes, seconds=3)
        # packers changed at another station of the server (this one reloads at once after its staff screen): a
        # new badge signs in and a deactivated or replaced one stops within a minute
        jobs.every("packers", lambda: post(listener.reload_packers), seconds=60)
        if self.video_uploads is not None:
            jobs.every("video-upload", self.video_uploads.run_once, seconds=VIDEO_PASS_S, first_run_in=15)

    def purge_videos(self) -> None:
        purge_old_videos(self.db, older_than_days=self.settings.recording.retention_days, now=utcnow(),
                         root=self.video_root, station=self.station)

    def heartbeat(self) -> None:
        """This station is alive (its name stays this PC's), and this PC remembers its chain's head."""
        with self.db.session() as s:
            if not stations.heartbeat(s, self.station, self.host_id, utcnow()):
                log.error("station name %s was taken by another PC while this one was unseen", self.station)
        update_anchor(self.db, self.station, self.anchor_file)

    def leave(self) -> None:
        """At shutdown, after everything else stopped: the chain head remembered, the station name released."""
        with contextlib.suppress(Exception):
            update_anchor(self.db, self.station, self.anchor_file)
        with contextlib.suppress(Exception), self.db.session() as s:
            stations.release(s, self.station, self.host_id)
