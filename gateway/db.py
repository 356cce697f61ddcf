"""Storage: one declarative base, the tenant-scoping rules, and a session per unit of work.

Every tenant-owned table mixes in :class:`TenantScoped`. A session opened for a tenant adds
``tenant_id = :tenant`` to every ORM query that touches such a table and stamps new rows with
the tenant; a session opened for no tenant refuses to query them at all unless the statement
says ``execution_options(all_tenants=True)``. So an unscoped query is hard to write by accident.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import time
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    MetaData,
    Numeric,
    String,
    Table,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import visitors

__all__ = [
    "Base",
    "Database",
    "ExactDecimal",
    "TenantScoped",
    "UnscopedQueryError",
    "aborted_for_concurrency",
    "new_id",
    "utcnow",
]

# Named constraints, so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base shared by the gateway, built-in modules and plugins."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> str:
    """A random identifier for a new row (32 hex digits)."""
    return uuid.uuid4().hex


#: SQLSTATEs with which PostgreSQL aborts a transaction for the sake of a concurrent one
#: (``serialization_failure``, ``deadlock_detected``); running it again is the remedy.
_ABORTED_FOR_CONCURRENCY = frozenset({"40001", "40P01"})


def aborted_for_concurrency(exc: BaseException) -> bool:
    """Whether the database rolled back a transaction because of a concurrent one, so that
    running the same work again in a new transaction may succeed."""
    return (
        isinstance(exc, DBAPIError)
        and getattr(exc.orig, "sqlstate", None) in _ABORTED_FOR_CONCURRENCY
    )


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given for a UTC timestamp column")
            value = value.astimezone(dt.UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored exactly on every backend: NUMERIC on PostgreSQL; on SQLite, whose
    NUMERIC keeps non-integers as floating point, an integer count of ``10**-scale`` units.

    SQL sums and comparisons stay exact (integers on SQLite); results come back as Decimal.
    Never divide two such columns in SQL: on SQLite that is integer division.

    :param scale: decimal places kept (4 suits every ISO 4217 currency).
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 20, scale: int = 4) -> None:
        super().__init__(precision, scale, asdecimal=True)
        self.scale = scale

    def load_dialect_impl(self, dialect: Any) -> Any:
        # An INTEGER on SQLite: read back as int, not through float (exact beyond 2**53).
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        scaled = Decimal(value).scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value)


class TenantScoped:
    """Mixin for every tenant-owned row: a ``tenant_id`` column, enforced on every query."""

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        return mapped_column(
            String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
        )


class UnscopedQueryError(RuntimeError):
    """Raised when tenant-owned rows are queried, or written, outside a tenant's session."""


_owned_tables: tuple[int, dict[str, str]] = (-1, {})


def _tenant_tables() -> dict[str, str]:
    """Table name → class name of every tenant-owned model, rebuilt when models are added."""
    global _owned_tables
    mappers = Base.registry.mappers
    if _owned_tables[0] != len(mappers):
        owned = {
            mapper.local_table.fullname: mapper.class_.__name__
            for mapper in mappers
            if issubclass(mapper.class_, TenantScoped) and isinstance(mapper.local_table, Table)
        }
        _owned_tables = (len(mappers), owned)
    return _owned_tables[1]


def _tenant_entities(statement: Any) -> list[str]:
    """Tenant-owned classes whose tables a statement touches anywhere: FROM, joins,
    subqueries, DML targets (not only its top-level entities)."""
    owned = _tenant_tables()
    return sorted(
        {
            owned[element.fullname]
            for element in visitors.iterate(statement)
            if isinstance(element, Table) and element.fullname in owned
        }
    )


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete or state.is_insert):
        return
    if state.execution_options.get("all_tenants", False):
        return
    names = _tenant_entities(state.statement)
    if not names:
        return
    tenant_id = state.session.info.get("tenant_id")
    if tenant_id is None:
        raise UnscopedQueryError(
            f"query on tenant-owned {', '.join(names)} in a session without a tenant; open the "
            "session for a tenant or pass execution_options(all_tenants=True)"
        )
    if state.is_insert:
        if getattr(state.statement, "select", None) is not None:
            # The rows come from a SELECT we cannot filter safely: the caller names the tenant.
            raise UnscopedQueryError(
                f"INSERT ... FROM SELECT into tenant-owned {', '.join(names)} is not scoped "
                "automatically; restrict the SELECT to the tenant and pass "
                "execution_options(all_tenants=True)"
            )
        params = state.parameters
        rows = [params] if params is None or isinstance(params, Mapping) else list(params)
        for row in rows:
            owner = (row or {}).get("tenant_id", tenant_id)
            if owner != tenant_id:
                raise UnscopedQueryError(
                    f"row of tenant {owner} inserted in tenant {tenant_id}'s session"
                )
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, _context: Any, _instances: Any) -> None:
    tenant_id = session.info.get("tenant_id")
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        current: str | None = obj.tenant_id
        if current is None and tenant_id is not None:
            obj.tenant_id = tenant_id
        elif tenant_id is not None and current != tenant_id:
            raise UnscopedQueryError(
                f"{type(obj).__name__} of tenant {current} written in tenant {tenant_id}'s session"
            )
        elif current is None:
            raise UnscopedQueryError(f"{type(obj).__name__} written without a tenant")


class Database:
    """An engine and its session factory.

    :param url: SQLAlchemy URL; ``sqlite:///file`` gets WAL mode and foreign keys.
    """

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_options)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: Copied into every session's ``info``: the app puts its plugin registry here (for
        #: actions) and ``on_events``, called after a commit that emitted events.
        self.info: dict[str, Any] = {}

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded default."""
        return self.engine.dialect.name == "sqlite"

    def session(self, *, tenant_id: str | None = None) -> Session:
        """A new session; with ``tenant_id`` every ORM query in it is scoped to that tenant."""
        session = self._sessions()
        session.info.update(self.info)
        session.info["tenant_id"] = tenant_id
        return session

    @contextlib.contextmanager
    def transaction(self, *, tenant_id: str | None = None) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on error."""
        with self.session(tenant_id=tenant_id) as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine with the per-backend settings the gateway relies on."""
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            raise ValueError("use a SQLite file: an in-memory database is not shared by workers")
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        # A pool of SQLite file connections buys little and holds locks across threads.
        options.setdefault("poolclass", NullPool)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own BEGIN handling defers locks; take them when the transaction starts so
        # that concurrent writers wait on busy_timeout instead of failing on upgrade.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    # One pooled connection per thread that can hold a session at once: a2wsgi runs Flask in
    # 10 threads per process, and the async side (idempotency, authentication) takes its own.
    # With SQLAlchemy's default of 5, connections beyond it were opened and closed per request.
    if "poolclass" not in options:
        options.setdefault("pool_size", POOL_SIZE)
        options.setdefault("max_overflow", 8)
    if "pool_pre_ping" in options:
        return create_engine(url, **options)
    engine = create_engine(url, **options)
    # pool_pre_ping's round trip on every checkout was a tenth of a cheap request's time;
    # only a connection that sat idle for a while can have been dropped unnoticed.
    event.listen(engine.pool, "checkin", _idle_since)
    event.listen(engine.pool, "checkout", functools.partial(_ping_if_idle, engine))
    return engine


#: Connections kept open per process (see :func:`make_engine`).
POOL_SIZE = 12

#: A pooled connection idle longer than this is pinged before use (``SELECT 1``); one used
#: more recently is trusted. After a database restart, at most one request per process can
#: meet a dropped connection used within this window: the error invalidates the whole pool.
PING_AFTER_IDLE_SECONDS = 1.0


def _idle_since(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(engine: Engine, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Pessimistic disconnect handling for idle connections only (SQLAlchemy's recipe):
    a failed ping makes the pool replace the connection and try again."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since <= PING_AFTER_IDLE_SECONDS:
        return
    try:
        engine.dialect.do_ping(dbapi_connection)
    except engine.dialect.loaded_dbapi.Error as exc:
        raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
