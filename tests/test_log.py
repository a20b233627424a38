"""The log's formatter writes a database error without the data it was about, even from an engine that shows
its parameters and in a traceback with chained causes (the app's engines also hide them: core/db.py)."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from packdesk.log import LOG_FORMAT, PrivateFormatter

BUYER = ("홍길동", "010-9876-5432", "서울 비밀구 1번길")


def refused_insert() -> IntegrityError:
    engine = create_engine("sqlite://")  # no hide_parameters: its errors carry the row's values
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (name TEXT, phone TEXT, address TEXT CHECK (length(address) < 5))"))
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO orders VALUES (:n, :p, :a)"), {"n": BUYER[0], "p": BUYER[1], "a": BUYER[2]})
    except IntegrityError as e:
        assert BUYER[0] in str(e)  # what the formatter has to keep out
        return e
    finally:
        engine.dispose()
    pytest.fail("the check did not refuse the row")


def test_a_database_error_is_logged_without_its_parameters_in_message_and_traceback(
        expect_warnings: pytest.LogCaptureFixture) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(PrivateFormatter(LOG_FORMAT))
    log = logging.getLogger("packdesk.test-log")
    log.addHandler(handler)
    try:
        error = refused_insert()
        log.info("store failed: %s", error)
        try:
            raise RuntimeError("storing the batch failed") from error
        except RuntimeError:
            log.exception("job failed")
        log.warning("kept as a string: %s", str(error))  # made a string before it reached the log: the last net
    finally:
        log.removeHandler(handler)
    written = out.getvalue()
    assert "CHECK constraint failed" in written and "The above exception was the direct cause" in written
    assert "RuntimeError: storing the batch failed" in written and "in refused_insert" in written
    assert not any(value in written for value in BUYER), written
