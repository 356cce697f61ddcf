"""Portfolio KPIs, computed set-based in SQL over the journal, promises and aging snapshots.

Every query runs on a tenant's session, so it only ever reads that tenant's rows. Amounts are
grouped by currency (a tenant may keep accounts in several); rates are plain ratios of
counts or of amounts in one currency, as Decimals rounded half-up to :data:`RATE_PLACES`,
and ``None`` where the denominator is zero.

Definitions (also in ``openapi/ledger.yaml``):

* **portfolio** — open accounts and their receivable balance per aging bucket, read from
  the latest aging snapshot on or before ``as_of`` (``source="snapshot"``) or computed from
  the journal as of that day (``source="live"``) when no snapshot is that old or when asked;
* **roll rate** from bucket *i* to *j* — of the accounts in *i* at the first month's end,
  the share (by count, and by their first-month balance) that are in *j* at the second
  month's end; "month's end" is the latest aging snapshot taken in that month, and an
  account with no snapshot then (settled, charged off, closed) rolls to ``None``;
* **cure rate** — of the accounts past due (DPD > 0) at the first month's end, the share
  current (DPD 0) at the second month's end;
* **promise kept rate** — promises that came due in the period (``due_on`` within it,
  cancelled ones left out): kept / came due, partially kept / came due, as evaluated so far
  (promises still within their grace days count as ``pending``);
* **recovery** — per origination cohort (month) and collection month: cash collected
  (payments net of reversals, by effective date) and, cumulatively since origination, over
  the balance placed (everything charged to the receivable on the origination date: the
  principal and any opening fee).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from almacen.gateway.errors import UnprocessableError

from .aging import _bucket_case, _DaysBetween, _figures
from .journal import RECEIVABLE_BOOKS
from .models import Account, AgingSnapshot, JournalEntry, Posting, Promise

__all__ = [
    "RATE_PLACES",
    "CureRate",
    "Month",
    "PortfolioBucket",
    "PortfolioReport",
    "PromiseRate",
    "RecoveryCell",
    "RollCell",
    "RollReport",
    "cure_rate",
    "portfolio",
    "promise_kept_rate",
    "recovery",
    "roll_rates",
]

#: Decimal places of every rate.
RATE_PLACES = 4
#: Most collection months one recovery report covers.
MAX_MONTHS = 36
_RECEIVABLE = list(RECEIVABLE_BOOKS.values())
_ZERO = Decimal(0)


def rate(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """``numerator / denominator`` rounded half-up to :data:`RATE_PLACES`; ``None`` over 0."""
    if not denominator:
        return None
    quotient = Decimal(numerator) / Decimal(denominator)
    return quotient.quantize(Decimal(1).scaleb(-RATE_PLACES), rounding=ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True, order=True)
class Month:
    """A calendar month, ``YYYY-MM`` on the wire."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM`` as a month.

        :raises ValueError: when it is not one.
        """
        year, _, month = text.partition("-")
        if len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
            raise ValueError(f"{text!r} is not a month (YYYY-MM)")
        if not 1 <= int(month) <= 12 or not 1900 <= int(year) <= 2200:
            raise ValueError(f"{text!r} is not a month (YYYY-MM) between 1900 and 2200")
        return cls(int(year), int(month))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        """The month ``day`` falls in."""
        return cls(day.year, day.month)

    @property
    def first(self) -> dt.date:
        """Its first day."""
        return dt.date(self.year, self.month, 1)

    @property
    def last(self) -> dt.date:
        """Its last day."""
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def next(self) -> Month:
        """The month after."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def until(self, end: Month) -> list[Month]:
        """This month and every one after it up to ``end``, inclusive."""
        months, month = [], self
        while month <= end:
            months.append(month)
            month = month.next()
        return months

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _fault(parameter: str, detail: str) -> UnprocessableError:
    return UnprocessableError(
        f"{parameter}: {detail}",
        errors=[{"parameter": parameter, "in": "query", "detail": detail}],
    )


def _tenant(session: Session) -> str:
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise ValueError("KPIs need a tenant's session")
    return str(tenant_id)


# -- portfolio by bucket ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class PortfolioBucket:
    """Open accounts of one currency in one bucket, and their receivable balance."""

    currency: str
    bucket: str
    accounts: int
    balance: Decimal


@dataclasses.dataclass(frozen=True, kw_only=True)
class PortfolioReport:
    """The portfolio by bucket as of a day, and where the figures came from."""

    as_of: dt.date
    #: ``snapshot`` or ``live``.
    source: str
    #: The day of the snapshot read (``None`` when live).
    snapshot_on: dt.date | None
    #: Every configured bucket of every currency held, zeros included, in bucket order.
    buckets: list[PortfolioBucket]


def latest_snapshot_day(session: Session, *, on_or_before: dt.date) -> dt.date | None:
    """The latest day the aging job wrote snapshots for, on or before a day."""
    day: dt.date | None = session.scalar(
        select(func.max(AgingSnapshot.as_of)).where(AgingSnapshot.as_of <= on_or_before)
    )
    return day


def portfolio(
    session: Session,
    *,
    as_of: dt.date,
    config: Mapping[str, Any],
    source: str = "auto",
) -> PortfolioReport:
    """Open accounts and receivable balance per currency and bucket as of a day.

    :param as_of: the day.
    :param config: the tenant's ledger configuration (``buckets``).
    :param source: ``snapshot`` (the latest aging snapshot on or before ``as_of``), ``live``
        (computed from the journal as it stood on ``as_of``, for the accounts originated by
        then and not yet closed) or ``auto`` (the snapshot when there is one, else live).
    :raises UnprocessableError: when ``source`` is ``snapshot`` and there is none.
    """
    buckets: Sequence[Mapping[str, Any]] = config["buckets"]
    snapshot_on = None
    if source != "live":
        snapshot_on = latest_snapshot_day(session, on_or_before=as_of)
        if snapshot_on is None and source == "snapshot":
            raise _fault("source", f"the aging job wrote no snapshot on or before {as_of}")
    if snapshot_on is not None:
        rows = session.execute(
            select(
                Account.currency,
                AgingSnapshot.bucket,
                func.count(),
                func.sum(AgingSnapshot.balance),
            )
            .join(Account, Account.id == AgingSnapshot.account_id)
            .where(AgingSnapshot.as_of == snapshot_on)
            .group_by(Account.currency, AgingSnapshot.bucket)
        ).all()
    else:
        rows = _live_portfolio(session, as_of=as_of, buckets=buckets)
    found: dict[str, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    for currency, bucket, count, balance in rows:
        found[currency][bucket] = (int(count), Decimal(balance or 0))
    names = [str(b["name"]) for b in buckets]
    report = []
    for currency in sorted(found):
        # Buckets no longer configured (the tenant changed its edges) still show, last.
        extra = sorted(set(found[currency]) - set(names))
        for name in names + extra:
            count, balance = found[currency].get(name, (0, _ZERO))
            report.append(
                PortfolioBucket(currency=currency, bucket=name, accounts=count, balance=balance)
            )
    return PortfolioReport(
        as_of=as_of,
        source="snapshot" if snapshot_on is not None else "live",
        snapshot_on=snapshot_on,
        buckets=report,
    )


def open_on(day: dt.date) -> ColumnElement[bool]:
    """Accounts open on ``day``: open now, or closed (settled, charged off) after it."""
    return or_(Account.status == "open", Account.closed_on > day)


def _live_portfolio(
    session: Session, *, as_of: dt.date, buckets: Sequence[Mapping[str, Any]]
) -> Sequence[Any]:
    """The aging job's computation, grouped instead of written (see :func:`.aging.run_aging`)."""
    figures = _figures(as_of, _tenant(session))
    days = func.coalesce(_DaysBetween(literal(as_of, Date), figures.c.oldest), 0)
    aged = (
        select(
            Account.currency.label("currency"),
            _bucket_case(days, buckets).label("bucket"),
            func.coalesce(figures.c.balance, 0).label("balance"),
        )
        .outerjoin(figures, figures.c.account_id == Account.id)
        .where(open_on(as_of), Account.originated_on <= as_of)
        .subquery("aged")
    )
    # Grouped on the subquery's columns: PostgreSQL will not match a CASE with bound
    # parameters in GROUP BY to the same CASE in the select list.
    return session.execute(
        select(aged.c.currency, aged.c.bucket, func.count(), func.sum(aged.c.balance)).group_by(
            aged.c.currency, aged.c.bucket
        )
    ).all()


# -- roll rates and cure rate ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class RollCell:
    """Accounts of one currency that were in ``from_bucket`` and are in ``to_bucket``."""

    currency: str
    from_bucket: str
    #: ``None``: no snapshot at the second month's end (no longer open).
    to_bucket: str | None
    accounts: int
    #: Of the accounts in ``from_bucket`` at the first month's end.
    account_share: Decimal | None
    #: Their balance at the first month's end.
    balance: Decimal
    #: Of the balance of ``from_bucket`` at the first month's end.
    balance_share: Decimal | None
    #: Their balance at the second month's end.
    balance_at_end: Decimal


@dataclasses.dataclass(frozen=True, kw_only=True)
class RollReport:
    """Roll rates between two month ends."""

    start: Month
    end: Month
    start_on: dt.date
    end_on: dt.date
    cells: list[RollCell]


def month_end_snapshot(session: Session, month: Month, parameter: str) -> dt.date:
    """The day of the latest aging snapshot taken in ``month``.

    :raises UnprocessableError: when the aging job did not run that month.
    """
    day: dt.date | None = session.scalar(
        select(func.max(AgingSnapshot.as_of)).where(
            AgingSnapshot.as_of >= month.first, AgingSnapshot.as_of <= month.last
        )
    )
    if day is None:
        raise _fault(parameter, f"the aging job wrote no snapshot in {month}")
    return day


def _two_month_ends(session: Session, start: Month, end: Month) -> tuple[dt.date, dt.date]:
    if end <= start:
        raise _fault("to", f"{end} must be after {start}")
    return month_end_snapshot(session, start, "from"), month_end_snapshot(session, end, "to")


def _transitions(session: Session, start_on: dt.date, end_on: dt.date) -> Sequence[Any]:
    """Per currency, first bucket, first DPD > 0, last bucket (NULL when gone) and last
    DPD = 0: the accounts, their balances then and now. One grouped query."""
    then = aliased(AgingSnapshot, name="then")
    now = aliased(AgingSnapshot, name="now")
    moved = (
        select(
            Account.currency.label("currency"),
            then.bucket.label("from_bucket"),
            (then.days_past_due > 0).label("was_late"),
            now.bucket.label("to_bucket"),
            (now.days_past_due == 0).label("is_current"),
            then.balance.label("balance"),
            func.coalesce(now.balance, 0).label("balance_at_end"),
        )
        .select_from(then)
        .join(Account, Account.id == then.account_id)
        .outerjoin(now, and_(now.account_id == then.account_id, now.as_of == end_on))
        .where(then.as_of == start_on)
        .subquery("moved")
    )
    c = moved.c
    keys = (c.currency, c.from_bucket, c.was_late, c.to_bucket, c.is_current)
    return session.execute(
        select(*keys, func.count(), func.sum(c.balance), func.sum(c.balance_at_end)).group_by(*keys)
    ).all()


def roll_rates(
    session: Session, *, start: Month, end: Month, config: Mapping[str, Any]
) -> RollReport:
    """Roll rates between the aging snapshots at the end of two months.

    :param start: the first month; its latest snapshot is the starting point.
    :param end: the second month, after ``start``.
    :param config: the tenant's ledger configuration (``buckets``, for the order of cells).
    :raises UnprocessableError: when ``end`` is not after ``start``, or either month has no
        snapshot.
    """
    start_on, end_on = _two_month_ends(session, start, end)
    grouped: dict[tuple[str, str, str | None], list[Any]] = defaultdict(lambda: [0, _ZERO, _ZERO])
    origin: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, _ZERO])
    for currency, from_bucket, _late, to_bucket, _cur, count, balance, at_end in _transitions(
        session, start_on, end_on
    ):
        cell = grouped[(currency, from_bucket, to_bucket)]
        cell[0] += int(count)
        cell[1] += Decimal(balance or 0)
        cell[2] += Decimal(at_end or 0)
        totals = origin[(currency, from_bucket)]
        totals[0] += int(count)
        totals[1] += Decimal(balance or 0)
    order = {str(b["name"]): n for n, b in enumerate(config["buckets"])}

    def rank(bucket: str | None) -> tuple[int, int, str]:
        if bucket is None:
            return (2, 0, "")
        return (0, order[bucket], bucket) if bucket in order else (1, 0, bucket)

    cells = [
        RollCell(
            currency=currency,
            from_bucket=from_bucket,
            to_bucket=to_bucket,
            accounts=count,
            account_share=rate(count, origin[(currency, from_bucket)][0]),
            balance=balance,
            balance_share=rate(balance, origin[(currency, from_bucket)][1]),
            balance_at_end=at_end,
        )
        for (currency, from_bucket, to_bucket), (count, balance, at_end) in sorted(
            grouped.items(), key=lambda item: (item[0][0], rank(item[0][1]), rank(item[0][2]))
        )
    ]
    return RollReport(start=start, end=end, start_on=start_on, end_on=end_on, cells=cells)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CureRate:
    """Of one currency's accounts past due at the first month's end, how many are current."""

    currency: str
    delinquent: int
    delinquent_balance: Decimal
    cured: int
    cured_balance: Decimal
    #: No snapshot at the second month's end (settled, charged off or closed).
    exited: int
    cure_rate: Decimal | None


def cure_rate(
    session: Session, *, start: Month, end: Month
) -> tuple[dt.date, dt.date, list[CureRate]]:
    """Cure rates between the aging snapshots at the end of two months, per currency.

    :return: the two snapshot days and a :class:`CureRate` per currency with delinquent
        accounts.
    :raises UnprocessableError: as :func:`roll_rates`.
    """
    start_on, end_on = _two_month_ends(session, start, end)
    figures: dict[str, list[Any]] = defaultdict(lambda: [0, _ZERO, 0, _ZERO, 0])
    for currency, _from, late, to_bucket, current, count, balance, _end in _transitions(
        session, start_on, end_on
    ):
        if not late:
            continue
        row = figures[currency]
        row[0] += int(count)
        row[1] += Decimal(balance or 0)
        if to_bucket is None:
            row[4] += int(count)
        elif current:
            row[2] += int(count)
            row[3] += Decimal(balance or 0)
    rates = [
        CureRate(
            currency=currency,
            delinquent=late,
            delinquent_balance=late_balance,
            cured=cured,
            cured_balance=cured_balance,
            exited=exited,
            cure_rate=rate(cured, late),
        )
        for currency, (late, late_balance, cured, cured_balance, exited) in sorted(figures.items())
    ]
    return start_on, end_on, rates


# -- promises --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class PromiseRate:
    """Promises of one currency that came due in a period, by outcome."""

    currency: str
    #: Not cancelled, due within the period: the denominator of the rates.
    came_due: int
    kept: int
    partially_kept: int
    broken: int
    #: Still within grace days; they count in ``came_due``.
    pending: int
    #: Due in the period but withdrawn; not in ``came_due``.
    cancelled: int
    kept_rate: Decimal | None
    partially_kept_rate: Decimal | None
    promised: Decimal
    paid: Decimal


def promise_kept_rate(session: Session, *, start: dt.date, end: dt.date) -> list[PromiseRate]:
    """Promises that came due between ``start`` and ``end`` (inclusive), per currency.

    :raises UnprocessableError: when ``end`` is before ``start``.
    """
    if end < start:
        raise _fault("to", f"{end} is before {start}")
    counts: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    for currency, status, count, promised, paid in session.execute(
        select(
            Promise.currency,
            Promise.status,
            func.count(),
            func.sum(Promise.amount),
            func.sum(Promise.paid),
        )
        .where(Promise.due_on >= start, Promise.due_on <= end)
        .group_by(Promise.currency, Promise.status)
    ):
        counts[currency][status] = [int(count), Decimal(promised), Decimal(paid)]
    rates = []
    for currency, by_status in sorted(counts.items()):

        def number(status: str, of: Mapping[str, list[Any]] = by_status) -> int:
            return int(of.get(status, [0])[0])

        live = [v for k, v in by_status.items() if k != "cancelled"]
        came_due = sum(v[0] for v in live)
        rates.append(
            PromiseRate(
                currency=currency,
                came_due=came_due,
                kept=number("kept"),
                partially_kept=number("partially_kept"),
                broken=number("broken"),
                pending=number("pending"),
                cancelled=number("cancelled"),
                kept_rate=rate(number("kept"), came_due),
                partially_kept_rate=rate(number("partially_kept"), came_due),
                promised=sum((v[1] for v in live), _ZERO),
                paid=sum((v[2] for v in live), _ZERO),
            )
        )
    return rates


# -- recovery --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecoveryCell:
    """What one origination cohort of one currency paid in one month."""

    cohort: Month
    currency: str
    #: Charged to the cohort's receivables on their origination dates.
    placed: Decimal
    period: Month
    #: Cash collected in the month, net of reversals.
    collected: Decimal
    #: Collected since origination up to the month's end.
    collected_to_date: Decimal
    #: ``collected / placed``.
    recovery_rate: Decimal | None
    #: ``collected_to_date / placed``.
    cumulative_recovery_rate: Decimal | None


def _cohort_key(column: Any, session: Session) -> Any:
    """``YYYY-MM`` of a date column, per dialect."""
    # The format is inlined: PostgreSQL would not match a GROUP BY expression with a bound
    # parameter to the same expression in the select list.
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column)


def recovery(
    session: Session,
    *,
    start: Month,
    end: Month,
    cohort: Month | None = None,
) -> list[RecoveryCell]:
    """Collections per origination cohort and month, and the recovery rates.

    Every cohort originated by the end of ``end`` gets a cell for each month from ``start``
    to ``end`` (zero ones included) in which its accounts existed.

    :param cohort: only this origination month.
    :raises UnprocessableError: when ``end`` is before ``start`` or spans more than
        :data:`MAX_MONTHS` months.
    """
    if end < start:
        raise _fault("to", f"{end} is before {start}")
    months = start.until(end)
    if len(months) > MAX_MONTHS:
        raise _fault("to", f"at most {MAX_MONTHS} months at a time")
    accounts_filter = [Account.originated_on <= end.last]
    if cohort is not None:
        accounts_filter += [
            Account.originated_on >= cohort.first,
            Account.originated_on <= cohort.last,
        ]
    opened = _cohort_key(Account.originated_on, session)
    placed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for key, currency, total in session.execute(
        select(opened, Account.currency, func.sum(Posting.amount))
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(
            *accounts_filter,
            Posting.book.in_(_RECEIVABLE),
            Posting.effective_on == Account.originated_on,
            JournalEntry.kind.in_(("charge", "fee")),
        )
        .group_by(opened, Account.currency)
    ):
        placed[(key, currency)] += Decimal(total)
    # Cash of payments, less that of their reversals, by cohort and month of effect.
    paid_in = _cohort_key(Posting.effective_on, session)
    collected: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    for key, currency, month, total in session.execute(
        select(opened, Account.currency, paid_in, func.sum(Posting.amount))
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(
            *accounts_filter,
            Posting.book == "cash",
            JournalEntry.kind.in_(("payment", "reversal")),
            Posting.effective_on <= end.last,
        )
        .group_by(opened, Account.currency, paid_in)
    ):
        collected[(key, currency)][month] = Decimal(total)
    cells = []
    for key, currency in sorted(placed):
        group = Month.parse(key)
        base = placed[(key, currency)]
        by_month = collected.get((key, currency), {})
        to_date = sum((v for m, v in by_month.items() if m < str(start)), _ZERO)
        for month in months:
            if month < group:
                continue
            amount = by_month.get(str(month), _ZERO)
            to_date += amount
            cells.append(
                RecoveryCell(
                    cohort=group,
                    currency=currency,
                    placed=base,
                    period=month,
                    collected=amount,
                    collected_to_date=to_date,
                    recovery_rate=rate(amount, base),
                    cumulative_recovery_rate=rate(to_date, base),
                )
            )
    return cells
