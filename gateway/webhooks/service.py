"""Webhooks' domain logic: endpoints, the fan-out of events into deliveries, the log.

Plain functions over a session opened for one tenant (every query is scoped to it, so a
tenant never reaches another's endpoints); the caller owns the transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import ConflictError, NotFoundError, UnprocessableError
from ..events import session_memo
from ..events.models import Event
from ..pagination import Page, paginate
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .signing import new_secret
from .targets import Network, check_target

__all__ = [
    "Catalogue",
    "create_endpoint",
    "delete_endpoint",
    "fan_out",
    "get_delivery",
    "get_endpoint",
    "list_attempts",
    "list_deliveries",
    "list_endpoints",
    "matches",
    "redeliver",
    "rotate_secret",
    "update_endpoint",
]

#: How long a rotated-out secret keeps signing by default: receivers have a day to switch.
DEFAULT_GRACE = dt.timedelta(hours=24)


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """What a filter may name: the registered event types and the installed modules."""

    event_types: Collection[str]
    modules: Collection[str]


def matches(filters: Sequence[str], event_type: str) -> bool:
    """True when one of ``filters`` (a type, ``module.*`` or ``*``) covers ``event_type``."""
    module = event_type.partition(".")[0]
    return any(f in ("*", event_type, f"{module}.*") for f in filters)


def _check_filters(filters: Sequence[str], catalogue: Catalogue) -> list[str]:
    faults = []
    for index, name in enumerate(filters):
        module, _, rest = name.partition(".")
        known = (
            name == "*"
            or name in catalogue.event_types
            or (rest == "*" and module in catalogue.modules)
        )
        if not known:
            faults.append(
                {
                    "pointer": f"/filters/{index}",
                    "detail": f"{name!r} is no registered event type, nor 'module.*' of an "
                    "installed module, nor '*'",
                }
            )
    if faults:
        raise UnprocessableError(
            f"{len(faults)} event filter(s) match no event this gateway emits", errors=faults
        )
    # Keep the order given, without repeats.
    return list(dict.fromkeys(filters))


# -- endpoints -----------------------------------------------------------------------------


def create_endpoint(
    session: Session,
    *,
    url: str,
    filters: Sequence[str],
    catalogue: Catalogue,
    allowed: Sequence[Network],
    description: str = "",
    enabled: bool = True,
) -> WebhookEndpoint:
    """Register an endpoint with a new secret (the caller shows it once).

    :raises TargetRefusedError: when ``url`` is malformed or not an allowed address.
    :raises UnprocessableError: when a filter names no known event.
    """
    check_target(url, allowed=allowed)
    endpoint = WebhookEndpoint(
        url=url,
        filters=_check_filters(filters, catalogue),
        description=description,
        enabled=enabled,
        secret=new_secret(),
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def get_endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint:
    """One of the tenant's endpoints. :raises NotFoundError: for none (or another tenant's)."""
    endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
    if endpoint is None:
        raise NotFoundError(f"no webhook {endpoint_id!r} for this tenant")
    return endpoint


def list_endpoints(
    session: Session, *, limit: int, cursor: str | None = None
) -> Page[WebhookEndpoint]:
    """The tenant's endpoints, oldest first."""
    return paginate(
        session,
        select(WebhookEndpoint),
        keys=(WebhookEndpoint.created_at, WebhookEndpoint.id),
        limit=limit,
        cursor=cursor,
    )


def update_endpoint(
    session: Session,
    endpoint_id: str,
    changes: Mapping[str, Any],
    *,
    catalogue: Catalogue,
    allowed: Sequence[Network],
) -> WebhookEndpoint:
    """Change an endpoint's ``url``, ``filters``, ``description`` or ``enabled``."""
    endpoint = get_endpoint(session, endpoint_id)
    if "url" in changes:
        check_target(changes["url"], allowed=allowed)
        endpoint.url = changes["url"]
    if "filters" in changes:
        endpoint.filters = _check_filters(changes["filters"], catalogue)
    for field in ("description", "enabled"):
        if field in changes:
            setattr(endpoint, field, changes[field])
    endpoint.updated_at = utcnow()
    session.flush()
    return endpoint


def delete_endpoint(session: Session, endpoint_id: str) -> None:
    """Remove an endpoint with its deliveries and their log."""
    endpoint = get_endpoint(session, endpoint_id)
    session.delete(endpoint)
    session.flush()


def rotate_secret(
    session: Session, endpoint_id: str, *, grace: dt.timedelta = DEFAULT_GRACE
) -> tuple[WebhookEndpoint, str]:
    """Give an endpoint a new secret; the old one keeps signing beside it for ``grace``.

    :return: the endpoint and its new secret (shown to the caller once).
    """
    endpoint = get_endpoint(session, endpoint_id)
    secret = new_secret()
    now = utcnow()
    if grace > dt.timedelta(0):
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + grace
    else:
        endpoint.previous_secret = None
        endpoint.previous_secret_expires_at = None
    endpoint.secret = secret
    endpoint.updated_at = now
    session.flush()
    return endpoint, secret


# -- deliveries ----------------------------------------------------------------------------


def fan_out(session: Session, event: Event) -> list[WebhookDelivery]:
    """Owe ``event`` to every enabled endpoint of its tenant whose filters match its type.

    An endpoint that already has a delivery of this event gets no second one, so a replayed
    event is not sent again (a tenant asks for that with :func:`redeliver`).
    """
    endpoints = session_memo(
        session,
        "webhooks.endpoints",
        lambda: [
            (e.id, e.filters)
            for e in session.scalars(
                select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
            )
        ],
    )
    wanted = [id for id, filters in endpoints if matches(filters, event.type)]
    if not wanted:
        return []
    owed = set(
        session.scalars(
            select(WebhookDelivery.endpoint_id).where(
                WebhookDelivery.event_id == event.id,
                WebhookDelivery.endpoint_id.in_(wanted),
            )
        )
    )
    created = [
        WebhookDelivery(endpoint_id=id, event_id=event.id, event_type=event.type)
        for id in wanted
        if id not in owed
    ]
    session.add_all(created)
    session.flush()
    return created


def list_deliveries(
    session: Session,
    endpoint_id: str,
    *,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
) -> Page[WebhookDelivery]:
    """An endpoint's deliveries, oldest first, optionally of one status."""
    get_endpoint(session, endpoint_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    return paginate(
        session,
        statement,
        keys=(WebhookDelivery.created_at, WebhookDelivery.id),
        limit=limit,
        cursor=cursor,
    )


def list_attempts(
    session: Session, delivery_ids: Collection[str]
) -> dict[str, list[WebhookAttempt]]:
    """The attempts of each delivery, oldest first."""
    found: dict[str, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
    if not found:
        return found
    rows = session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(list(found)))
        .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
    )
    for row in rows:
        found[row.delivery_id].append(row)
    return found


def get_delivery(session: Session, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
    """One delivery of one of the tenant's endpoints. :raises NotFoundError:"""
    get_endpoint(session, endpoint_id)
    delivery = session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id
        )
    )
    if delivery is None:
        raise NotFoundError(f"no delivery {delivery_id!r} of webhook {endpoint_id!r}")
    return delivery


def redeliver(session: Session, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
    """Send a delivery again now, whatever its status, with a fresh round of retries.

    :raises ConflictError: when the endpoint is disabled (nothing would be sent).
    """
    delivery = get_delivery(session, endpoint_id, delivery_id)
    if not get_endpoint(session, endpoint_id).enabled:
        raise ConflictError(
            f"webhook {endpoint_id!r} is disabled; enable it to redeliver",
            errors=[{"parameter": "webhook_id", "detail": "disabled"}],
        )
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.delivered_at = None
    session.flush()
    return delivery
