"""The ledger: debtors, accounts and their schedules, the double-entry journal, payments,
aging buckets and promises to pay, exact to the cent.

A built-in module registered through the ``almacen.plugins`` entry point like any other
plugin: this file only wires the module, its actions, its event types and the hook specs it
offers (``almacen_ledger_allocation_strategies``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.resources import files
from typing import TYPE_CHECKING

from almacen import Action, EventType, Module, __version__, hookimpl

from . import actions, plan_actions, schemas
from .config import LedgerConfigSchema

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from almacen.gateway.db import Database
    from almacen.gateway.plugins import PluginRegistry
    from almacen.gateway.settings import Settings


@hookimpl
def almacen_addhooks(registry: PluginRegistry) -> None:
    """Offer the ledger's extension points (allocation strategies)."""
    from . import hookspecs

    registry.add_hookspecs(hookspecs)


@hookimpl
def almacen_register_module() -> Module:
    """Register the ``ledger`` module, mounted at ``/v1/ledger``."""
    return Module(
        name="ledger",
        version=__version__,
        title="Ledger",
        description=(
            "Debtors, accounts and schedules, an append-only double-entry journal, idempotent "
            "payments allocated by a configurable waterfall, aging buckets and promises to pay."
        ),
        spec=files("almacen.openapi") / "ledger.yaml",
        api=f"{__name__}.api",
        config_schema=LedgerConfigSchema,
        migrations=files(__name__) / "migrations",
        models=f"{__name__}.models",
    )


@hookimpl
def almacen_register_actions() -> Iterable[Action]:
    """Register ``ledger.get_account``, ``ledger.post_payment`` and ``ledger.create_promise``."""
    return [
        Action(
            name="ledger.get_account",
            input_schema=schemas.GetAccountInputSchema,
            output_schema=schemas.AccountSummarySchema,
            handler=actions.get_account,
            description="An account's balances by component, days past due and bucket.",
        ),
        Action(
            name="ledger.get_accounts",
            input_schema=schemas.GetAccountsInputSchema,
            output_schema=schemas.AccountFactsPageSchema,
            handler=actions.get_accounts,
            description="Facts of many accounts at once (named, or a page of one status): "
            "state, receivable total, days past due and bucket.",
        ),
        Action(
            name="ledger.post_payment",
            input_schema=schemas.PostPaymentInputSchema,
            output_schema=schemas.PaymentSchema,
            handler=actions.post_payment,
            description="Post a payment (idempotent on external_id), allocated by the tenant's "
            "strategy.",
        ),
        Action(
            name="ledger.create_promise",
            input_schema=schemas.CreatePromiseInputSchema,
            output_schema=schemas.PromiseSchema,
            handler=actions.create_promise,
            description="Record a promise to pay an amount by a date.",
        ),
        Action(
            name="ledger.get_debtor",
            input_schema=schemas.GetDebtorInputSchema,
            output_schema=schemas.DebtorProfileSchema,
            handler=actions.get_debtor,
            description="A debtor's profile for contacting them: language, time zone, country, "
            "contact points, consents, and whether an open account is disputed.",
        ),
        Action(
            name="ledger.find_debtors",
            input_schema=schemas.FindDebtorsInputSchema,
            output_schema=schemas.FoundDebtorsSchema,
            handler=actions.find_debtors,
            description="The debtors reached at a phone number or e-mail address (exact, "
            "normalised match), each with its open accounts.",
        ),
        Action(
            name="ledger.set_consent",
            input_schema=schemas.SetConsentInputSchema,
            output_schema=schemas.ConsentSchema,
            handler=actions.set_consent,
            description="Record a debtor's consent to, or opt-out of, one channel.",
        ),
        # == plans and settlements (item 6) ==
        Action(
            name="ledger.install_plan",
            input_schema=schemas.InstallPlanInputSchema,
            output_schema=schemas.PlanSchema,
            handler=plan_actions.install_plan,
            description="Replace an account's open schedule with an agreed payment plan.",
        ),
        Action(
            name="ledger.apply_settlement",
            input_schema=schemas.ApplySettlementInputSchema,
            output_schema=schemas.PlanSchema,
            handler=plan_actions.apply_settlement,
            description="Agree that paying an amount by a date settles the account; the rest "
            "is forgiven on completion.",
        ),
    ]


@hookimpl
def almacen_register_events() -> Iterable[EventType]:
    """Register the event types the ledger emits (defined in :mod:`.events`)."""
    from . import events

    return list(events.ALL)


@hookimpl
def almacen_worker_tasks(db: Database, settings: Settings) -> Iterable[Callable[[], int]]:
    """The daily run (aging, promises, plans) of the tenants that ask for it."""
    from .daily import DailyAging

    return [DailyAging(db)]


@hookimpl
def almacen_demo_data(session: Session, size: int, seed: int) -> str | None:
    """Fill the demo tenant with a synthetic portfolio of ``size`` accounts."""
    from . import synthetic

    return synthetic.fill_demo(session, size=size, seed=seed)
