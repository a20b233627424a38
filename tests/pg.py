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


TEMPLATE = "packdesk_template"


def _admin(url: str):  # type: ignore[no-untyped-def]
    """An autocommit engine on the server's ``postgres`` database (CREATE/DROP DATABASE run outside a
    transaction), and the test database's name."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT"), u.database


def make_template(url: str) -> str:
    """A database beside the test database, migrated to the newest revision once per run; returns its name."""
    from sqlalchemy.engine import make_url

    from packdesk.core.db import Database

    eng, _ = _admin(url)
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
    eng.dispose()
    Database.open(make_url(url).set(database=TEMPLATE).render_as_string(hide_password=False), create=True).close()
    return TEMPLATE


def from_template(url: str, template: str) -> str:
    """The test database made again as a copy of ``template`` (connections still open to it are ended);
    returns ``url``."""
    eng, name = _admin(url)
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    eng.dispose()
    return url
