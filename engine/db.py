"""Database connection: one SQLAlchemy engine per URL, SQLite in WAL mode, explicit transactions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

DOCUMENTS_ROOT = "motcua_documents_root"  # Session.info key: the stored documents' folder


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # Let SQLAlchemy's "begin" hook below issue BEGIN itself.
            dbapi_conn.isolation_level = None

        # pysqlite's implicit BEGIN is deferred; take the write lock up front so two writers
        # queue instead of one failing with "database is locked" at commit.
        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # jit=off: PostgreSQL's JIT compiles the report queries anew each time (~0.6 s of a 1.4 s yearly table at
    # 1M cases, EXPLAIN ANALYZE in docs/performance.md) and never pays back on queries this size.
    engine = create_engine(url, pool_size=10, max_overflow=20, connect_args={"options": "-c jit=off"})
    _ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping, but only for a connection that sat in the pool IDLE_PING_SECONDS or more: one busy with
    step after step is not pinged before every transaction (a round trip to the server each time), while one
    that waited through a database restart is tested and replaced before use."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):  # noqa: ANN001
        record.info["motcua_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):  # noqa: ANN001
        since = record.info.get("motcua_idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as e:  # noqa: BLE001 — any failure: the pool drops this connection and takes another
            raise exc.DisconnectionError(str(e)) from e


class Database:
    """Owns the engine and hands out sessions whose transaction commits on success, rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    def keep_documents_in(self, root: Path) -> None:
        """Where this deployment's stored documents are (Settings.documents_path): every session knows it, so the
        engine can reach a stored file where no request hands it the path (signing a result on return)."""
        self._factory.configure(info={DOCUMENTS_ROOT: Path(root)})

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def session(self) -> Session:
        """A session for read-only work; the caller closes it."""
        return self._factory()

    def dispose(self) -> None:
        self.engine.dispose()
