"""Plain enums shared by the model and the pure station logic (no SQLAlchemy needed here)."""

import enum


class ChannelKind(enum.StrEnum):
    DEMO = "demo"
    NAVER = "naver"
    SABANGNET = "sabangnet"
    COUPANG = "coupang"
    EXCEL = "excel"
    MANUAL = "manual"      # orders typed in at PackDesk (수기 주문)


# order sources with no marketplace behind them: nothing to confirm or dispatch
NO_MARKETPLACE = (ChannelKind.EXCEL, ChannelKind.MANUAL)


class LineStatus(enum.StrEnum):
    """Our own status of an order line, normalised from each marketplace's."""

    NEW = "new"                            # paid, place-order not yet confirmed
    CONFIRMED = "confirmed"                # 발주확인: ready to pack
    CANCEL_REQUESTED = "cancel_requested"  # buyer asked to cancel: hold, do not ship
    CANCELLED = "cancelled"
    PACKED = "packed"                      # packed here; dispatch pending
    DISPATCHED = "dispatched"              # tracking number accepted by the marketplace
    SHIPPED = "shipped"                    # marketplace says delivering or later (dispatched elsewhere)

    @property
    def packable(self) -> bool:
        return self in (LineStatus.NEW, LineStatus.CONFIRMED)


class PackOutcome(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    ABANDONED = "abandoned"  # the app stopped mid-pack (found open at next start)
    CLOSED = "closed"        # PackDesk was closed mid-pack, after asking: cancelled, the video ended cleanly


class ScanSource(enum.StrEnum):
    WEDGE = "wedge"
    SERIAL = "serial"
    MANUAL = "manual"


class ScanKind(enum.StrEnum):
    WAYBILL = "waybill"
    ITEM = "item"
    COMMAND = "command"
    PACKER = "packer"
    LABEL = "label"        # a courier label scanned at the end of a parcel's pack, to bind its number
    UNKNOWN = "unknown"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"  # found running with no process behind it (a crash, a PC switched off)


class RecordingStatus(enum.StrEnum):
    RECORDING = "recording"
    COMPLETE = "complete"
    FAILED = "failed"
    RECOVERED = "recovered"



class UploadState(enum.StrEnum):
    """Where a completed pack's video stands in the upload queue to the seller's storage (``video_uploads``)."""

    PENDING = "pending"      # to upload (again, after ``next_attempt_at``)
    UPLOADING = "uploading"  # claimed; if we die now the next pass resumes it (the storage keeps its parts)
    DONE = "done"            # the object is complete in the storage: never uploaded again
    FAILED = "failed"        # cannot be: the file is gone (retention, another PC); the link can't be made


class OutboxState(enum.StrEnum):
    """Where a dispatch (tracking number for one line) stands. The outbox is the only path to a marketplace."""

    PENDING = "pending"      # to send (again, after ``next_attempt_at``)
    SENDING = "sending"      # handed to the marketplace; if we die now the outcome is unknown: reconcile first
    SENT = "sent"            # accepted: never sent again
    REJECTED = "rejected"    # refused for good (marketplace's words kept); a supervisor fixes and resends
    HELD = "held"            # the line was cancelled after packing: not sent; pull the parcel
    HANDLED = "handled"      # a supervisor says it was done elsewhere
