"""The per-app state handlers and middleware share, and how a handler reaches it."""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from typing import Any

import flask
from connexion.context import context as connexion_context
from connexion.context import operation as connexion_operation
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import Database, aborted_for_concurrency
from .errors import AuthenticationError, NotFoundError
from .events.dispatcher import Dispatcher, InProcessDelivery
from .plugins import PluginRegistry
from .ratelimit import TenantRateLimiter
from .requestcontext import Metrics
from .settings import Settings
from .tenancy.access import Authenticator
from .tenancy.principal import Principal

__all__ = [
    "Gateway",
    "current_gateway",
    "current_principal",
    "public_tenant_session",
    "request_session",
    "run_handler",
    "visible_modules",
]

EXTENSION = "almacen"

#: How many times a handler runs when the database aborts its transaction for a concurrent
#: one (a deadlock victim, a serialisation failure) before the client gets a 503.
HANDLER_ATTEMPTS = 3


@dataclasses.dataclass
class Gateway:
    """Everything one app holds: settings, plugins, storage and the access machinery."""

    settings: Settings
    registry: PluginRegistry
    db: Database
    metrics: Metrics
    authenticator: Authenticator
    limiter: TenantRateLimiter
    #: Parsed OpenAPI documents: the gateway's and each mounted module's (shared parts added).
    documents: dict[str | None, dict[str, Any]]
    #: Drains the event outbox (run by workers, or by ``delivery`` below).
    dispatcher: Dispatcher
    #: The in-process delivery thread, when ``settings.delivery`` is ``in-process``.
    delivery: InProcessDelivery | None = None

    def close(self) -> None:
        """Stop background delivery and close pooled connections."""
        if self.delivery is not None:
            self.delivery.stop()
        self.db.dispose()

    @property
    def installed(self) -> frozenset[str]:
        """Names of the modules mounted on this app."""
        return frozenset(self.registry.modules)


def current_gateway() -> Gateway:
    """The :class:`Gateway` of the app serving the current request."""
    gateway: Gateway = flask.current_app.extensions[EXTENSION]
    return gateway


def current_principal(*, required: bool = True) -> Principal | None:
    """Who is calling, as the access middleware established it."""
    principal = connexion_context.get("principal")
    if principal is None and required:
        raise AuthenticationError("This operation needs a credential.")
    return principal  # type: ignore[no-any-return]


def visible_modules() -> frozenset[str]:
    """The modules the caller may use: its tenant's subscriptions (every installed module
    for an operator or an anonymous caller)."""
    gateway = current_gateway()
    principal = current_principal(required=False)
    if principal is None or principal.is_admin:
        return gateway.installed
    return frozenset(principal.modules) & gateway.installed


def request_session(*, tenant_id: str | None = None) -> Session:
    """The session of the current request, opened on first use and committed after it.

    By default it is scoped to the calling tenant; operators pass ``tenant_id`` to act on one
    tenant's rows. A request has one session (one transaction), so one scope.
    """
    if tenant_id is None:
        principal = current_principal(required=False)
        tenant_id = principal.tenant_id if principal is not None else None
    sessions: dict[str | None, Session] = flask.g.setdefault("almacen_sessions", {})
    if sessions and tenant_id not in sessions:
        raise RuntimeError("a request uses one session; it was opened for another tenant")
    session = sessions.get(tenant_id)
    if session is None:
        session = current_gateway().db.session(tenant_id=tenant_id)
        session.begin()
        sessions[tenant_id] = session
    return session


def run_handler(handler: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call an operation's handler; when PostgreSQL aborts the request's transaction for a
    concurrent one, roll it back and call the handler again, up to :data:`HANDLER_ATTEMPTS`.

    The aborted transaction wrote nothing, so a second run is the same request on fresh
    data (handlers do not change their arguments). Rows are locked in a sorted order, which
    makes deadlocks rare; this is for the ones left, and for serialisable transactions.
    """
    for attempt in range(1, HANDLER_ATTEMPTS + 1):
        try:
            return handler(*args, **kwargs)
        except Exception as exc:
            if attempt == HANDLER_ATTEMPTS or not aborted_for_concurrency(exc):
                raise
        _close(None)
        # Jittered, growing pauses, so that the transactions that collided do not collide
        # again in step.
        time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - not a secret
    raise AssertionError("unreachable")  # pragma: no cover


def _commit(response: flask.Response) -> flask.Response:
    # Commit before the response leaves, so a failed commit is an error, not a lie.
    for session in flask.g.pop("almacen_sessions", {}).values():
        try:
            session.commit()
        finally:
            session.close()
    return response


def _close(_exc: BaseException | None) -> None:
    for session in flask.g.pop("almacen_sessions", {}).values():
        session.rollback()
        session.close()


def _require_operation() -> None:
    # connexion's router and Flask's can disagree: a path parameter holding a decoded line
    # break ("/debtors/a%0Ab") is no route to connexion but one to werkzeug, which would call
    # the handler outside an operation (a 500). No operation matched, so there is none.
    # connexion's routes live in its blueprints; a plugin's own Flask routes are left alone.
    if flask.request.blueprint is None:
        return
    try:
        connexion_operation.operation_id  # noqa: B018 - raises outside an operation
    except RuntimeError:
        raise NotFoundError("No operation matches this path.") from None


def install_sessions(app: flask.Flask) -> None:
    """Commit request sessions after a successful handler, roll back otherwise."""
    app.before_request(_require_operation)
    app.after_request(_commit)
    app.teardown_request(_close)


def public_tenant_session(tenant_id: str, module: str) -> Session:
    """The request's session for a tenant named by a public operation (a callback's path).

    A public operation (``security: []``) has no key to say whose it is: it names the tenant
    and proves itself by a signature the handler checks. An unknown or suspended tenant, or
    one that does not subscribe to ``module``, is a 404 that says no more, so the path cannot
    be used to learn which tenants exist.
    """
    from .tenancy.models import Subscription, Tenant

    session = request_session(tenant_id=tenant_id)
    tenant = session.get(Tenant, tenant_id)
    subscribed = session.scalar(
        select(Subscription.id).where(
            Subscription.tenant_id == tenant_id, Subscription.module == module
        )
    )
    if tenant is None or tenant.status != "active" or subscribed is None:
        raise NotFoundError("No such callback endpoint.")
    return session
