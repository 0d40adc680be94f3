"""Engine and sessions: SQLite (WAL mode) by default, any SQLAlchemy URL by configuration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    """Declarative base of every table."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite connections get WAL journaling and foreign keys."""
    if url.startswith("sqlite"):
        # a pool as large as the request thread pool's concurrency: a connection beyond the pool is
        # opened (with its PRAGMAs) and closed again for every request, which showed under load
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, pool_size=40, max_overflow=20, pool_timeout=30
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine) -> sessionmaker[Session]:
    """Bring the database to the newest schema (Alembic migrations) and return a session factory.

    A new database gets every revision; one made before the studio used Alembic is adopted first
    (see :mod:`backend.app.migrations.legacy`), keeping every row.
    """
    from backend.app import migrations

    migrations.upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
