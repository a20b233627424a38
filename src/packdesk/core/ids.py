"""Typed ids, so a waybill id is never passed where a line id belongs."""

from typing import NewType

AccountId = NewType("AccountId", int)
OrderId = NewType("OrderId", int)
LineId = NewType("LineId", int)
ItemId = NewType("ItemId", int)
WaybillId = NewType("WaybillId", int)
PackerId = NewType("PackerId", int)
PackSessionId = NewType("PackSessionId", int)
