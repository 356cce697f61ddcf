"""The statements of the payment hot path, built once, each naming the tenant itself.

A payment runs the same handful of statements thousands of times a minute. Built once with
bound parameters and run on the session's connection, they skip what costs the most CPU per
payment: building the expression, the ORM's execution layer and the session's automatic
tenant criteria (a loader-criteria rewrite per statement). So every statement here names the
tenant in its own ``WHERE`` (``:tenant_id``, always the session's tenant: see
:func:`_tenant`), exactly as the aging job's set-based statements do.

Rows are written with no ORM object and no unit-of-work flush: on PostgreSQL the payment, its
entry and its postings in one statement (``INSERT … ON CONFLICT DO NOTHING`` and data-modifying
``WITH`` clauses, in place of a savepoint and three INSERTs); elsewhere with Core INSERTs in a
savepoint (``executemany`` for the postings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    String,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    select,
    true,
)
from sqlalchemy.orm import Session

from almacen.gateway.db import UnscopedQueryError, new_id, utcnow

from .journal import RECEIVABLE_BOOKS, Leg, Outstanding, kept_legs
from .models import Account, Instalment, JournalEntry, Payment, Plan, Posting, Promise

__all__ = [
    "LockedAccount",
    "Precheck",
    "insert_payment",
    "lock",
    "read",
]

_TENANT = bindparam("tenant_id", type_=String(32))
_ACCOUNT = bindparam("account_id", type_=String(32))
_DAY = bindparam("day", type_=Date())

_LOCK = (
    select(Account.id, Account.currency, Account.originated_on, Account.status)
    .where(Account.tenant_id == _TENANT, Account.id == _ACCOUNT)
    .with_for_update()
)

# What the payment needs to know once its account is locked, in one round trip: a payment
# already posted with this external id (any account of the tenant), whether the account
# has pending promises or active plans to evaluate on the day it was received, and the date
# of its latest payment or payment reversal (a reversal is dated on or after its payment).
_PRECHECK = select(
    select(Payment.id)
    .where(Payment.tenant_id == _TENANT, Payment.external_id == bindparam("external_id"))
    .scalar_subquery()
    .label("existing"),
    exists()
    .where(
        Promise.tenant_id == _TENANT,
        Promise.account_id == _ACCOUNT,
        Promise.status == "pending",
        Promise.created_on <= _DAY,
    )
    .label("promised"),
    exists()
    .where(
        Plan.tenant_id == _TENANT,
        Plan.account_id == _ACCOUNT,
        Plan.status == "active",
        Plan.agreed_on <= _DAY,
    )
    .label("planned"),
    select(func.max(func.coalesce(JournalEntry.effective_on, Payment.received_on)))
    .select_from(Payment)
    .outerjoin(JournalEntry, JournalEntry.id == Payment.reversal_entry_id)
    .where(Payment.tenant_id == _TENANT, Payment.account_id == _ACCOUNT)
    .scalar_subquery()
    .label("latest"),
)

_COMPONENTS = list(RECEIVABLE_BOOKS)
_OUTSTANDING = (
    select(
        Instalment.id,
        Instalment.number,
        Instalment.due_on,
        *(
            func.sum(case((Posting.book == book, Posting.amount))).label(component)
            for component, book in RECEIVABLE_BOOKS.items()
        ),
    )
    .outerjoin(
        Posting,
        and_(
            Posting.instalment_id == Instalment.id,
            Posting.tenant_id == _TENANT,
            Posting.account_id == _ACCOUNT,
            Posting.book.in_(list(RECEIVABLE_BOOKS.values())),
            Posting.effective_on <= _DAY,
        ),
    )
    .where(
        Instalment.tenant_id == _TENANT,
        Instalment.account_id == _ACCOUNT,
        Instalment.active.is_(True),
    )
    .group_by(Instalment.id, Instalment.number, Instalment.due_on)
    .subquery("owed")
)
_PRE = _PRECHECK.subquery("pre")
# Both in one round trip: the precheck's one row, joined to each outstanding instalment
# (kept alone, its instalment columns NULL, when there is none).
_READ = (
    select(_PRE, _OUTSTANDING)
    .select_from(_PRE.outerjoin(_OUTSTANDING, true()))
    .order_by(_OUTSTANDING.c.due_on, _OUTSTANDING.c.number)
)


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_INSERT_ENTRY = insert(_table(JournalEntry))
_INSERT_POSTING = insert(_table(Posting))
_INSERT_PAYMENT = insert(_table(Payment))
_PAYMENT_COLUMNS = [column.key for column in _table(Payment).columns]


def _tenant(session: Session) -> str:
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise UnscopedQueryError("a payment is posted in a session opened for a tenant")
    return str(tenant_id)


class LockedAccount:
    """What a payment reads of its locked account."""

    __slots__ = ("currency", "id", "originated_on", "status")

    def __init__(self, id: str, currency: str, originated_on: dt.date, status: str) -> None:
        self.id, self.currency, self.originated_on, self.status = (
            id,
            currency,
            originated_on,
            status,
        )


def lock(session: Session, account_id: str) -> LockedAccount | None:
    """The account's row locked until the transaction ends (``SELECT … FOR UPDATE``), or None
    when the tenant has no such account."""
    row = (
        session.connection()
        .execute(_LOCK, {"tenant_id": _tenant(session), "account_id": account_id})
        .one_or_none()
    )
    return None if row is None else LockedAccount(*row)


class Precheck:
    """What :func:`read` found besides the instalments."""

    __slots__ = ("existing", "latest", "planned", "promised")

    def __init__(
        self,
        existing: str | None,
        promised: bool,
        planned: bool,
        latest: dt.date | None = None,
    ) -> None:
        self.existing, self.promised, self.planned = existing, bool(promised), bool(planned)
        #: The latest payment's date, or its reversal's; None before the first payment.
        self.latest = latest


def read(
    session: Session, account_id: str, external_id: str, day: dt.date
) -> tuple[Precheck, list[Outstanding]]:
    """What a payment reads once its account is locked, in one query.

    :return: the precheck (a payment already posted with ``external_id``, pending promises
        created by ``day``, active plans agreed by ``day``, the latest payment's or payment
        reversal's date) and, like
        :func:`~.journal.outstanding_by_instalment` for this one account, its active
        instalments (oldest first) with what each owed on ``day``.
    """
    rows = (
        session.connection()
        .execute(
            _READ,
            {
                "tenant_id": _tenant(session),
                "account_id": account_id,
                "external_id": external_id,
                "day": day,
            },
        )
        .all()
    )
    first = rows[0]
    check = Precheck(first[0], first[1], first[2], first[3])
    zero = Decimal(0)
    owed = [
        Outstanding(
            instalment_id=row[4],
            number=row[5],
            due_on=row[6],
            components={
                component: zero if amount is None else Decimal(amount)
                for component, amount in zip(_COMPONENTS, row[7:], strict=True)
            },
        )
        for row in rows
        if row[4] is not None
    ]
    return check, owed


def insert_payment(
    session: Session,
    payment: Payment,
    *,
    currency: str,
    legs: Sequence[Leg],
    memo: str,
) -> list[Leg] | None:
    """Write ``payment`` (a transient object: it is not added to the session) and its
    ``payment`` journal entry, unless the tenant already has a payment with its external id.

    On PostgreSQL one statement writes all three (:data:`_FOLDED`); elsewhere three INSERTs in
    a savepoint, the postings in one ``executemany``. Sets ``payment.id``, ``tenant_id``,
    ``entry_id`` and ``created_at``.

    :return: the legs written (zeros dropped), in posting order; None when a payment with the
        external id exists (committed by another transaction since the caller looked).
    :raises UnbalancedEntryError: when the legs do not sum to zero, or there are none.
    :raises IntegrityError: on another backend, when the external id is taken (the savepoint
        is rolled back) or another constraint fails.
    """
    tenant_id = _tenant(session)
    kept = kept_legs("payment", legs)
    now = utcnow()
    entry_id = new_id()
    payment.id = new_id()
    payment.tenant_id = tenant_id
    payment.entry_id = entry_id
    payment.created_at = now
    entry = {
        "id": entry_id,
        "tenant_id": tenant_id,
        "account_id": payment.account_id,
        "kind": "payment",
        "effective_on": payment.received_on,
        "posted_at": now,
        "memo": memo,
        "reverses_id": None,
    }
    postings = [
        {
            "tenant_id": tenant_id,
            "entry_id": entry_id,
            "account_id": payment.account_id,
            "instalment_id": leg.instalment_id,
            "book": leg.book,
            "amount": leg.amount,
            "currency": currency,
            "effective_on": payment.received_on,
            "position": position,
        }
        for position, leg in enumerate(kept)
    ]
    row: dict[str, Any] = {key: getattr(payment, key) for key in _PAYMENT_COLUMNS}
    if session.get_bind().dialect.name == "postgresql":
        connection = session.connection()
        params = {f"p_{key}": value for key, value in row.items()}
        params.update({f"e_{key}": value for key, value in entry.items()})
        for number, posting in enumerate(postings):
            params.update({f"l{number}_{key}": value for key, value in posting.items()})
        written = connection.exec_driver_sql(_folded(len(postings)), params).scalar_one()
        return kept if written else None
    with session.begin_nested():
        connection = session.connection()
        connection.execute(_INSERT_ENTRY, entry)
        connection.execute(_INSERT_POSTING, postings)
        connection.execute(_INSERT_PAYMENT, row)
    return kept


_FOLDED_CACHE: dict[int, str] = {}


def _folded(legs: int) -> str:
    """PostgreSQL: the payment, its entry and its ``legs`` postings in one statement.

    The payment goes first with ``ON CONFLICT DO NOTHING`` on the tenant's external id; the
    entry and the postings are selected from what it returned, so a taken external id writes
    nothing (where a savepoint and three INSERTs cost five round trips). Foreign keys are
    checked at the end of the statement, when all three are in. The statement answers 1 when
    the payment was written, 0 when not.
    """
    found = _FOLDED_CACHE.get(legs)
    if found is not None:
        return found

    def names(table: Table) -> list[str]:
        # The parameters are named by column key, as the rows are built; the same here.
        assert all(column.name == column.key for column in table.columns)
        return [column.name for column in table.columns]

    payment_columns = names(_table(Payment))
    entry_columns = names(_table(JournalEntry))
    posting_columns = names(_table(Posting))
    rows = ", ".join(
        "(" + ", ".join(f"%(l{number}_{name})s" for name in posting_columns) + ")"
        for number in range(legs)
    )
    # Only our own table and column names are spliced in; every value is a bound parameter.
    sql = (
        f"WITH payment AS (INSERT INTO {_table(Payment).name} ({', '.join(payment_columns)}) "  # noqa: S608
        f"VALUES ({', '.join(f'%(p_{name})s' for name in payment_columns)}) "
        "ON CONFLICT ON CONSTRAINT uq_ledger_payments_external_id DO NOTHING RETURNING id), "
        f"entry AS (INSERT INTO {_table(JournalEntry).name} ({', '.join(entry_columns)}) "
        f"SELECT {', '.join(f'%(e_{name})s' for name in entry_columns)} FROM payment "
        "RETURNING id), "
        f"postings AS (INSERT INTO {_table(Posting).name} ({', '.join(posting_columns)}) "
        f"SELECT {', '.join(f'v.{name}' for name in posting_columns)} "
        f"FROM (VALUES {rows}) AS v ({', '.join(posting_columns)}) CROSS JOIN entry) "
        "SELECT count(*) FROM payment"
    )
    _FOLDED_CACHE[legs] = sql
    return sql
