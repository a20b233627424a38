"""The data model: typed SQLAlchemy 2.x ORM, portable between SQLite and PostgreSQL.

Portability rules (docs/architecture.md, "Data model"): only SQLAlchemy types, enums stored as plain strings,
timestamps timezone-aware in UTC, and every rule two stations could race on expressed as a constraint
(e.g. a waybill can be completed by at most one pack session: a partial unique index).
Schema changes go through Alembic migrations in ``core/migrations``; a test keeps the two in step.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from packdesk.core.enums import (
    ChannelKind,
    LineStatus,
    OutboxState,
    PackOutcome,
    RecordingStatus,
    RunStatus,
    ScanKind,
    ScanSource,
    UploadState,
)

__all__ = [
    "ChannelKind", "LineStatus", "OutboxState", "PackOutcome", "RecordingStatus", "RunStatus", "ScanKind", "ScanSource",
    "UploadState",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}  # noqa: RUF012 - SQLAlchemy reads it as a class attr
    if TYPE_CHECKING:  # each model maps one Table (SQLAlchemy types __table__ as any FROM clause)
        __table__: ClassVar[Table]


def _enum(cls: type[enum.Enum]) -> Enum:
    """Enums as VARCHAR with their values: portable, readable in SQL, and new members need no DDL."""
    return Enum(cls, native_enum=False, create_constraint=False, length=24,
                values_callable=lambda e: [m.value for m in e])


class MarketKind(TypeDecorator[str]):
    """An account's kind as text: a built-in ``ChannelKind`` comes back as its member, the name of a market
    registered at run time (``channels/registry.py``) as itself — so a new market needs no migration. The
    column is the VARCHAR(24) migration 0001 made; the stored values are the same."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return ChannelKind(value)
        except ValueError:
            return value


class ChannelAccount(Base):
    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(MarketKind())  # a ChannelKind for the built-in sources
    name: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200), default="")  # e.g. application id; never a secret
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_confirm: Mapped[bool] = mapped_column(Boolean, default=False)  # 발주확인 new orders when collected
    options: Mapped[str] = mapped_column(Text, default="{}")  # channel settings as JSON (never secrets)
    last_collected_until: Mapped[datetime | None]             # the next scheduled run starts here
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # paused: no collection, no dispatch for now (nothing is lost: dispatches wait); removed: by a supervisor
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    removed_at: Mapped[datetime | None]


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("account_id", "order_no"),
                      Index("ix_orders_recipient_name", "recipient_name"),  # review: search by recipient
                      # an order number scanned or typed with no account to it (a return's box, a search)
                      Index("ix_orders_order_no", "order_no"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    # identifiers keep their lengths (an order exceeding one is set aside when collected); the free text a
    # marketplace fills is TEXT, kept whole (services/collect.py)
    order_no: Mapped[str] = mapped_column(String(64))
    buyer_name: Mapped[str] = mapped_column(Text, default="")
    recipient_name: Mapped[str] = mapped_column(Text, default="")
    recipient_phone: Mapped[str] = mapped_column(Text, default="")
    zip_code: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")
    delivery_message: Mapped[str] = mapped_column(Text, default="")
    ordered_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order")


class Waybill(Base):
    """A parcel's label: courier + tracking number. Lines point at the waybill they ship under."""

    __tablename__ = "waybills"

    id: Mapped[int] = mapped_column(primary_key=True)
    courier_code: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(back_populates="waybill")


class Parcel(Base):
    """The lines that ship together in one box: one order, or 합포장 (one buyer's orders to one address within
    one account). Formed from lines with no waybill yet (``core/parcels.py``); its ``key`` is printed on the
    packing slip and sent as the customer reference in the courier export, so the courier program's result
    sheet comes back matched, and the waybill it brings attaches here (and to every line of the parcel)."""

    __tablename__ = "parcels"
    __table_args__ = (Index("ix_parcels_account_id_group_key", "account_id", "group_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)       # PD-P-XXXXXXXX, scannable, never reused
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    group_key: Mapped[str] = mapped_column(String(64))               # hash of recipient + address: no personal data
    waybill_id: Mapped[int | None] = mapped_column(ForeignKey("waybills.id"), unique=True)
    waybill_source: Mapped[str] = mapped_column(String(80), default="")  # "import:<file>", "station:<name>", ...
    waybill_bound_at: Mapped[datetime | None]
    exported_at: Mapped[datetime | None]                             # last courier export that held it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderLine(Base):
    """One marketplace product-order: unique per account, so collecting twice never duplicates."""

    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("account_id", "product_order_id"),
                      # the lines still to pack, by waybill and parcel (today's counts at a station, the parcels
                      # made after a collection) read from the index alone, not from a season of lines shipped
                      Index("ix_order_lines_status_waybill_parcel", "status", "waybill_id", "parcel_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    product_order_id: Mapped[str] = mapped_column(String(64))
    product_code: Mapped[str] = mapped_column(String(64))
    option_code: Mapped[str] = mapped_column(String(128), default="")
    product_name: Mapped[str] = mapped_column(Text, default="")
    option_name: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[LineStatus] = mapped_column(_enum(LineStatus), default=LineStatus.NEW)
    channel_status: Mapped[str] = mapped_column(String(40), default="")  # the marketplace's own words
    claim_status: Mapped[str] = mapped_column(String(40), default="")
    waybill_id: Mapped[int | None] = mapped_column(ForeignKey("waybills.id"), index=True)
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id"), index=True)
    packed_session_id: Mapped[int | None] = mapped_column(ForeignKey("pack_sessions.id"))
    packed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # what the buyer asked of this item (Coupang's etcInfoValues: engraving text, …), one per line: the packer
    # must see it beside the item, and it goes on the packing slip
    instructions: Mapped[str] = mapped_column(Text, default="", server_default="")
    # the courier the line's source named while it has no tracking number (an Excel order sheet's 택배사
    # column): the courier export sends its parcel only with that courier's template. On the line, not the
    # parcel: it arrives per line, is upserted with it, and parcels are formed (and re-formed) from lines
    # later. NULL: none named. Once a waybill binds, the waybill's courier is the one that counts.
    courier_code: Mapped[str | None] = mapped_column(String(32))

    order: Mapped[Order] = relationship(back_populates="lines")
    waybill: Mapped[Waybill | None] = relationship(back_populates="lines")


class LineStatusChange(Base):
    """Every status a line has had, so a later cancel does not erase that it was once packable."""

    __tablename__ = "line_status_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    status: Mapped[LineStatus] = mapped_column(_enum(LineStatus))
    channel_status: Mapped[str] = mapped_column(String(40), default="")
    claim_status: Mapped[str] = mapped_column(String(40), default="")
    source: Mapped[str] = mapped_column(String(80), default="")  # "collect:<run id>", "pack:<key>", ...
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Item(Base):
    """A physical good on the shelf: what the packer puts in the box."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    option_name: Mapped[str] = mapped_column(String(200), default="")
    image_path: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    barcodes: Mapped[list[ItemBarcode]] = relationship(back_populates="item", cascade="all, delete-orphan")


class ItemBarcode(Base):
    __tablename__ = "item_barcodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    barcode: Mapped[str] = mapped_column(String(64), unique=True)

    item: Mapped[Item] = relationship(back_populates="barcodes")


class ProductMapping(Base):
    """Marketplace product (+ option) -> item x quantity per unit sold. A 12-pack maps to 12 of one item;
    a gift set maps to several rows."""

    __tablename__ = "product_mappings"
    __table_args__ = (UniqueConstraint("account_id", "product_code", "option_code", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    product_code: Mapped[str] = mapped_column(String(64))
    option_code: Mapped[str] = mapped_column(String(128), default="")
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)


class Packer(Base):
    __tablename__ = "packers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    badge_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PackSession(Base):
    """One attempt at packing one waybill at one station."""

    __tablename__ = "pack_sessions"
    __table_args__ = (
        # A waybill is completed at most once, whatever station tries: enforced by the database.
        Index(
            "uq_pack_sessions_completed_waybill",
            "waybill_id",
            unique=True,
            sqlite_where=text("outcome = 'completed'"),
            postgresql_where=text("outcome = 'completed'"),
        ),
        # and so is a parcel opened from its packing slip (its waybill is bound at the end of the pack)
        Index(
            "uq_pack_sessions_completed_parcel",
            "parcel_id",
            unique=True,
            sqlite_where=text("outcome = 'completed'"),
            postgresql_where=text("outcome = 'completed'"),
        ),
        # a station's packs by outcome and end (today's completed count after every pack; the open ones at start)
        Index("ix_pack_sessions_station_outcome_ended", "station", "outcome", "ended_at"),
        # and newest first (its last pack, at start): without it the index above was taken for the station and
        # every pack it ever made was sorted to find the last
        Index("ix_pack_sessions_station_id", "station", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(36), unique=True)  # uuid made by the station
    # the waybill scanned, or (a parcel opened from its slip) the label bound when the pack completed
    waybill_id: Mapped[int | None] = mapped_column(ForeignKey("waybills.id"), index=True)
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id"), index=True)
    station: Mapped[str] = mapped_column(String(64))
    packer_id: Mapped[int | None] = mapped_column(ForeignKey("packers.id"))
    packer_name: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    outcome: Mapped[PackOutcome] = mapped_column(_enum(PackOutcome), default=PackOutcome.OPEN)


class ScanEvent(Base):
    """Every scan, accepted or refused, with the reason: the pack's story for a supervisor."""

    __tablename__ = "scan_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_session_id: Mapped[int | None] = mapped_column(ForeignKey("pack_sessions.id"), index=True)
    station: Mapped[str] = mapped_column(String(64))
    packer_name: Mapped[str] = mapped_column(String(100), default="")
    scanned_at: Mapped[datetime] = mapped_column(index=True)
    code: Mapped[str] = mapped_column(String(128), index=True)  # pack history: scans of a waybill
    source: Mapped[ScanSource] = mapped_column(_enum(ScanSource))
    kind: Mapped[ScanKind] = mapped_column(_enum(ScanKind))
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(40), default="")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    # units the scan counted: 1, or a multi-pack's count confirmed by this item scan (``PD-QTY-12`` then the item)
    quantity: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_station_started_at", "station", "started_at"),
                      Index("ix_recordings_packer_name_started_at", "packer_name", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_session_id: Mapped[int | None] = mapped_column(ForeignKey("pack_sessions.id"), index=True)
    pack_key: Mapped[str] = mapped_column(String(36), default="", index=True)
    tracking_number: Mapped[str] = mapped_column(String(40), index=True)
    order_nos: Mapped[str] = mapped_column(Text, default="")  # the pack's orders, comma-separated
    station: Mapped[str] = mapped_column(String(64))
    packer_name: Mapped[str] = mapped_column(String(100), default="")
    recorder: Mapped[str] = mapped_column(String(20), default="")     # "opencv", "realpacking"
    path: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    dropped_frames: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[RecordingStatus] = mapped_column(_enum(RecordingStatus), default=RecordingStatus.RECORDING)
    pack_outcome: Mapped[PackOutcome] = mapped_column(_enum(PackOutcome), default=PackOutcome.OPEN)
    keep: Mapped[bool] = mapped_column(Boolean, default=False)  # claimed: retention never deletes it
    deleted_at: Mapped[datetime | None]                          # file removed by retention; row stays
    sha256: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class CollectionRun(Base):
    """One collection from one account: when, what window, and what it counted."""

    __tablename__ = "collection_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(20))  # "manual", "schedule", "startup"
    started_by: Mapped[str] = mapped_column(String(100), default="")  # who pressed the button, or the station
    window_from: Mapped[datetime | None]
    window_to: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus), default=RunStatus.RUNNING)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    registered: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    tracking_registered: Mapped[int] = mapped_column(Integer, default=0)
    tracking_sent: Mapped[int] = mapped_column(Integer, default=0)
    set_aside: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # orders not stored: see detail
    # expected returns the run stored or updated (services/returns_expected.py)
    returns: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_code: Mapped[str] = mapped_column(String(40), default="")
    error_detail: Mapped[str] = mapped_column(Text, default="")
    # the error's parameters for people (the marketplace's own words, a hint such as the PC clock), as JSON:
    # what the collection window shows of a failed run (services/collect.failure_of)
    error_params: Mapped[str] = mapped_column(Text, default="", server_default="")


class ChainEntry(Base):
    """One link of a station's hash chain over its recordings: it covers the previous link, the file's
    hash and size, and what the index says of it (waybill, station, start, end). Deleting, replacing or
    editing a file, an index row or a link breaks the chain at that point (``services/integrity.py``).
    A ``pack`` link covers an ended pack instead: ``recording_id`` is then the pack session's id,
    ``file_sha256``/``size_bytes`` its scan events' digest and count (``core/chain.py``); a ``return`` link
    the same for an ended return inspection (its id, its scans' digest and count)."""

    __tablename__ = "recording_chain"
    __table_args__ = (UniqueConstraint("station", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    # no FK: a deleted row must stay detectable; kind "pack": the pack session's id; "return": the inspection's
    recording_id: Mapped[int] = mapped_column(Integer, index=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))  # what the hash covers
    kind: Mapped[str] = mapped_column(String(12), default="recording", server_default="recording")


class SalesProduct(Base):
    """A product (or option) as a marketplace sells it. First seen in collected orders; linked to items by
    ``ProductMapping`` rows with the same (account, product code, option code). Never deleted here."""

    __tablename__ = "sales_products"
    __table_args__ = (UniqueConstraint("account_id", "product_code", "option_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    product_code: Mapped[str] = mapped_column(String(64))
    option_code: Mapped[str] = mapped_column(String(128), default="")
    product_name: Mapped[str] = mapped_column(Text, default="")
    option_name: Mapped[str] = mapped_column(Text, default="")
    is_new: Mapped[bool] = mapped_column(Boolean, default=True)     # not yet looked at by a person
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)   # gone from the marketplace
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="", server_default="")  # the marketplace's word
    seller_code: Mapped[str] = mapped_column(String(128), default="", server_default="")  # seller's own code
    synced_at: Mapped[datetime | None]  # last seen by a catalogue sync (None: only seen in orders)
    # the marketplace's representative image (a catalogue sync); its file is cached by the URL's hash
    # (services/pictures.py): a new URL is a new picture
    image_url: Mapped[str] = mapped_column(String(1000), default="", server_default="")


class DispatchEntry(Base):
    """One tracking number to upload for one line: written in the same transaction that marks the line
    packed, sent until the marketplace accepts or definitively refuses it, never sent again after."""

    __tablename__ = "dispatch_outbox"
    __table_args__ = (UniqueConstraint("line_id", "tracking_number"), Index("ix_dispatch_outbox_due", "state",
                                                                           "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"), index=True)
    pack_session_id: Mapped[int | None] = mapped_column(ForeignKey("pack_sessions.id"))
    product_order_id: Mapped[str] = mapped_column(String(64))
    courier_code: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(40))
    state: Mapped[OutboxState] = mapped_column(_enum(OutboxState), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error_code: Mapped[str] = mapped_column(String(40), default="")
    last_error_message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VideoUpload(Base):
    """A completed pack's video queued for the seller's storage (the buyer's link, ``services/video_link.py``):
    one row per recording, so it is uploaded once; claimed before the upload, DONE after, retried with a backoff
    while the storage is away. Each station uploads its own recordings (the files are on its disk)."""

    __tablename__ = "video_uploads"
    __table_args__ = (Index("ix_video_uploads_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), unique=True)
    station: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[UploadState] = mapped_column(_enum(UploadState), default=UploadState.PENDING)
    object_key: Mapped[str] = mapped_column(String(200), default="")
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error_code: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WaybillClaim(Base):
    """Which station is packing a waybill right now. The primary key on the waybill makes the claim
    atomic across stations sharing one database; a claim older than the expiry (a station that crashed
    or lost the network) may be taken over, and a supervisor can release one."""

    __tablename__ = "waybill_claims"

    waybill_id: Mapped[int] = mapped_column(ForeignKey("waybills.id"), primary_key=True, autoincrement=False)
    station: Mapped[str] = mapped_column(String(64))
    packer_name: Mapped[str] = mapped_column(String(100), default="")
    pack_key: Mapped[str] = mapped_column(String(36))
    claimed_at: Mapped[datetime]
    renewed_at: Mapped[datetime]


class ParcelClaim(Base):
    """The same as ``WaybillClaim`` for a parcel opened from its packing slip (it has no waybill yet)."""

    __tablename__ = "parcel_claims"

    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), primary_key=True, autoincrement=False)
    station: Mapped[str] = mapped_column(String(64))
    packer_name: Mapped[str] = mapped_column(String(100), default="")
    pack_key: Mapped[str] = mapped_column(String(36))
    claimed_at: Mapped[datetime]
    renewed_at: Mapped[datetime]


class Lease(Base):
    """A job only one station may run at a time (scheduled collection, the dispatch uploader): held until
    ``expires_at``, renewed by its holder, taken over by another station once it lapses."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class StationRow(Base):
    """Which PC is a station name. Two PCs under one name on a shared database would release each other's
    claims, close each other's packs and interleave one hash chain: the second is refused at start while
    the first is alive (seen within ``stations.STALE``)."""

    __tablename__ = "stations"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    host_id: Mapped[str] = mapped_column(String(36))      # made once per PC install (config folder)
    host_name: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class ExpectedReturn(Base):
    """A return or an exchange a marketplace told of (``services/returns_expected.py``): a parcel a buyer sends
    back, so the station knows it when it arrives. One per (account, claim), updated as later collections see
    it move. The marketplace's words and times; no buyer data (what is stored of the buyer stays on the order)."""

    __tablename__ = "expected_returns"
    __table_args__ = (UniqueConstraint("account_id", "claim_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    market: Mapped[str] = mapped_column(MarketKind())            # the account's kind when collected
    claim_id: Mapped[str] = mapped_column(String(64))            # SmartStore claimId, Coupang receiptId
    claim_type: Mapped[str] = mapped_column(String(12))          # "return", "exchange"
    status: Mapped[str] = mapped_column(String(40))              # the marketplace's word
    order_no: Mapped[str] = mapped_column(String(64), index=True)  # the marketplace's order number
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)  # when collected here
    reason_code: Mapped[str] = mapped_column(String(100), default="")
    reason_text: Mapped[str] = mapped_column(Text, default="")
    courier_code: Mapped[str] = mapped_column(String(32), default="")    # the pickup's, our code
    tracking_number: Mapped[str] = mapped_column(String(40), default="", index=True)  # the return waybill
    requested_at: Mapped[datetime | None]                        # the marketplace's times
    updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # first collected
    collected_at: Mapped[datetime] = mapped_column(default=utcnow)  # last collected

    lines: Mapped[list[ExpectedReturnLine]] = relationship(back_populates="expected_return",
                                                           cascade="all, delete-orphan")


class ExpectedReturnLine(Base):
    """One product order an expected return brings back, linked to the line collected here when there is one."""

    __tablename__ = "expected_return_lines"
    __table_args__ = (UniqueConstraint("expected_return_id", "product_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expected_return_id: Mapped[int] = mapped_column(ForeignKey("expected_returns.id"))
    product_order_id: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"), index=True)

    expected_return: Mapped[ExpectedReturn] = relationship(back_populates="lines")


class ReturnInspection(Base):
    """A returned parcel opened on camera at a station (반품 검수, ``core/returns.py``): what came back, linked
    to the original order (its waybill and the outbound pack that completed it). Its video is a recording
    whose ``pack_key`` is this ``key``, indexed and chained like any other."""

    __tablename__ = "return_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(36), unique=True)  # uuid made by the station; the recording's pack_key
    station: Mapped[str] = mapped_column(String(64))
    packer_id: Mapped[int | None] = mapped_column(ForeignKey("packers.id"))
    packer_name: Mapped[str] = mapped_column(String(100))
    return_code: Mapped[str] = mapped_column(String(128), index=True)  # the first scan: return label, waybill, order
    waybill_id: Mapped[int | None] = mapped_column(ForeignKey("waybills.id"), index=True)  # the original's
    order_nos: Mapped[str] = mapped_column(Text, default="")  # the original's orders, comma-separated
    original_pack_session_id: Mapped[int | None] = mapped_column(ForeignKey("pack_sessions.id"))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    outcome: Mapped[PackOutcome] = mapped_column(_enum(PackOutcome), default=PackOutcome.OPEN)


class ReturnScan(Base):
    """Every scan of a return inspection, accepted or refused: its story for a claim."""

    __tablename__ = "return_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("return_inspections.id"), index=True)
    station: Mapped[str] = mapped_column(String(64))
    packer_name: Mapped[str] = mapped_column(String(100), default="")
    scanned_at: Mapped[datetime]
    code: Mapped[str] = mapped_column(String(128))
    source: Mapped[ScanSource] = mapped_column(_enum(ScanSource))
    kind: Mapped[str] = mapped_column(String(12))  # core/returns.py ReturnScanKind
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(40), default="")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    line_no: Mapped[int] = mapped_column(Integer, default=0)  # the returned item it is (or marks); 0: none
    condition: Mapped[str] = mapped_column(String(16), default="")


class ReturnItem(Base):
    """One item that came out of a returned box, as the inspection ended: sent by the original order or not
    ("not ours": a swap, a stranger's barcode), and its condition (core/returns.py ``Condition``)."""

    __tablename__ = "return_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("return_inspections.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(128))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    expected: Mapped[bool] = mapped_column(Boolean)
    condition: Mapped[str] = mapped_column(String(16), default="")
