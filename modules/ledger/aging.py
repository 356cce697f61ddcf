"""Days past due, aging buckets and the daily aging job, set-based in SQL.

An account's days past due (DPD) on a day are counted from the oldest active instalment that
fell due on or before that day and still has a positive receivable balance on it, summing
every ``receivable:*`` posting of that instalment effective on or before the day. An account
with no such instalment is current (0 DPD).

One grouped query over the postings finds, per account, that oldest unpaid due date and the
receivable balance. :func:`days_past_due` reads the dates and subtracts in Python, which is
portable and cheap for the accounts a request asks about. :func:`run_aging` keeps every row
in the database instead, because over 100,000 accounts the round trips cost more than the
query. It needs the pieces of SQL that differ between the backends, the number of days
between two dates (``julianday`` on SQLite, ``date - date`` on PostgreSQL), a random id for
the snapshot rows it inserts from a SELECT, and amounts as whole units for a cheap exact sum
(BIGINT on PostgreSQL, what SQLite stores anyway); all are compiled per dialect below.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from . import events
from .journal import RECEIVABLE_BOOKS
from .models import MONEY, Account, AgingSnapshot, Instalment, Posting

__all__ = [
    "AgingReport",
    "BucketChange",
    "bucket_for",
    "days_past_due",
    "run_aging",
]

_RECEIVABLE = list(RECEIVABLE_BOOKS.values())
#: PostgreSQL's ``work_mem`` while the job aggregates the journal (see :func:`_room_to_aggregate`).
AGGREGATE_WORK_MEM = "256MB"
# Ids per IN list: well under SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
_CHUNK = 5000


@dataclasses.dataclass
class BucketChange:
    """An account that moved from one aging bucket to another."""

    account_id: str
    old: str
    new: str
    days_past_due: int


@dataclasses.dataclass
class AgingReport:
    """What one aging run did."""

    as_of: dt.date
    #: Accounts aged, per bucket (every configured bucket, zero included).
    counts: dict[str, int]
    #: Accounts whose bucket changed, for ``ledger.bucket_changed``.
    changed: list[BucketChange]
    #: Accounts charged off by this run (their DPD reached their product's threshold).
    charged_off: list[str] = dataclasses.field(default_factory=list)


# -- the two dialect-specific expressions -----------------------------------------------------


class _DaysBetween(FunctionElement[int]):
    """Whole days from the second date to the first; NULL when either is NULL."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


@compiles(_DaysBetween, "sqlite")
def _days_between_sqlite(element: _DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(_DaysBetween, "postgresql")
def _days_between_postgresql(element: _DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later} - {earlier})"


class _RandomId(FunctionElement[str]):
    """32 random hex digits per row, like :func:`almacen.gateway.db.new_id`."""

    type = String(32)
    name = "random_id"
    inherit_cache = True


@compiles(_RandomId, "sqlite")
def _random_id_sqlite(element: _RandomId, compiler: SQLCompiler, **kw: Any) -> str:
    return "lower(hex(randomblob(16)))"


@compiles(_RandomId, "postgresql")
def _random_id_postgresql(element: _RandomId, compiler: SQLCompiler, **kw: Any) -> str:
    # gen_random_uuid() is built in from PostgreSQL 13 on.
    return "replace(CAST(gen_random_uuid() AS TEXT), '-', '')"


class _Units(FunctionElement[int]):
    """A money column as a whole number of its smallest units (``10**-MONEY.scale``).

    Summed as BIGINT, PostgreSQL aggregates in 128-bit integers where ``sum(numeric)`` keeps
    a NUMERIC state per group: the job's million-group aggregate then needs half the memory
    and stays within ``work_mem`` longer. Exact: the column has :data:`MONEY.scale`
    decimals. On SQLite the column already holds units (see ``ExactDecimal``).
    """

    type = BigInteger()
    name = "money_units"
    inherit_cache = True


@compiles(_Units, "sqlite")
def _units_sqlite(element: _Units, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_Units, "postgresql")
def _units_postgresql(element: _Units, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) * {10**MONEY.scale} AS BIGINT)"


class _FromUnits(FunctionElement[Decimal]):
    """The inverse of :class:`_Units`: a sum of units back as the money column's value."""

    type = MONEY
    name = "from_money_units"
    inherit_cache = True


@compiles(_FromUnits, "sqlite")
def _from_units_sqlite(element: _FromUnits, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_FromUnits, "postgresql")
def _from_units_postgresql(element: _FromUnits, compiler: SQLCompiler, **kw: Any) -> str:
    units = compiler.process(element.clauses, **kw)
    return f"CAST(CAST({units} AS NUMERIC) / {10**MONEY.scale} AS NUMERIC(20, {MONEY.scale}))"


# -- days past due ---------------------------------------------------------------------------


def _figures(as_of: dt.date, tenant_id: str, account_ids: Sequence[str] | None = None) -> Any:
    """Subquery of ``account_id``, ``balance`` (receivable total) and ``oldest`` (earliest due
    date still owed, or NULL) per account with receivable postings on or before ``as_of``.

    The postings are read once: summed per instalment, then per account. Postings without an
    instalment count toward the balance only. The tenant is named in the SQL because the
    session's automatic scoping does not reach the SELECT of an ``INSERT … SELECT``.
    ``account_ids`` narrows the postings read to those accounts'.
    """
    summed = (
        select(
            Posting.account_id.label("account_id"),
            Posting.instalment_id.label("instalment_id"),
            # Whole units: see _Units (a BIGINT sum of BIGINTs stays BIGINT below).
            cast(func.sum(_Units(Posting.amount)), BigInteger).label("owed"),
        )
        .where(
            Posting.tenant_id == tenant_id,
            Posting.book.in_(_RECEIVABLE),
            Posting.effective_on <= as_of,
        )
        .group_by(Posting.account_id, Posting.instalment_id)
    )
    if account_ids is not None:
        summed = summed.where(Posting.account_id.in_(account_ids))
    per_instalment = summed.subquery("per_instalment")
    overdue = and_(
        # Whole units on both backends (see _Units): a paid instalment sums to exactly 0.
        per_instalment.c.owed > 0,
        Instalment.active.is_(True),
        Instalment.due_on <= as_of,
    )
    return (
        select(
            per_instalment.c.account_id,
            _FromUnits(func.sum(per_instalment.c.owed)).label("balance"),
            func.min(case((overdue, Instalment.due_on))).label("oldest"),
        )
        .select_from(per_instalment)
        .outerjoin(
            Instalment,
            and_(
                Instalment.id == per_instalment.c.instalment_id,
                Instalment.tenant_id == tenant_id,
            ),
        )
        .group_by(per_instalment.c.account_id)
        .subquery("figures")
    )


def days_past_due(
    session: Session, account_ids: Sequence[str] | None, *, as_of: dt.date
) -> dict[str, int]:
    """Days past due of accounts on ``as_of``, from the journal as it stood that day.

    :param session: a tenant's session.
    :param account_ids: the accounts to look at; ``None`` for every account of the tenant.
    :param as_of: the day; postings effective later are ignored.
    :return: account id → days past due (0 when nothing is overdue); ids that are not the
        tenant's accounts are left out.
    """
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise ValueError("days_past_due needs a tenant's session")
    if account_ids is None:
        chunks: list[Sequence[str] | None] = [None]
    else:
        ids = list(dict.fromkeys(account_ids))
        chunks = [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    result: dict[str, int] = {}
    for chunk in chunks:
        # Only the asked accounts' postings are summed: a request about one account must not
        # read the whole portfolio's journal.
        figures = _figures(as_of, tenant_id, chunk)
        statement = select(Account.id, figures.c.oldest).outerjoin(
            figures, figures.c.account_id == Account.id
        )
        if chunk is not None:
            statement = statement.where(Account.id.in_(chunk))
        for account_id, oldest in session.execute(statement):
            result[account_id] = 0 if oldest is None else (as_of - oldest).days
    return result


# -- buckets ---------------------------------------------------------------------------------


def bucket_for(days: int, buckets: Sequence[Mapping[str, Any]]) -> str:
    """The bucket of an account ``days`` past due: the last whose ``from_days`` ≤ ``days``.

    :param buckets: ``{"name", "from_days"}`` mappings in increasing ``from_days`` order, the
        first from 0 (as :class:`~.config.LedgerConfigSchema` validates them).
    :raises ValueError: when no bucket starts at or below ``days``.
    """
    name: str | None = None
    for bucket in buckets:
        if bucket["from_days"] <= days:
            name = str(bucket["name"])
        else:
            break
    if name is None:
        raise ValueError(f"no aging bucket covers {days} days past due")
    return name


def _bucket_case(days: ColumnElement[int], buckets: Sequence[Mapping[str, Any]]) -> Any:
    """:func:`bucket_for` as a SQL ``CASE``, highest edge first."""
    first, *rest = buckets
    if not rest:
        return literal(str(first["name"]), String(20))
    whens = [(days >= int(b["from_days"]), literal(str(b["name"]))) for b in reversed(rest)]
    return case(*whens, else_=literal(str(first["name"])))


# -- the aging job ---------------------------------------------------------------------------


def run_aging(session: Session, *, as_of: dt.date, config: Mapping[str, Any]) -> AgingReport:
    """Age every open account of the session's tenant on ``as_of``.

    Set-based, so that the work grows with the size of the journal and not with round trips:

    1. one ``INSERT … SELECT`` computes every open account's DPD, bucket and receivable
       balance into that day's :class:`~.models.AgingSnapshot` rows (after deleting the
       open accounts' snapshots of the day, so a re-run replaces them);
    2. bucket changes and counts per bucket are read back from the snapshots, joined to the
       accounts' previous state;
    3. one ``UPDATE … FROM`` copies DPD, bucket and ``aged_on`` to the accounts;
    4. accounts whose DPD reach ``config["charge_off_days"][product_type]`` become
       ``charged_off`` (one UPDATE per 5,000 of them).

    A re-run for the same day reports no change the first run already made, so events are
    not sent twice; snapshots of accounts the first run charged off stay. A run for a day
    before an account's ``aged_on`` (a backfill) writes the snapshot but leaves the account's
    DPD, bucket and status alone.

    :param session: a tenant's session.
    :param as_of: the day to age for.
    :param config: the tenant's ledger configuration (``buckets``, ``charge_off_days``).
    :return: counts per bucket, bucket changes and charge-offs.
    :raises ValueError: when the session has no tenant.
    """
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise ValueError("run_aging needs a tenant's session")
    buckets = config["buckets"]
    charge_off_days: Mapping[str, int] = config.get("charge_off_days") or {}
    _forget_loaded_accounts(session)

    # Every condition names the tenant: see _figures.
    open_now = and_(Account.tenant_id == tenant_id, Account.status == "open")
    current = or_(Account.aged_on.is_(None), Account.aged_on <= as_of)

    # 1. The snapshots, computed in the database.
    session.execute(
        delete(AgingSnapshot)
        .where(
            AgingSnapshot.tenant_id == tenant_id,
            AgingSnapshot.as_of == as_of,
            AgingSnapshot.account_id.in_(select(Account.id).where(open_now).scalar_subquery()),
        )
        .execution_options(synchronize_session=False)
    )
    figures = _figures(as_of, tenant_id)
    day = literal(as_of, Date)
    aged = (
        select(
            Account.tenant_id.label("tenant_id"),
            Account.id.label("account_id"),
            func.coalesce(_DaysBetween(day, figures.c.oldest), 0).label("days_past_due"),
            func.coalesce(figures.c.balance, 0).label("balance"),
        )
        .outerjoin(figures, figures.c.account_id == Account.id)
        .where(open_now)
        .subquery("aged")
    )
    with _room_to_aggregate(session):
        session.execute(
            insert(AgingSnapshot).from_select(
                ["id", "tenant_id", "account_id", "as_of", "days_past_due", "bucket", "balance"],
                select(
                    _RandomId(),
                    aged.c.tenant_id,
                    aged.c.account_id,
                    day,
                    aged.c.days_past_due,
                    _bucket_case(aged.c.days_past_due, buckets),
                    aged.c.balance,
                ),
            ),
            # Every condition of the SELECT above names the tenant (see _figures and open_now).
            execution_options={"all_tenants": True},
        )

    # 2. What moved, and how many are where.
    todays = and_(
        AgingSnapshot.tenant_id == tenant_id,
        AgingSnapshot.account_id == Account.id,
        AgingSnapshot.as_of == as_of,
    )
    changed = [
        BucketChange(account_id, old, new, days)
        for account_id, old, new, days in session.execute(
            select(Account.id, Account.bucket, AgingSnapshot.bucket, AgingSnapshot.days_past_due)
            .join(AgingSnapshot, todays)
            .where(open_now, current, Account.bucket != AgingSnapshot.bucket)
            .order_by(Account.id)
        )
    ]
    events.buckets_changed(
        session,
        [(c.account_id, c.old, c.new, c.days_past_due) for c in changed],
        as_of=as_of,
    )
    counts = {str(b["name"]): 0 for b in buckets}
    for bucket, count in session.execute(
        select(AgingSnapshot.bucket, func.count())
        .join(Account, todays)
        .where(open_now)
        .group_by(AgingSnapshot.bucket)
    ):
        counts[bucket] = count

    # 3. The accounts' current state, in one statement.
    session.execute(
        update(Account)
        .where(todays, open_now, current)
        .values(
            days_past_due=AgingSnapshot.days_past_due,
            bucket=AgingSnapshot.bucket,
            aged_on=as_of,
        )
        .execution_options(synchronize_session=False)
    )

    # 4. Charge-offs, among the accounts this run aged.
    thresholds = [
        and_(Account.product_type == product, Account.days_past_due >= days)
        for product, days in sorted(charge_off_days.items())
    ]
    charged_off: list[str] = []
    if thresholds:
        charged_off = list(
            session.scalars(
                select(Account.id)
                .where(open_now, Account.aged_on == as_of, or_(*thresholds))
                .order_by(Account.id)
            )
        )
    for start in range(0, len(charged_off), _CHUNK):
        session.execute(
            update(Account)
            .where(Account.id.in_(charged_off[start : start + _CHUNK]))
            .values(status="charged_off", closed_on=as_of)
            .execution_options(synchronize_session=False)
        )
    return AgingReport(as_of=as_of, counts=counts, changed=changed, charged_off=charged_off)


@contextlib.contextmanager
def _room_to_aggregate(session: Session) -> Iterator[None]:
    """On PostgreSQL, raise ``work_mem`` for the block, within the transaction only.

    Grouping the postings of 100,000 accounts per instalment makes over a million groups:
    with the default 4 MB the hash aggregate spills to disk in batches. The setting is
    transaction-local (``set_config(..., true)``): a rollback undoes it, and it is put back
    when the block ends.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    previous = session.execute(select(func.current_setting("work_mem"))).scalar_one()
    session.execute(select(func.set_config("work_mem", AGGREGATE_WORK_MEM, True)))
    yield
    session.execute(select(func.set_config("work_mem", previous, True)))


def _forget_loaded_accounts(session: Session) -> None:
    """Flush, then expire the aging columns of accounts loaded in the session: the bulk
    statements bypass the identity map, which would otherwise keep serving old values."""
    session.flush()
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Account):
            session.expire(obj, ["days_past_due", "bucket", "aged_on", "status"])
