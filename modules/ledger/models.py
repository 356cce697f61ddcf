"""The ledger's tables: debtors and their contact points, accounts, instalments, the
append-only double-entry journal, payments and promises to pay. Every row is tenant-scoped.

Money columns are ``NUMERIC(20, 4)``: exact, and wide enough for every ISO 4217 exponent
in use (at most 3). The journal is the source of truth; balances are sums of its postings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from almacen.gateway.db import Base, ExactDecimal, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = [
    "Account",
    "AgingSnapshot",
    "ChannelConsent",
    "ContactPoint",
    "Debtor",
    "Dispute",
    "ImportJob",
    "Instalment",
    "JournalEntry",
    "Payment",
    "Plan",
    "Posting",
    "Promise",
]

#: Exact on every backend (see ExactDecimal): never a float, not even in SQLite.
MONEY = ExactDecimal(20, 4)
RATE = Numeric(12, 8, asdecimal=True)


def _tenant_without_index() -> Mapped[str]:
    """``tenant_id`` as :class:`TenantScoped` declares it, minus its own index: for the big
    tables whose other indexes serve every query (see migration ``led0005``), where each
    index is paid on every one of millions of imported rows."""
    return mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=False, nullable=False
    )


def _tenant_from_parent() -> Mapped[str]:
    """``tenant_id`` checked through the parent's key rather than against ``tenants``: the
    row's composite foreign key includes it, so the parent (whose own ``tenant_id`` is
    checked) must be the same tenant's. One lookup per row instead of two, and a rule a
    separate key could not state: no row hangs under another tenant's account or entry
    (migration ``led0006``)."""
    return mapped_column(String(32), index=False, nullable=False)


#: Marks the foreign keys of postings that PostgreSQL checks once per statement, with a
#: trigger, rather than row by row (migration ``led0007``); SQLite keeps them as they are.
_BY_STATEMENT = {"checked_by_trigger_on": "postgresql"}  # see migrate.CHECKED_BY_TRIGGER


class Debtor(TenantScoped, Base):
    """A person or firm that owes; known to the client firm by ``external_ref``."""

    __tablename__ = "ledger_debtors"

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        # uq_ledger_debtors_external_ref starts with tenant_id (led0006).
        return _tenant_without_index()

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    external_ref: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    preferred_channel: Mapped[str | None] = mapped_column(String(16), default=None)
    #: BCP 47 language tag, e.g. ``es-CO``.
    language: Mapped[str] = mapped_column(String(35), default="es")
    #: IANA time zone, e.g. ``America/Bogota``: contact hours are local to the debtor.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contact_points: Mapped[list[ContactPoint]] = relationship(
        back_populates="debtor", cascade="all, delete-orphan", order_by="ContactPoint.position"
    )
    consents: Mapped[list[ChannelConsent]] = relationship(
        back_populates="debtor", cascade="all, delete-orphan", order_by="ChannelConsent.channel"
    )

    __table_args__ = (
        UniqueConstraint("tenant_id", "external_ref", name="uq_ledger_debtors_external_ref"),
    )


class ContactPoint(TenantScoped, Base):
    """A phone number (E.164) or e-mail address of a debtor."""

    __tablename__ = "ledger_contact_points"

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        # Reached by debtor: uq_ledger_contact_points_value starts with debtor_id (led0006).
        return _tenant_without_index()

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    debtor_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_debtors.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(320))
    label: Mapped[str | None] = mapped_column(String(40), default=None)
    position: Mapped[int] = mapped_column(Integer, default=0)

    debtor: Mapped[Debtor] = relationship(back_populates="contact_points")

    __table_args__ = (
        CheckConstraint("kind IN ('phone', 'email')", name="kind"),
        UniqueConstraint("debtor_id", "kind", "value", name="uq_ledger_contact_points_value"),
    )


class ChannelConsent(TenantScoped, Base):
    """Whether a debtor consented to a channel, and whether they opted out of it."""

    __tablename__ = "ledger_channel_consents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    debtor_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_debtors.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="consents")

    __table_args__ = (
        UniqueConstraint("debtor_id", "channel", name="uq_ledger_channel_consents_channel"),
    )


class Account(TenantScoped, Base):
    """A debt: one credit product of one debtor, in one currency."""

    __tablename__ = "ledger_accounts"

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        # uq_ledger_accounts_external_ref and ix_ledger_accounts_bucket start with tenant_id.
        return _tenant_without_index()

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    debtor_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_debtors.id", ondelete="RESTRICT"), index=True
    )
    external_ref: Mapped[str] = mapped_column(String(100))
    product_type: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    originated_on: Mapped[dt.date] = mapped_column(Date)
    principal: Mapped[Decimal] = mapped_column(MONEY)
    #: Nominal annual rate as a fraction (0.12 is 12 %).
    annual_rate: Mapped[Decimal] = mapped_column(RATE, default=Decimal(0))
    status: Mapped[str] = mapped_column(String(16), default="open")
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Set by the aging job: days past due and bucket as of ``aged_on``.
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(20), default="current")
    aged_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: The day it stopped being open (settled or charged off): queries as of an earlier day
    #: still count it as open.
    closed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: When it was settled: every entry closing it wrote was posted since (see plans.reopen).
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="Instalment.number"
    )

    __table_args__ = (
        UniqueConstraint("tenant_id", "external_ref", name="uq_ledger_accounts_external_ref"),
        # The target of the tenant-checking keys of instalments and journal entries.
        UniqueConstraint("id", "tenant_id", name="uq_ledger_accounts_tenant"),
        CheckConstraint("status IN ('open', 'settled', 'charged_off', 'closed')", name="status"),
        CheckConstraint("principal > 0", name="principal_positive"),
        Index("ix_ledger_accounts_bucket", "tenant_id", "bucket"),
    )


class AgingSnapshot(TenantScoped, Base):
    """An account's days past due, bucket and receivable balance at the end of a day."""

    __tablename__ = "ledger_aging_snapshots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_accounts.id", ondelete="CASCADE")
    )
    as_of: Mapped[dt.date] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(20))
    balance: Mapped[Decimal] = mapped_column(MONEY)

    __table_args__ = (
        UniqueConstraint("account_id", "as_of", name="uq_ledger_aging_snapshots_day"),
        Index("ix_ledger_aging_snapshots_as_of", "tenant_id", "as_of"),
    )


class Instalment(TenantScoped, Base):
    """One scheduled instalment: what falls due on ``due_on``, by component."""

    __tablename__ = "ledger_instalments"

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        # ix_ledger_instalments_due starts with tenant_id: a second index would be redundant.
        return _tenant_from_parent()

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: With ``tenant_id``, a key of its account (see ``fk_ledger_instalments_account``).
    account_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    principal: Mapped[Decimal] = mapped_column(MONEY)
    interest: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    fees: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    #: False once a plan replaced it (its unpaid amounts moved to the new schedule).
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    account: Mapped[Account] = relationship(back_populates="instalments")

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "tenant_id"],
            ["ledger_accounts.id", "ledger_accounts.tenant_id"],
            name="fk_ledger_instalments_account",
            ondelete="CASCADE",
        ),
        UniqueConstraint("account_id", "number", name="uq_ledger_instalments_number"),
        Index("ix_ledger_instalments_due", "tenant_id", "due_on"),
    )


class JournalEntry(TenantScoped, Base):
    """One balanced change to an account; never edited or deleted, only reversed."""

    __tablename__ = "ledger_journal_entries"

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        # Entries are reached by account or by id; a tenant's whole journal is a scan anyway.
        return _tenant_from_parent()

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: With ``tenant_id``, a key of its account (see ``fk_ledger_journal_entries_account``).
    account_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    #: The date the change takes effect (``as_of`` queries filter on it).
    effective_on: Mapped[dt.date] = mapped_column(Date)
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    memo: Mapped[str] = mapped_column(String(200), default="")
    #: The entry this one reverses.
    reverses_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("ledger_journal_entries.id"), default=None
    )

    postings: Mapped[list[Posting]] = relationship(
        back_populates="entry", cascade="all", order_by="Posting.position"
    )

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "tenant_id"],
            ["ledger_accounts.id", "ledger_accounts.tenant_id"],
            name="fk_ledger_journal_entries_account",
            ondelete="RESTRICT",
        ),
        # The target of the postings' (entry_id, account_id, tenant_id) foreign key, and,
        # account first, the index of the lookups by account (led0006).
        UniqueConstraint("account_id", "id", "tenant_id", name="uq_ledger_journal_entries_account"),
        # An entry is reversed at most once. Partial: entries that reverse nothing (all but
        # reversals) cost no index entry.
        Index(
            "uq_ledger_journal_entries_reverses_id",
            "reverses_id",
            unique=True,
            postgresql_where=text("reverses_id IS NOT NULL"),
            sqlite_where=text("reverses_id IS NOT NULL"),
        ),
        CheckConstraint(
            "kind IN ('charge', 'interest', 'fee', 'penalty', 'payment', 'adjustment', "
            "'discount', 'write_off', 'reversal')",
            name="kind",
        ),
    )


class Posting(TenantScoped, Base):
    """One leg of a journal entry: a signed amount on one ledger account (debit positive).

    ``book`` names the ledger account: ``receivable:principal``, ``receivable:interest``,
    ``receivable:fees``, ``receivable:penalties``, ``cash``, ``credit`` (what the firm owes
    the debtor after an overpayment), ``funding``, ``income:interest``, ``income:fees``,
    ``income:penalties``, ``discount`` and ``write_off``.
    """

    __tablename__ = "ledger_postings"

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        # Every query reaches postings by account or entry; only the aging job reads a whole
        # tenant's, and that is a scan either way.
        return _tenant_from_parent()

    #: With ``position``, the key: a posting is the n-th leg of its entry. With
    #: ``account_id`` and ``tenant_id``, a key of its entry (``fk_ledger_postings_entry``).
    entry_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))
    instalment_id: Mapped[str | None] = mapped_column(
        String(32),
        ForeignKey("ledger_instalments.id", ondelete="RESTRICT", info=_BY_STATEMENT),
        default=None,
    )
    book: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")

    __table_args__ = (
        # One foreign key for entry, account and tenant: a posting's account and tenant are
        # its entry's, whose own key checks them. One check per row where three single-column
        # keys cost three, on the table an import writes most rows to (led0005, led0006).
        ForeignKeyConstraint(
            ["entry_id", "account_id", "tenant_id"],
            [
                "ledger_journal_entries.id",
                "ledger_journal_entries.account_id",
                "ledger_journal_entries.tenant_id",
            ],
            name="fk_ledger_postings_entry",
            ondelete="RESTRICT",
            info=_BY_STATEMENT,
        ),
        # Queries by instalment name the account too, and are served by this index.
        Index("ix_ledger_postings_account", "account_id", "book", "effective_on"),
    )


class Payment(TenantScoped, Base):
    """A payment received, idempotent on the tenant's ``external_id``."""

    __tablename__ = "ledger_payments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_accounts.id", ondelete="RESTRICT"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(32), default=None)
    #: SHA-256 of the request that created it: a replay with another body is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[str] = mapped_column(String(32), ForeignKey("ledger_journal_entries.id"))
    reversal_entry_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("ledger_journal_entries.id"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id", name="uq_ledger_payments_external_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )


class Promise(TenantScoped, Base):
    """A promise to pay ``amount`` by ``due_on``; kept, partially kept, broken or cancelled."""

    __tablename__ = "ledger_promises"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_accounts.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    due_on: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(32), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: Paid toward the promise between its creation and due date plus grace.
    paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    created_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'kept', 'partially_kept', 'broken', 'cancelled')",
            name="status",
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
    )


class ImportJob(TenantScoped, Base):
    """A portfolio import (or synthetic portfolio): its progress and per-row error report.

    Written in short transactions of its own, apart from the one transaction that writes the
    whole batch, so that progress can be read while the batch is still being written.
    """

    __tablename__ = "ledger_import_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: ``csv``, ``jsonl`` or ``synthetic``.
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_validated: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    #: The first errors found: ``[{"row", "field", "message"}]`` (rows numbered from 1).
    errors: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status"),
    )


# == plans and settlements (item 6) ==


class Plan(TenantScoped, Base):
    """A payment plan or a settlement agreed on an account (see :mod:`.plans`).

    ``terms`` keeps what was agreed and what installing it changed (the instalments it
    replaced, the interest it cancelled), so that a broken plan can be reverted.
    """

    __tablename__ = "ledger_plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_accounts.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The day the plan or settlement took effect.
    agreed_on: Mapped[dt.date] = mapped_column(Date)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("kind IN ('plan', 'settlement')", name="kind"),
        CheckConstraint("status IN ('active', 'completed', 'broken', 'cancelled')", name="status"),
        Index("ix_ledger_plans_status", "tenant_id", "status"),
    )


class Dispute(TenantScoped, Base):
    """A debtor's dispute of an account: open until upheld or rejected."""

    __tablename__ = "ledger_disputes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("ledger_accounts.id", ondelete="RESTRICT"), index=True
    )
    reason: Mapped[str] = mapped_column(String(500))
    #: The amount disputed (the account's currency), if the debtor named one.
    amount: Mapped[Decimal | None] = mapped_column(MONEY, default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    status: Mapped[str] = mapped_column(String(16), default="open")
    #: The ``write_off`` entry that forgave the amount when the dispute was upheld.
    write_off_entry_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("ledger_journal_entries.id"), default=None
    )
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (CheckConstraint("status IN ('open', 'upheld', 'rejected')", name="status"),)
