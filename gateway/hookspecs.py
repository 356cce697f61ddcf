"""The gateway's hook specifications: the whole contract between Almacén and its plugins.

Each hook is an empty, documented function. Implement one in a plugin with the same name,
decorated with ``almacen.hookimpl``; take any subset of the arguments. ``docs/plugin_hooks.md``
has a section per hook and a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .markers import hookspec

if TYPE_CHECKING:
    import click
    import connexion
    from sqlalchemy.orm import Session

    from .db import Database
    from .events.models import Event
    from .module import Action, EventType, Module
    from .plugins import PluginRegistry
    from .settings import Settings


@hookspec(historic=True)
def almacen_addhooks(registry: PluginRegistry) -> None:
    """Add hook specifications of a plugin's own, as ``pytest_addhooks`` does.

    Call ``registry.add_hookspecs(module)`` with a module of ``@hookspec`` functions. Historic:
    plugins registered later still receive the call.

    :param registry: the app's plugin registry.
    :return: nothing.
    """


@hookspec
def almacen_register_module() -> Module | None:
    """Register the API module this plugin provides.

    :return: a :class:`~almacen.Module`, or None when the plugin only extends others.
        All non-None results are collected; two modules of one name are a load failure of the
        second plugin.
    """


@hookspec
def almacen_register_actions() -> Iterable[Action] | None:
    """Register named actions other modules, blueprints and bots may call.

    :return: an iterable of :class:`~almacen.Action`, each named ``<module>.<verb_object>``
        after an installed module. All results are collected; a duplicate name is a load
        failure of the plugin that registered it second.
    """


@hookspec
def almacen_register_events() -> Iterable[EventType] | None:
    """Register the event types a module emits, for the event catalogue.

    :return: an iterable of :class:`~almacen.EventType`, each named
        ``<module>.<object_past_tense>``. All results are collected, as for actions.
    """


@hookspec
def almacen_prepare_app(app: connexion.FlaskApp, settings: Settings) -> None:
    """Change the application once it is built: add error handlers, routes, middleware.

    Called once at the end of :func:`~almacen.create_app`, in plugin order; every
    implementation runs. A plugin that raises is reported as a load failure and the app is
    served without its changes after the point it failed.

    :param app: the connexion application.
    :param settings: the gateway's settings.
    :return: nothing.
    """


@hookspec
def almacen_demo_data(session: Session, tenant_id: str, size: int, seed: int) -> str | None:
    """Fill a demo tenant with sample data; return a one-line summary.

    Called by ``almacen demo --portfolio N``, once per implementing plugin, each in a
    transaction of its own: a plugin that raises has its writes rolled back and is reported,
    the others still run. The same ``seed`` must give the same data.

    :param session: a session scoped to the demo tenant, in a transaction committed after
        the call.
    :param tenant_id: the demo tenant, subscribed to every installed module.
    :param size: how much to make, e.g. the number of debtors and accounts.
    :param seed: seed of a ``random.Random`` of the plugin's own (never the global one).
    :return: a line for the console (``"ledger: 1,000 accounts ..."``), or None when the
        plugin had nothing to add. Every non-None result is printed.
    """


@hookspec
def almacen_handle_event(session: Session, event: Event, settings: Settings) -> None:
    """Consume an event from the outbox, after the transaction that emitted it committed.

    Every implementation is a consumer: it is called once per event, at least once. Write
    with ``session``: it is scoped to the event's tenant and its writes commit together with
    the event's delivery (each consumer runs in a savepoint of its own). Raise to have the
    event retried later, with backoff, for this consumer alone; after
    ``delivery_max_attempts`` the event is dead until an operator replays it. A replayed or
    redelivered event has the same ``event.id``: ignore an id you have already handled.

    :param session: a session for the event's tenant, inside the delivery transaction.
    :param event: the :class:`~almacen.gateway.events.Event` row (``type``, ``payload``,
        ``subject_type``, ``subject_id``, ``occurred_at``, causation columns).
    :param settings: the gateway's settings.
    :return: nothing.
    """


@hookspec
def almacen_worker_tasks(db: Database, settings: Settings) -> Iterable[Callable[[], int]] | None:
    """Add periodic work to ``almacen worker`` (and the in-process delivery thread).

    Each task is called once per worker cycle, after the outbox batch, and returns how much
    work it did (0 lets the worker sleep until the next poll). A task that raises is logged
    and called again next cycle. Tasks must be safe to run in several workers at once (claim
    rows with ``FOR UPDATE SKIP LOCKED``).

    :param db: the gateway's database.
    :param settings: the gateway's settings.
    :return: an iterable of callables, or None.
    """


@hookspec
def almacen_register_commands() -> Iterable[click.Command] | None:
    """Add commands to the ``almacen`` command line (``almacen bots evaluate``).

    Called once each time ``almacen`` runs, before it parses its arguments. Return
    ``click`` commands or groups; each is added under its own name. A name the gateway
    already uses (``serve``, ``db``, ...) or that an earlier plugin took is skipped with a
    warning on stderr, and so is a plugin that raises. Import heavy things inside the
    command, not at module level: every ``almacen`` invocation loads the plugins.

    :return: an iterable of :class:`click.Command`, or None.
    """
