"""Marshmallow schemas of the ledger: dumping domain objects, the actions' inputs and outputs,
and the payloads of its events. Money is always ``{"amount": "88.85", "currency": "COP"}``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from almacen.gateway.money import MoneyField

from .accounts import money
from .debtors import CHANNELS

__all__ = [
    "AccountOpenedSchema",
    "AccountSchema",
    "AccountSettledSchema",
    "AccountSummarySchema",
    "AgingReportSchema",
    "BucketChangedSchema",
    "CreatePromiseInputSchema",
    "DebtorSchema",
    "GetAccountInputSchema",
    "InstalmentStateSchema",
    "JournalEntrySchema",
    "PaymentEventSchema",
    "PaymentSchema",
    "PostPaymentInputSchema",
    "PromiseEventSchema",
    "PromiseSchema",
]

_ID = validate.Regexp(r"^[0-9a-f]{32}$")


def _amount(attribute: str, currency: str = "currency") -> fields.Function:
    """Dump ``obj.<attribute>`` as Money in ``obj.<currency>``."""
    return fields.Function(
        lambda obj: money(getattr(obj, attribute), getattr(obj, currency)).as_json()
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
    amount = fields.Function(lambda p: money(p.amount, p.currency).as_json())
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
    reversal_entry_id = fields.String(attribute="payment.reversal_entry_id", allow_none=True)
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


# -- action inputs -------------------------------------------------------------------------


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
