"""Marshmallow schemas of the ledger: dumping domain objects, the actions' inputs and outputs,
and the payloads of its events. Money is always ``{"amount": "88.85", "currency": "COP"}``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from almacen.gateway.money import Money, MoneyField

from .debtors import CHANNELS

__all__ = [
    "AccountFactsPageSchema",
    "AccountFactsSchema",
    "AccountOpenedSchema",
    "AccountSchema",
    "AccountSettledSchema",
    "AccountSummarySchema",
    "AgingReportSchema",
    "ApplySettlementInputSchema",
    "BucketChangedSchema",
    "CreatePromiseInputSchema",
    "CureRateSchema",
    "DebtorProfileSchema",
    "DebtorSchema",
    "DisputeSchema",
    "GetAccountInputSchema",
    "GetAccountsInputSchema",
    "GetDebtorInputSchema",
    "ImportJobSchema",
    "ImportRowSchema",
    "InstallPlanInputSchema",
    "InstalmentStateSchema",
    "JournalEntrySchema",
    "PaymentEventSchema",
    "PaymentSchema",
    "PlanSchema",
    "PortfolioBucketSchema",
    "PortfolioReportSchema",
    "PostPaymentInputSchema",
    "PromiseEventSchema",
    "PromiseRateSchema",
    "PromiseSchema",
    "RecoveryCellSchema",
    "RollCellSchema",
    "RollReportSchema",
    "SetConsentInputSchema",
]

_ID = validate.Regexp(r"^[0-9a-f]{32}$")


def _amount(attribute: str, currency: str = "currency") -> fields.Function:
    """Dump ``obj.<attribute>`` as Money in ``obj.<currency>``."""
    return fields.Function(
        lambda obj: Money.rounded(getattr(obj, attribute), getattr(obj, currency)).as_json()
    )


class ContactPointSchema(Schema):
    """A phone number (E.164) or e-mail address."""

    kind = fields.String()
    value = fields.String()
    label = fields.String(allow_none=True)


class ConsentSchema(Schema):
    """A debtor's consent to a channel and whether they opted out of it."""

    channel = fields.String()
    consent = fields.Boolean()
    opted_out = fields.Boolean()


class GetDebtorInputSchema(Schema):
    """Input of ``ledger.get_debtor``."""

    debtor_id = fields.String(required=True, validate=_ID)


class FindDebtorsInputSchema(Schema):
    """Input of ``ledger.find_debtors``: one contact address (a phone or an e-mail)."""

    phone = fields.String(validate=validate.Length(min=1, max=64))
    email = fields.String(validate=validate.Length(min=1, max=320))


class FoundDebtorSchema(Schema):
    """A debtor reached at the address, with its open accounts' ids."""

    id = fields.String()
    external_ref = fields.String()
    name = fields.String()
    language = fields.String()
    open_account_ids = fields.List(fields.String())


class FoundDebtorsSchema(Schema):
    """Output of ``ledger.find_debtors``."""

    items = fields.List(fields.Nested(FoundDebtorSchema))


class DebtorProfileSchema(Schema):
    """Output of ``ledger.get_debtor``: what a contact needs to know about a debtor."""

    id = fields.String()
    external_ref = fields.String()
    name = fields.String()
    language = fields.String()
    time_zone = fields.String()
    #: ISO 3166-1 alpha-2 of the first phone number's region, when there is one.
    country = fields.String(allow_none=True)
    preferred_channel = fields.String(allow_none=True)
    contact_points = fields.List(fields.Nested(ContactPointSchema))
    consents = fields.List(fields.Nested(ConsentSchema))
    #: Whether any open account of the debtor is disputed.
    disputed = fields.Boolean()


class SetConsentInputSchema(Schema):
    """Input of ``ledger.set_consent``: what changes on one channel (omitted: unchanged)."""

    debtor_id = fields.String(required=True, validate=_ID)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    consent = fields.Boolean(load_default=None, allow_none=True)
    opted_out = fields.Boolean(load_default=None, allow_none=True)


class DebtorSchema(Schema):
    """A debtor as the API shows it."""

    id = fields.String()
    external_ref = fields.String()
    name = fields.String()
    contact_points = fields.List(fields.Nested(ContactPointSchema))
    preferred_channel = fields.String(allow_none=True)
    language = fields.String()
    time_zone = fields.String()
    consents = fields.List(fields.Nested(ConsentSchema))
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class AccountSchema(Schema):
    """An account's terms and its state as the aging job last saw it."""

    id = fields.String()
    debtor_id = fields.String()
    external_ref = fields.String()
    product_type = fields.String()
    currency = fields.String()
    principal = _amount("principal")
    annual_rate = fields.Function(lambda a: str(a.annual_rate.normalize()))
    originated_on = fields.Date()
    status = fields.String()
    disputed = fields.Boolean()
    bucket = fields.String()
    days_past_due = fields.Integer()
    aged_on = fields.Date(allow_none=True)
    created_at = fields.AwareDateTime()


class NextInstalmentSchema(Schema):
    """The next instalment falling due."""

    number = fields.Integer()
    due_on = fields.Date()
    amount = MoneyField()


def _components() -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=MoneyField())


class AccountSummarySchema(Schema):
    """An account with balances by component, days past due and bucket as of a date."""

    account = fields.Nested(AccountSchema)
    as_of = fields.Date()
    balances = _components()
    total = MoneyField()
    credit = MoneyField()
    days_past_due = fields.Integer()
    bucket = fields.String()
    next_instalment = fields.Nested(NextInstalmentSchema, allow_none=True)


class InstalmentStateSchema(Schema):
    """One instalment: scheduled total, and by component what fell due, was paid, is owed."""

    number = fields.Integer()
    due_on = fields.Date()
    scheduled = MoneyField()
    due = _components()
    paid = _components()
    outstanding = _components()


class PostingSchema(Schema):
    """One leg of a journal entry (debits positive)."""

    book = fields.String()
    amount = fields.Function(lambda p: Money.rounded(p.amount, p.currency).as_json())
    instalment_id = fields.String(allow_none=True)


class JournalEntrySchema(Schema):
    """A journal entry with its postings."""

    id = fields.String()
    kind = fields.String()
    effective_on = fields.Date()
    posted_at = fields.AwareDateTime()
    memo = fields.String()
    reverses_id = fields.String(allow_none=True)
    postings = fields.List(fields.Nested(PostingSchema))


class AllocatedPartSchema(Schema):
    """What a payment took off one component of one instalment."""

    instalment_id = fields.String()
    number = fields.Integer()
    component = fields.String()
    amount = MoneyField()


class PaymentSchema(Schema):
    """A payment (a :class:`~almacen.modules.ledger.payments.PaymentView`)."""

    id = fields.String(attribute="payment.id")
    account_id = fields.String(attribute="payment.account_id")
    external_id = fields.String(attribute="payment.external_id")
    amount = MoneyField()
    received_on = fields.Date(attribute="payment.received_on")
    channel = fields.String(attribute="payment.channel", allow_none=True)
    status = fields.String()
    allocations = fields.List(fields.Nested(AllocatedPartSchema))
    credit = MoneyField()
    entry_id = fields.String(attribute="payment.entry_id")
    reversal_entry_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(attribute="payment.created_at")


class PromiseSchema(Schema):
    """A promise to pay."""

    id = fields.String()
    account_id = fields.String()
    amount = _amount("amount")
    paid = _amount("paid")
    due_on = fields.Date()
    channel = fields.String(allow_none=True)
    status = fields.String()
    created_on = fields.Date()
    created_at = fields.AwareDateTime()
    resolved_at = fields.AwareDateTime(allow_none=True)


class AgingReportSchema(Schema):
    """What the aging job did."""

    as_of = fields.Date()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    changed = fields.Integer()
    promises = fields.Dict(keys=fields.String(), values=fields.Integer())
    #: Plans and settlements completed or broken by this run, per new status.
    plans = fields.Dict(keys=fields.String(), values=fields.Integer())


# -- action inputs -------------------------------------------------------------------------


class GetAccountsInputSchema(Schema):
    """Input of ``ledger.get_accounts``: the named accounts, or a page of those in a status."""

    account_ids = fields.List(
        fields.String(validate=_ID), load_default=None, validate=validate.Length(min=1, max=10000)
    )
    status = fields.String(
        load_default="open", validate=validate.OneOf(("open", "settled", "charged_off", "closed"))
    )
    after = fields.String(load_default=None, validate=_ID)
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=10000))
    as_of = fields.Date(load_default=None)


class AccountFactsSchema(Schema):
    """One account's facts for bulk readers: state, receivable total, days past due, bucket."""

    account_id = fields.String()
    debtor_id = fields.String()
    status = fields.String()
    disputed = fields.Boolean()
    total = MoneyField()
    days_past_due = fields.Integer()
    bucket = fields.String()


class AccountFactsPageSchema(Schema):
    """Output of ``ledger.get_accounts``: the facts, and the id to continue ``after``."""

    items = fields.List(fields.Nested(AccountFactsSchema))
    next_after = fields.String(allow_none=True)


class GetAccountInputSchema(Schema):
    """Input of ``ledger.get_account``."""

    account_id = fields.String(required=True, validate=_ID)
    as_of = fields.Date(load_default=None)


class PostPaymentInputSchema(Schema):
    """Input of ``ledger.post_payment``."""

    account_id = fields.String(required=True, validate=_ID)
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    amount = MoneyField(required=True)
    received_on = fields.Date(required=True)
    channel = fields.String(load_default=None, validate=validate.Length(min=1, max=32))


class CreatePromiseInputSchema(Schema):
    """Input of ``ledger.create_promise``."""

    account_id = fields.String(required=True, validate=_ID)
    amount = MoneyField(required=True)
    due_on = fields.Date(required=True)
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))


# == schemas: plans and settlements ==


class PlanSchema(Schema):
    """A payment plan or settlement, with its terms."""

    id = fields.String()
    account_id = fields.String()
    kind = fields.String()
    status = fields.String()
    agreed_on = fields.Date()
    resolved_on = fields.Date(allow_none=True)
    terms = fields.Dict()
    created_at = fields.AwareDateTime()


class DisputeSchema(Schema):
    """A dispute of an account."""

    id = fields.String()
    account_id = fields.String()
    reason = fields.String()
    amount = fields.Function(
        lambda d: None if d.amount is None else Money.rounded(d.amount, d.currency).as_json(),
        allow_none=True,
    )
    status = fields.String()
    write_off_entry_id = fields.String(allow_none=True)
    opened_at = fields.AwareDateTime()
    resolved_at = fields.AwareDateTime(allow_none=True)


class PlanInstalmentInputSchema(Schema):
    """One instalment of an explicit plan schedule: what it repays and the interest on top."""

    due_on = fields.Date(required=True)
    principal = MoneyField(required=True)
    interest = MoneyField(load_default=None)


class InstallPlanInputSchema(Schema):
    """Input of ``ledger.install_plan``: ``count`` and ``first_due`` for a French schedule,
    or ``instalments`` for an exact one (a step-up plan, due dates moved to business days).

    Which of the two is given is checked by the service, not here: a blueprint's templated
    input is checked field by field before its values exist."""

    account_id = fields.String(required=True, validate=_ID)
    count = fields.Integer(load_default=None, strict=True, validate=validate.Range(1, 600))
    first_due = fields.Date(load_default=None)
    instalments = fields.List(
        fields.Nested(PlanInstalmentInputSchema),
        load_default=None,
        validate=validate.Length(1, 600),
    )
    down_payment = MoneyField(load_default=None)
    down_payment_due = fields.Date(load_default=None)
    annual_rate = fields.Decimal(load_default=None, validate=validate.Range(0, 10))


class ApplySettlementInputSchema(Schema):
    """Input of ``ledger.apply_settlement``."""

    account_id = fields.String(required=True, validate=_ID)
    amount = MoneyField(required=True)
    due_on = fields.Date(required=True)


# -- event payloads ------------------------------------------------------------------------


class AccountOpenedSchema(Schema):
    """Payload of ``ledger.account_opened``."""

    account_id = fields.String(required=True)
    debtor_id = fields.String(required=True)
    external_ref = fields.String(required=True)
    product_type = fields.String(required=True)
    principal = MoneyField(required=True)
    originated_on = fields.Date(required=True)


class PaymentEventSchema(Schema):
    """Payload of ``ledger.payment_posted`` and ``ledger.payment_reversed``."""

    payment_id = fields.String(required=True)
    account_id = fields.String(required=True)
    external_id = fields.String(required=True)
    amount = MoneyField(required=True)
    received_on = fields.Date(required=True)
    entry_id = fields.String(required=True)


class BucketChangedSchema(Schema):
    """Payload of ``ledger.bucket_changed``."""

    account_id = fields.String(required=True)
    old = fields.String(required=True)
    new = fields.String(required=True)
    days_past_due = fields.Integer(required=True)
    as_of = fields.Date(required=True)


class PromiseEventSchema(Schema):
    """Payload of ``ledger.promise_created``, ``ledger.promise_kept`` and
    ``ledger.promise_broken``."""

    promise_id = fields.String(required=True)
    account_id = fields.String(required=True)
    amount = MoneyField(required=True)
    paid = MoneyField(required=True)
    due_on = fields.Date(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["pending", "kept", "partially_kept", "broken", "cancelled"]),
    )


class AccountSettledSchema(Schema):
    """Payload of ``ledger.account_settled``."""

    account_id = fields.String(required=True)
    settled_on = fields.Date(required=True)
    credit = MoneyField(required=True)


# -- import and synthetic portfolios -------------------------------------------------------


class ImportRowSchema(Schema):
    """One row of a portfolio import: a debtor and an account (values as CSV gives them).

    Lengths and patterns are those of ``DebtorCreate`` and ``AccountCreate`` in the spec;
    Money, phones, e-mails and the schedule are checked by the services the single-item
    endpoints use.
    """

    debtor_external_ref = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = fields.String(validate=validate.Length(min=1, max=320))
    email = fields.String(validate=validate.Length(min=1, max=320))
    default_region = fields.String(validate=validate.Regexp(r"^[A-Z]{2}$"))
    preferred_channel = fields.String(validate=validate.OneOf(CHANNELS))
    #: Checked as ``POST /debtors`` checks them (a BCP 47 tag, an IANA zone).
    language = fields.String(validate=validate.Length(min=2, max=35))
    time_zone = fields.String(validate=validate.Length(min=1, max=64))
    account_external_ref = fields.String(required=True, validate=validate.Length(min=1, max=100))
    product_type = fields.String(required=True, validate=validate.Length(min=1, max=40))
    currency = fields.String(required=True)
    #: Decimal strings, checked as Money with ``currency``; a JSON number is refused there.
    principal = fields.Raw(required=True)
    fees = fields.Raw()
    annual_rate = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^(0|[1-9][0-9]?)(\.[0-9]{1,8})?$",
            error="must be a decimal fraction between 0 and 10 such as 0.12 (12 %)",
        ),
    )
    originated_on = fields.Date(required=True)
    instalments = fields.Integer(required=True, validate=validate.Range(1, 600))
    first_due = fields.Date(required=True)


class ImportJobSchema(Schema):
    """An import job: status, progress counts and the per-row error report."""

    id = fields.String()
    source = fields.String()
    status = fields.String()
    rows_total = fields.Integer()
    rows_validated = fields.Integer()
    rows_imported = fields.Integer()
    error_count = fields.Integer()
    errors = fields.List(fields.Dict())
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)


# -- KPIs and exports ----------------------------------------------------------------------


def _rate_of(attribute: str) -> fields.Function:
    """Dump a Decimal rate as a string, ``None`` as null."""

    def dump(obj: object) -> str | None:
        value = getattr(obj, attribute)
        return None if value is None else str(value)

    return fields.Function(dump)


class PortfolioBucketSchema(Schema):
    """Open accounts of one currency in one bucket and their receivable balance."""

    currency = fields.String()
    bucket = fields.String()
    accounts = fields.Integer()
    balance = _amount("balance")


class PortfolioReportSchema(Schema):
    """The portfolio by bucket (a :class:`~almacen.modules.ledger.kpis.PortfolioReport`)."""

    as_of = fields.Date()
    source = fields.String()
    snapshot_on = fields.Date(allow_none=True)
    buckets = fields.List(fields.Nested(PortfolioBucketSchema))


class RollCellSchema(Schema):
    """Accounts that rolled from one bucket to another."""

    currency = fields.String()
    from_bucket = fields.String()
    to_bucket = fields.String(allow_none=True)
    accounts = fields.Integer()
    account_share = _rate_of("account_share")
    balance = _amount("balance")
    balance_share = _rate_of("balance_share")
    balance_at_end = _amount("balance_at_end")


class RollReportSchema(Schema):
    """Roll rates between two month ends (a :class:`~almacen.modules.ledger.kpis.RollReport`)."""

    start = fields.String(data_key="from")
    end = fields.String(data_key="to")
    start_on = fields.Date(data_key="from_snapshot_on")
    end_on = fields.Date(data_key="to_snapshot_on")
    cells = fields.List(fields.Nested(RollCellSchema))


class CureRateSchema(Schema):
    """The cure rate of one currency's accounts."""

    currency = fields.String()
    delinquent = fields.Integer()
    delinquent_balance = _amount("delinquent_balance")
    cured = fields.Integer()
    cured_balance = _amount("cured_balance")
    exited = fields.Integer()
    cure_rate = _rate_of("cure_rate")


class PromiseRateSchema(Schema):
    """Promises of one currency that came due in a period, by outcome."""

    currency = fields.String()
    came_due = fields.Integer()
    kept = fields.Integer()
    partially_kept = fields.Integer()
    broken = fields.Integer()
    pending = fields.Integer()
    cancelled = fields.Integer()
    kept_rate = _rate_of("kept_rate")
    partially_kept_rate = _rate_of("partially_kept_rate")
    promised = _amount("promised")
    paid = _amount("paid")


class RecoveryCellSchema(Schema):
    """What one origination cohort paid in one month."""

    cohort = fields.String()
    currency = fields.String()
    placed = _amount("placed")
    period = fields.String()
    collected = _amount("collected")
    collected_to_date = _amount("collected_to_date")
    recovery_rate = _rate_of("recovery_rate")
    cumulative_recovery_rate = _rate_of("cumulative_recovery_rate")
