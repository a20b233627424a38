"""A PostgreSQL database emptied for a run (the tests' second pass, bench/stations.py)."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def emptied(url: str) -> str:
    """The same server and database, every table dropped (a run starts from a clean schema); returns ``url``."""
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()
    return url
