"""Portfolio onboarding: a client firm's debtors and accounts, imported in bulk, all or nothing.

One row is a debtor and one of its accounts (rows naming the same debtor reference give that
debtor several accounts). An import runs in three steps:

1. **parse** CSV (a header line, then one row per line) or JSON Lines (one object per line);
2. **validate** every row with the rules of the single-item endpoints: the same marshmallow
   field rules (:class:`~.schemas.ImportRowSchema`), the same Money rules (``MoneyField``:
   ISO 4217 currency, decimal strings, no more decimals than the currency has), the same phone
   and e-mail normalisation (:func:`.debtors.normalise_phone`, :func:`.debtors.normalise_email`)
   and the same schedule rules (French amortisation through the account-opening service's
   planner). A reference already in use by the tenant, or used twice in the batch for an
   account, is an error too: an import creates, it never updates (no upsert), so re-sending
   a batch cannot silently change balances;
3. **write** the batch, only if no row failed, in one transaction with bulk INSERTs (rows built
   in Python, journal postings included, inserted a chunk at a time) rather than one ORM object
   and flush per row, which would not reach 100,000 rows in a minute.

The journal written is exactly what :func:`.accounts.open_account` writes: a ``charge`` of the
principal (one leg per instalment) at origination, an opening ``fee`` when there is one, and
one ``interest`` entry per instalment effective on its due date.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import itertools
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from almacen.gateway.bulk import BackgroundWriter, bulk_insert
from almacen.gateway.db import Database, utcnow
from almacen.gateway.errors import NotFoundError, UnprocessableError
from almacen.gateway.money import Money, MoneyField

from . import accounts, events
from .debtors import check_language, check_time_zone, normalise_email, normalise_phone
from .models import (
    Account,
    ContactPoint,
    Debtor,
    ImportJob,
    Instalment,
    JournalEntry,
    Posting,
)

__all__ = [
    "COLUMNS",
    "MAX_ROWS",
    "Batch",
    "RowError",
    "ValidRow",
    "bulk_insert",
    "create_job",
    "get_job",
    "id_factory",
    "parse",
    "references_in_use",
    "run_job",
    "validate_rows",
    "write_batch",
]

logger = logging.getLogger(__name__)

#: The columns of a row; those in :data:`REQUIRED` must be present and non-empty.
COLUMNS = (
    "debtor_external_ref",
    "name",
    "phone",
    "email",
    "default_region",
    "preferred_channel",
    "language",
    "time_zone",
    "account_external_ref",
    "product_type",
    "currency",
    "principal",
    "annual_rate",
    "originated_on",
    "instalments",
    "first_due",
    "fees",
)
REQUIRED = (
    "debtor_external_ref",
    "name",
    "account_external_ref",
    "product_type",
    "currency",
    "principal",
    "annual_rate",
    "originated_on",
    "instalments",
    "first_due",
)
#: The most rows one import takes.
MAX_ROWS = 100_000
#: At most this many errors are kept in a job's report (``error_count`` counts them all).
MAX_REPORTED_ERRORS = 1_000
#: Rows per progress update.
CHUNK = 10_000
#: Rows built, then written, at a time (see :class:`~almacen.gateway.bulk.BackgroundWriter`).
PART = 2_000

_MONEY = MoneyField()


@dataclasses.dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one row: its number (from 1, header excluded), field and message."""

    row: int
    field: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        """The error as a job's report shows it."""
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclasses.dataclass(frozen=True, slots=True)
class ValidRow:
    """One valid row: a debtor (new) and an account with its planned schedule."""

    #: Its number in the batch (from 1, header excluded).
    number: int
    debtor_ref: str
    name: str
    phone: str | None
    email: str | None
    account_ref: str
    product_type: str
    principal: Money
    annual_rate: Decimal
    originated_on: dt.date
    fee: Decimal
    #: ``(due_on, principal, interest)`` per instalment.
    schedule: list[tuple[dt.date, Decimal, Decimal]]
    #: The debtor's, as ``POST /debtors`` takes them (defaults alike).
    preferred_channel: str | None = None
    language: str = "es"
    time_zone: str = "UTC"


@dataclasses.dataclass(frozen=True, slots=True)
class Batch:
    """What :func:`write_batch` wrote: the ids of the debtors and accounts, in row order."""

    debtor_ids: dict[str, str]
    account_ids: list[str]
    instalment_ids: list[list[str]]


# -- parsing -------------------------------------------------------------------------------


def parse(data: str, fmt: str) -> list[dict[str, Any] | RowError]:
    """The rows of a CSV or JSON Lines document, each a mapping or a :class:`RowError`.

    Empty CSV cells and JSON ``null`` count as absent. A JSON line that is not an object is an
    error of that row; blank lines are skipped.

    :param fmt: ``csv`` or ``jsonl``.
    :raises UnprocessableError: when a CSV document has no header naming the required columns.
    """
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(data))
        header = reader.fieldnames or []
        missing = [column for column in REQUIRED if column not in header]
        if missing:
            detail = f"the header lacks {', '.join(missing)}"
            raise UnprocessableError(detail, errors=[{"pointer": "/data", "detail": detail}])
        return [
            {k: v.strip() for k, v in row.items() if k in COLUMNS and v and v.strip()}
            for row in reader
        ]
    rows: list[dict[str, Any] | RowError] = []
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            rows.append(RowError(len(rows) + 1, None, f"not JSON: {exc}"))
            continue
        if not isinstance(item, dict):
            rows.append(RowError(len(rows) + 1, None, "a line must be a JSON object"))
            continue
        rows.append({k: v for k, v in item.items() if v is not None and v != ""})
    return rows


# -- validating ----------------------------------------------------------------------------


def _messages(exc: ValidationError) -> Iterator[tuple[str | None, str]]:
    found = exc.messages
    if not isinstance(found, dict):
        yield None, "; ".join(str(m) for m in found)
        return
    for field, messages in found.items():
        text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        yield (None if field == "_schema" else str(field)), text


def _field_of(pointer: str) -> str:
    last = pointer.rstrip("/").rsplit("/", 1)[-1]
    return {"count": "instalments", "amount": "principal"}.get(last, last)


def _check_row(number: int, raw: Mapping[str, Any], today: dt.date) -> ValidRow | list[RowError]:
    from .schemas import ImportRowSchema

    try:
        schema = _ROW_SCHEMA_CACHE.get("schema")
        if schema is None:
            schema = _ROW_SCHEMA_CACHE["schema"] = ImportRowSchema()
        data = schema.load(raw)
    except ValidationError as exc:
        return [RowError(number, field, message) for field, message in _messages(exc)]
    errors: list[RowError] = []

    def fault(field: str | None, message: str) -> None:
        errors.append(RowError(number, field, message))

    try:
        principal = _MONEY.deserialize({"amount": data["principal"], "currency": data["currency"]})
    except ValidationError as exc:
        text = "; ".join(str(m) for m in exc.messages) if isinstance(exc.messages, list) else ""
        field = "currency" if "currency" in text.lower() and "decimal" not in text else "principal"
        return [RowError(number, field, text or str(exc.messages))]
    fee = Decimal(0)
    if "fees" in data:
        try:
            fee = _MONEY.deserialize({"amount": data["fees"], "currency": data["currency"]}).amount
        except ValidationError as exc:
            fault("fees", "; ".join(str(m) for m in exc.messages))
    phone = email = None
    region = data.get("default_region")
    try:
        if "phone" in data:
            phone = normalise_phone(data["phone"], region=region, pointer="phone")
    except UnprocessableError as exc:
        fault("phone", _detail(exc))
    try:
        if "email" in data:
            email = normalise_email(data["email"], pointer="email")
    except UnprocessableError as exc:
        fault("email", _detail(exc))
    for field, check in (("language", check_language), ("time_zone", check_time_zone)):
        if field in data:
            try:
                check(data[field], pointer=field)
            except UnprocessableError as exc:
                fault(field, _detail(exc))
    rate = Decimal(data["annual_rate"])
    if rate > 10:
        fault("annual_rate", "must be between 0 and 10 (a fraction: 0.12 is 12 %)")
    if principal.amount <= 0:
        fault("principal", "must be positive")
    if data["originated_on"] > today:
        fault("originated_on", "must not be in the future")
    schedule: list[tuple[dt.date, Decimal, Decimal]] = []
    if principal.amount > 0:
        try:
            # The account-opening service's own planner: same schedule, same rules.
            schedule = accounts._planned(
                principal=principal,
                annual_rate=rate,
                originated_on=data["originated_on"],
                plan={"generate": {"count": data["instalments"], "first_due": data["first_due"]}},
            )
        except UnprocessableError as exc:
            pointer = str((exc.errors or [{}])[0].get("pointer", ""))
            fault(_field_of(pointer) if pointer else None, _detail(exc))
    if errors:
        return errors
    return ValidRow(
        number=number,
        debtor_ref=data["debtor_external_ref"],
        name=data["name"],
        phone=phone,
        email=email,
        account_ref=data["account_external_ref"],
        product_type=data["product_type"],
        principal=principal,
        annual_rate=rate,
        originated_on=data["originated_on"],
        fee=fee,
        schedule=schedule,
        preferred_channel=data.get("preferred_channel"),
        language=data.get("language", "es"),
        time_zone=data.get("time_zone", "UTC"),
    )


_ROW_SCHEMA_CACHE: dict[str, Any] = {}


def _detail(exc: UnprocessableError) -> str:
    return str(exc.errors[0]["detail"]) if exc.errors else exc.detail


class Validator:
    """Checks rows a part at a time, remembering what the whole batch used so far (no
    account reference twice, one name per debtor reference)."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self._accounts: dict[str, int] = {}
        self._debtors: dict[str, ValidRow] = {}

    def check(
        self, rows: Sequence[Mapping[str, Any] | RowError], *, first: int = 1
    ) -> tuple[list[ValidRow], list[RowError]]:
        """The valid rows of this part and its errors; ``first`` numbers its first row."""
        valid: list[ValidRow] = []
        errors: list[RowError] = []
        for number, raw in enumerate(rows, start=first):
            checked = raw if isinstance(raw, RowError) else _check_row(number, raw, self.today)
            if isinstance(checked, RowError):
                errors.append(checked)
            elif isinstance(checked, list):
                errors.extend(checked)
            else:
                earlier = self._accounts.setdefault(checked.account_ref, number)
                if earlier != number:
                    errors.append(
                        RowError(number, "account_external_ref", f"already used on row {earlier}")
                    )
                known = self._debtors.setdefault(checked.debtor_ref, checked)
                if known is not checked and known.name != checked.name:
                    errors.append(
                        RowError(number, "name", "differs from the first row of the same debtor")
                    )
                valid.append(checked)
        return valid, errors


def validate_rows(
    rows: Sequence[Mapping[str, Any] | RowError],
    *,
    today: dt.date,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[ValidRow], list[RowError]]:
    """Check every row on its own and the batch as a whole (no reference used twice).

    :param today: the tenant's date; origination may not be later.
    :param progress: called with the number of rows checked so far, every :data:`CHUNK`.
    :return: the valid rows, and every error (empty when the batch may be written).
    """
    validator = Validator(today)
    valid: list[ValidRow] = []
    errors: list[RowError] = []
    for start in range(0, len(rows), CHUNK):
        part_valid, part_errors = validator.check(rows[start : start + CHUNK], first=start + 1)
        valid += part_valid
        errors += part_errors
        if progress is not None:
            progress(min(start + CHUNK, len(rows)))
    if progress is not None and not rows:
        progress(0)
    return valid, errors


def references_in_use(session: Session, rows: Sequence[ValidRow]) -> list[RowError]:
    """Errors for rows whose references the tenant already uses (an import never updates)."""
    return ReferenceCheck().errors(session, rows)


class ReferenceCheck:
    """References already in use, checked a part at a time: each debtor reference is looked
    up in the part it first appears in (later parts may name the debtor again, once this
    batch wrote it), each account reference with its row."""

    def __init__(self) -> None:
        self._looked_up: set[str] = set()
        self._taken: set[str] = set()

    def errors(self, session: Session, rows: Sequence[ValidRow]) -> list[RowError]:
        """The rows of this part whose debtor or account reference is in use."""
        fresh = {row.debtor_ref for row in rows} - self._looked_up
        self._looked_up |= fresh
        self._taken |= _in_use(session, Debtor, fresh)
        accounts = _in_use(session, Account, {row.account_ref for row in rows})
        errors: list[RowError] = []
        for row in rows:
            if row.account_ref in accounts:
                message = f"{row.account_ref!r} is already in use"
                errors.append(RowError(row.number, "account_external_ref", message))
            if row.debtor_ref in self._taken:
                message = f"{row.debtor_ref!r} is already in use"
                errors.append(RowError(row.number, "debtor_external_ref", message))
        return errors


def _in_use(session: Session, model: type[Debtor] | type[Account], refs: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(refs)
    for start in range(0, len(ordered), 1_000):
        chunk = ordered[start : start + 1_000]
        found.update(
            session.scalars(select(model.external_ref).where(model.external_ref.in_(chunk)))
        )
    return found


# -- writing -------------------------------------------------------------------------------


def id_factory() -> Callable[[], str]:
    """A maker of new row ids for one batch (32 hex digits, as :func:`new_id` makes)."""
    # 32 hex digits like new_id(), but a random 64-bit prefix per batch and a counter: unique,
    # and a hundred times cheaper than a uuid4 per row when a batch writes millions of rows.
    prefix = os.urandom(8).hex()
    counter = itertools.count()
    return lambda: f"{prefix}{next(counter):016x}"


class _Journal:
    """Journal entries and their postings, built as rows for a bulk INSERT."""

    def __init__(self, tenant_id: str, new: Callable[[], str], now: dt.datetime) -> None:
        self.tenant_id, self.new, self.now = tenant_id, new, now
        self.entries: list[dict[str, Any]] = []
        self.postings: list[dict[str, Any]] = []

    def add(
        self,
        account_id: str,
        currency: str,
        kind: str,
        on: dt.date,
        memo: str,
        legs: Iterable[tuple[str, Decimal, str | None]],
    ) -> str:
        """Add one entry (its legs must balance, as :func:`.journal.post_entry` requires)."""
        entry_id = self.new()
        self.entries.append(
            {
                "id": entry_id,
                "tenant_id": self.tenant_id,
                "account_id": account_id,
                "kind": kind,
                "effective_on": on,
                "posted_at": self.now,
                "memo": memo,
                "reverses_id": None,
            }
        )
        for position, (book, amount, instalment_id) in enumerate(legs):
            self.postings.append(
                {
                    "tenant_id": self.tenant_id,
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "instalment_id": instalment_id,
                    "book": book,
                    "amount": amount,
                    "currency": currency,
                    "effective_on": on,
                    "position": position,
                }
            )
        return entry_id


class BatchWriter:
    """Writes validated rows a part at a time, in bulk, on the session's tenant: debtors,
    contact points, accounts, instalments and opening journal entries.

    Each part's rows are built in the caller's thread and written on a
    :class:`~almacen.gateway.bulk.BackgroundWriter` (PostgreSQL), so part *n + 1* is built and
    validated while the server writes part *n*: done in turn, each side waited for the other
    half of the time. Use it as a context manager; the session is its writer's until the
    block ends.

    :param progress: called with the number of rows written so far, every :data:`CHUNK`.
    """

    def __init__(
        self,
        session: Session,
        *,
        total: int,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        tenant_id = session.info.get("tenant_id")
        if tenant_id is None:
            raise ValueError("an import needs a tenant's session")
        self.session, self.tenant_id = session, str(tenant_id)
        self.total, self.progress = total, progress
        self.new = id_factory()
        self.now = utcnow()
        self.debtor_ids: dict[str, str] = {}
        self.account_ids: list[str] = []
        self.instalment_ids: list[list[str]] = []
        self._done = 0
        if session.get_bind().dialect.name == "postgresql":
            # Plans this connection cached while the tables were small (a foreign key's
            # check, say) would scan them once the import has grown them by millions of
            # rows, with no ANALYZE in between: a 100,000-account fill went from minutes
            # to past a quarter of an hour. Planned again, they are planned for the sizes
            # the first part leaves.
            session.execute(text("DISCARD PLANS"))
        self._writer = BackgroundWriter(session)

    def __enter__(self) -> BatchWriter:
        self._writer.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._writer.__exit__(*exc_info)

    @property
    def batch(self) -> Batch:
        """The ids written (once the block has ended)."""
        return Batch(
            debtor_ids=self.debtor_ids,
            account_ids=self.account_ids,
            instalment_ids=self.instalment_ids,
        )

    def add(self, rows: Sequence[ValidRow]) -> None:
        """Build the rows of one part and queue their writing."""
        tables, opened = self._build(rows)
        self._done += len(rows)
        self._writer.submit(self._write, rows, tables, opened, self._done)

    def _write(
        self,
        rows: Sequence[ValidRow],
        tables: Sequence[tuple[type[Any], list[dict[str, Any]]]],
        opened: list[dict[str, Any]],
        done: int,
    ) -> None:
        for model, items in tables:
            if items:
                bulk_insert(self.session, model, items)
        events.accounts_opened(self.session, opened)
        if self.progress is not None and _reports(done - len(rows), done, self.total):
            self.progress(done)

    def _build(
        self, rows: Sequence[ValidRow]
    ) -> tuple[list[tuple[type[Any], list[dict[str, Any]]]], list[dict[str, Any]]]:
        debtors: list[dict[str, Any]] = []
        points: list[dict[str, Any]] = []
        opened: list[dict[str, Any]] = []
        instalments: list[dict[str, Any]] = []
        book = _Journal(self.tenant_id, self.new, self.now)
        entry = book.add
        for row in rows:
            debtor_id = self.debtor_ids.get(row.debtor_ref)
            if debtor_id is None:
                debtor_id = self.debtor_ids[row.debtor_ref] = self.new()
                debtors.append(
                    {
                        "id": debtor_id,
                        "tenant_id": self.tenant_id,
                        "external_ref": row.debtor_ref,
                        "name": row.name,
                        "preferred_channel": row.preferred_channel,
                        "language": row.language,
                        "time_zone": row.time_zone,
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )
                contacts = [("phone", row.phone), ("email", row.email)]
                for position, (kind, value) in enumerate(c for c in contacts if c[1]):
                    points.append(
                        {
                            "id": self.new(),
                            "tenant_id": self.tenant_id,
                            "debtor_id": debtor_id,
                            "kind": kind,
                            "value": value,
                            "label": None,
                            "position": position,
                        }
                    )
            account_id = self.new()
            self.account_ids.append(account_id)
            currency = row.principal.currency
            opened.append(
                {
                    "id": account_id,
                    "tenant_id": self.tenant_id,
                    "debtor_id": debtor_id,
                    "external_ref": row.account_ref,
                    "product_type": row.product_type,
                    "currency": currency,
                    "originated_on": row.originated_on,
                    "principal": row.principal.amount,
                    "annual_rate": row.annual_rate,
                    "status": "open",
                    "disputed": False,
                    "days_past_due": 0,
                    "bucket": "current",
                    "aged_on": None,
                    "created_at": self.now,
                }
            )
            ids = [self.new() for _ in row.schedule]
            self.instalment_ids.append(ids)
            for number, (instalment_id, (due_on, part, interest)) in enumerate(
                zip(ids, row.schedule, strict=True), start=1
            ):
                instalments.append(
                    {
                        "id": instalment_id,
                        "tenant_id": self.tenant_id,
                        "account_id": account_id,
                        "number": number,
                        "due_on": due_on,
                        "principal": part,
                        "interest": interest,
                        "fees": row.fee if number == 1 else Decimal(0),
                        "active": True,
                    }
                )
            legs: list[tuple[str, Decimal, str | None]] = [
                ("receivable:principal", part, i)
                for i, (_, part, _) in zip(ids, row.schedule, strict=True)
                if part
            ]
            legs.append(("funding", -row.principal.amount, None))
            entry(account_id, currency, "charge", row.originated_on, "principal", legs)
            if row.fee:
                entry(
                    account_id,
                    currency,
                    "fee",
                    row.originated_on,
                    "opening fee",
                    [("receivable:fees", row.fee, ids[0]), ("income:fees", -row.fee, None)],
                )
            for number, (i, (due_on, _, interest)) in enumerate(
                zip(ids, row.schedule, strict=True), start=1
            ):
                if interest:
                    entry(
                        account_id,
                        currency,
                        "interest",
                        due_on,
                        f"interest of instalment {number}",
                        [
                            ("receivable:interest", interest, i),
                            ("income:interest", -interest, None),
                        ],
                    )
        tables: list[tuple[type[Any], list[dict[str, Any]]]] = [
            (Debtor, debtors),
            (ContactPoint, points),
            (Account, opened),
            (Instalment, instalments),
            (JournalEntry, book.entries),
            (Posting, book.postings),
        ]
        return tables, opened


def write_batch(
    session: Session,
    rows: Sequence[ValidRow],
    *,
    progress: Callable[[int], None] | None = None,
) -> Batch:
    """Write validated rows whose references the caller has checked (see :class:`BatchWriter`).

    :param progress: called with the number of rows written so far, every :data:`CHUNK`.
    """
    with BatchWriter(session, total=len(rows), progress=progress) as writer:
        for start in range(0, len(rows), PART):
            writer.add(rows[start : start + PART])
    return writer.batch


# -- jobs ----------------------------------------------------------------------------------


def create_job(db: Database, tenant_id: str, *, source: str, rows_total: int) -> ImportJob:
    """Record a queued job, committed at once so that it can be polled."""
    with db.transaction(tenant_id=tenant_id) as session:
        job = ImportJob(source=source, status="queued", rows_total=rows_total, errors=[])
        session.add(job)
    return job


def _update_job(db: Database, tenant_id: str, job_id: str, **values: Any) -> None:
    with db.transaction(tenant_id=tenant_id) as session:
        session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))


def _fail(
    db: Database, tenant_id: str, job_id: str, errors: Sequence[RowError], **values: Any
) -> None:
    _update_job(
        db,
        tenant_id,
        job_id,
        status="failed",
        error_count=len(errors),
        errors=[e.as_json() for e in errors[:MAX_REPORTED_ERRORS]],
        finished_at=utcnow(),
        **values,
    )


def _reports(before: int, after: int, total: int) -> bool:
    """Whether progress from ``before`` to ``after`` rows crossed a :data:`CHUNK` boundary
    or reached the end: when a job's counters are written."""
    return before // CHUNK != after // CHUNK or after == total


class _Refused(Exception):
    """Rolls a batch back when a row is invalid or a reference is in use."""


def run_job(
    db: Database,
    tenant_id: str,
    job_id: str,
    rows: Sequence[Mapping[str, Any] | RowError],
    *,
    today: dt.date,
    after_write: Callable[[Session, Batch, Sequence[ValidRow]], None] | None = None,
) -> None:
    """Validate and write a batch, recording progress and the outcome on the job.

    Rows are validated a part at a time and each valid part is written at once, in the
    batch's one transaction, while the next part is validated (see :class:`BatchWriter`). An
    invalid row stops the writing (the rest is still validated, so the report lists every
    error) and the transaction is rolled back: a failure leaves nothing behind but a
    ``failed`` job, and success commits the batch and the ``succeeded`` status together. On
    PostgreSQL ``rows_validated`` and ``rows_imported`` move while the batch is written (from
    another connection); SQLite allows one writer at a time, so there they jump to the total
    at the end.

    :param after_write: called in the batch's transaction once the rows are written (the
        synthetic portfolio adds payments and promises there).
    """
    concurrent = not db.is_sqlite

    def report(**values: Any) -> None:
        if concurrent:
            _update_job(db, tenant_id, job_id, **values)

    errors: list[RowError] = []
    try:
        _update_job(db, tenant_id, job_id, status="running")
        validator = Validator(today)
        references = ReferenceCheck()
        valid: list[ValidRow] = []
        with (
            db.transaction(tenant_id=tenant_id) as session,
            contextlib.ExitStack() as stack,
        ):
            # References are looked up on another connection (PostgreSQL), which sees what
            # is committed, while this one is the writer's; SQLite has one writer, inline.
            reading = (
                session if db.is_sqlite else stack.enter_context(db.session(tenant_id=tenant_id))
            )
            if concurrent:
                # All or nothing either way; not waiting for the WAL flush at commit only
                # risks losing a just-reported success to a server crash, never half a batch.
                session.execute(text("SET LOCAL synchronous_commit = off"))
            with BatchWriter(
                session, total=len(rows), progress=lambda n: report(rows_imported=n)
            ) as writer:
                for start in range(0, len(rows), PART):
                    part, found = validator.check(rows[start : start + PART], first=start + 1)
                    errors += found
                    valid += part
                    done = min(start + PART, len(rows))
                    if _reports(start, done, len(rows)):
                        report(rows_validated=done)
                    errors += references.errors(reading, part)
                    if not errors:
                        writer.add(part)
            if errors:
                raise _Refused
            if after_write is not None:
                after_write(session, writer.batch, valid)
            session.execute(
                update(ImportJob)
                .where(ImportJob.id == job_id)
                .values(
                    status="succeeded",
                    rows_validated=len(rows),
                    rows_imported=len(valid),
                    finished_at=utcnow(),
                )
            )
    except _Refused:
        errors.sort(key=lambda e: (e.row, e.field or ""))
        _fail(db, tenant_id, job_id, errors, rows_validated=len(rows))
    except IntegrityError:
        # A concurrent import committed some of these references after they were checked
        # (this batch's write waited for its rows, then hit the unique key). Now that they
        # are visible, the report names the rows as if they had been taken before.
        taken = _report_against_committed(db, tenant_id, rows, today)
        if not taken:
            logger.exception("import job %s failed", job_id)
            taken = [RowError(0, None, "internal error; see the server log")]
        _fail(db, tenant_id, job_id, taken, rows_validated=len(rows))
    except Exception:
        logger.exception("import job %s failed", job_id)
        _fail(db, tenant_id, job_id, [RowError(0, None, "internal error; see the server log")])


def _report_against_committed(
    db: Database, tenant_id: str, rows: Sequence[Mapping[str, Any] | RowError], today: dt.date
) -> list[RowError]:
    """Every error of the batch, its references checked against what is committed now."""
    valid, errors = validate_rows(rows, today=today)
    with db.session(tenant_id=tenant_id) as session:
        errors += references_in_use(session, valid)
    errors.sort(key=lambda e: (e.row, e.field or ""))
    return errors


def get_job(session: Session, job_id: str) -> ImportJob:
    """One of the tenant's import jobs. :raises NotFoundError: when there is none."""
    job = session.scalar(select(ImportJob).where(ImportJob.id == job_id))
    if job is None:
        raise NotFoundError(f"no import job {job_id}")
    return job
