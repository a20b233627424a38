"""Reading a marketplace's JSON replies field by field, so a missing or mistyped field is reported by where it
is (``data[3].productOrder.quantity: expected an integer, got str '2'``) and nothing of a reply that breaks
its contract is used (``ChannelBadReply``). Channels subclass ``JsonNode`` where their contracts differ
(Naver's ids are strings, Coupang's are integers that can exceed 2**53)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Self

from packdesk.channels.http import ChannelBadReply
from packdesk.core.kst import KST

# fields whose value may be a buyer's (a name, phone, address, delivery message): their value is never shown
_PERSONAL = re.compile(r"name|tel|phone|mobile|addr|memo|message|zip|post|email|safe|receiver|orderer|recipient|buyer",
                       re.IGNORECASE)


def bad_field(path: str, expected: str, got: Any) -> ChannelBadReply:
    """The error for a field that breaks the contract; it names the field and the type it had, and shows the
    value only where it cannot be a buyer's (the detail is logged and kept with the run)."""
    personal = _PERSONAL.search(path.rpartition(".")[2].split("[")[0])
    shown = "missing" if got is None else f"{type(got).__name__}" + ("" if personal else f" {str(got)[:60]!r}")
    return ChannelBadReply(reason="bad_field", field=path, detail=f"{path}: expected {expected}, got {shown}")


class JsonNode:
    """A JSON object with its path."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise bad_field(path, "an object", value)
        self.value: dict[str, Any] = value
        self.path = path

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def has(self, key: str) -> bool:
        return self.value.get(key) is not None

    def obj(self, key: str) -> Self:
        return type(self)(self.value.get(key), self._at(key))

    def opt_obj(self, key: str) -> Self | None:
        return None if self.value.get(key) is None else self.obj(key)

    def array(self, key: str) -> list[Any]:
        value = self.value.get(key)
        if not isinstance(value, list):
            raise bad_field(self._at(key), "a list", value)
        return value

    def text(self, key: str) -> str:
        value = self.value.get(key)
        if not isinstance(value, str) or not value:
            raise bad_field(self._at(key), "a non-empty string", value)
        return value

    def opt_text(self, key: str) -> str:
        value = self.value.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise bad_field(self._at(key), "a string", value)
        return value

    def integer(self, key: str) -> int:
        value = self.value.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad_field(self._at(key), "an integer", value)
        return value

    def opt_bool(self, key: str) -> bool:
        value = self.value.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise bad_field(self._at(key), "true or false", value)
        return value

    def opt_datetime(self, key: str) -> datetime | None:
        """ISO-8601; without an offset the time is Korea's."""
        text = self.opt_text(key)
        if not text:
            return None
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise bad_field(self._at(key), "a date-time", text) from None
        return value if value.tzinfo is not None else value.replace(tzinfo=KST)
