"""Fixtures the services' tests share."""

from __future__ import annotations

import pytest

from packdesk.core.db import Database
from packdesk.services import excel_orders as eo


@pytest.fixture
def platform(db: Database) -> eo.Platform:
    """A sales platform for orders from Excel (판매처), as a supervisor adds it."""
    with db.session() as s:
        return eo.create_platform(s, "자사몰 수기")
