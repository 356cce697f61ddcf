"""Services' domain logic: apply (validate, then activate a new version), list, restore,
deactivate, dry-run, and read runs and experiments. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..actions import subscribed_modules
from ..db import utcnow
from ..errors import ConflictError, NotFoundError, UnprocessableError, marshmallow_errors
from ..pagination import Page, paginate
from ..plugins import PluginRegistry
from ..tenancy import service as tenancy
from .blueprint import SERVICE_NAME, Blueprint, BlueprintInvalidError, check_blueprint
from .engine import SampleEvent, blueprint_of, simulate
from .experiments import experiment_report
from .models import RuleRun, Service, ServiceVersion

__all__ = [
    "apply",
    "deactivate",
    "experiments",
    "get_service",
    "list_runs",
    "list_services",
    "list_versions",
    "restore",
    "run_simulation",
]


def _check_name(name: str) -> None:
    if not SERVICE_NAME.match(name):
        raise UnprocessableError(
            f"service name {name!r} must be 1-63 lower-case letters, digits and inner hyphens",
            errors=[{"parameter": "name", "in": "path", "detail": "invalid service name"}],
        )


def validate(session: Session, registry: PluginRegistry, name: str, document: Any) -> Blueprint:
    """The blueprint of ``document``. :raises BlueprintInvalidError: with every fault."""
    _check_name(name)
    blueprint, errors = check_blueprint(registry, name, document, subscribed_modules(session))
    if blueprint is None:
        count = len(errors)
        summary = "; ".join(f"{e['pointer'] or '/'}: {e['detail']}" for e in errors[:3])
        raise BlueprintInvalidError(
            f"the blueprint has {count} fault{'s' if count != 1 else ''}: {summary}",
            errors=errors,
            service=name,
        )
    return blueprint


def get_service(session: Session, name: str, *, lock: bool = False) -> Service:
    """A service of the session's tenant. :raises NotFoundError: when there is none."""
    statement = select(Service).where(Service.name == name)
    if lock and session.get_bind().dialect.name != "sqlite":
        statement = statement.with_for_update()
    found = session.scalar(statement)
    if found is None:
        raise NotFoundError(f"no service {name!r}", service=name)
    return found


def get_version(session: Session, name: str, version: int) -> ServiceVersion:
    """A stored version. :raises NotFoundError: when there is none."""
    found = session.scalar(
        select(ServiceVersion).where(
            ServiceVersion.service == name, ServiceVersion.version == version
        )
    )
    if found is None:
        raise NotFoundError(f"service {name!r} has no version {version}", service=name)
    return found


def active_version(session: Session, service: Service) -> ServiceVersion | None:
    """The version the service points at (None when it has none)."""
    if service.active_version is None:
        return None
    return get_version(session, service.name, service.active_version)


def _apply_configs(session: Session, registry: PluginRegistry, blueprint: Blueprint) -> None:
    for module, config in blueprint.modules.items():
        if config is not None:
            tenancy.subscribe(session, module=registry.modules[module], config=config)


def apply(
    session: Session, registry: PluginRegistry, name: str, document: Mapping[str, Any]
) -> tuple[Service, ServiceVersion, bool]:
    """Validate ``document``, then store it as the next version and activate it, with its
    module configuration, in the caller's transaction. Applying the active document again
    changes nothing. Return the service, its active version, and whether anything changed.

    :raises BlueprintInvalidError: with every fault; nothing is written.
    """
    blueprint = validate(session, registry, name, document)
    service = session.scalar(select(Service).where(Service.name == name))
    if service is None:
        try:
            with session.begin_nested():
                service = Service(name=name, status="active", active_version=None)
                session.add(service)
                session.flush()
        except IntegrityError:
            raise ConflictError(f"service {name!r} is being created concurrently; retry") from None
    else:
        service = get_service(session, name, lock=True)
    current = active_version(session, service)
    if current is not None and current.document == dict(document) and service.status == "active":
        return service, current, False
    latest = session.scalar(
        select(func.max(ServiceVersion.version)).where(ServiceVersion.service == name)
    )
    stored = ServiceVersion(service=name, version=(latest or 0) + 1, document=dict(document))
    try:
        with session.begin_nested():
            session.add(stored)
            session.flush()
    except IntegrityError:
        raise ConflictError(f"service {name!r} changed concurrently; retry") from None
    _apply_configs(session, registry, blueprint)
    service.active_version = stored.version
    service.status = "active"
    service.updated_at = utcnow()
    session.flush()
    return service, stored, True


def restore(
    session: Session, registry: PluginRegistry, name: str, version: int
) -> tuple[Service, ServiceVersion]:
    """Make a stored version active again (checked against today's plugins and
    subscriptions first, and its module configuration applied)."""
    service = get_service(session, name, lock=True)
    stored = get_version(session, name, version)
    blueprint = validate(session, registry, name, stored.document)
    _apply_configs(session, registry, blueprint)
    service.active_version = stored.version
    service.status = "active"
    service.updated_at = utcnow()
    session.flush()
    return service, stored


def deactivate(session: Session, name: str) -> Service:
    """Stop running the service's rules (its versions are kept; apply or restore resumes)."""
    service = get_service(session, name, lock=True)
    service.status = "inactive"
    service.updated_at = utcnow()
    return service


def list_services(session: Session, *, limit: int, cursor: str | None) -> Page[Service]:
    """The tenant's services in creation order."""
    return paginate(
        session, select(Service), keys=(Service.created_at, Service.id), limit=limit, cursor=cursor
    )


def list_versions(
    session: Session, name: str, *, limit: int, cursor: str | None
) -> Page[ServiceVersion]:
    """A service's versions, oldest first."""
    get_service(session, name)
    return paginate(
        session,
        select(ServiceVersion).where(ServiceVersion.service == name),
        keys=(ServiceVersion.created_at, ServiceVersion.id),
        limit=limit,
        cursor=cursor,
    )


def list_runs(
    session: Session,
    name: str,
    *,
    limit: int,
    cursor: str | None,
    rule: str | None = None,
    outcome: str | None = None,
) -> Page[RuleRun]:
    """What the service's rules did, oldest first (filter by rule or outcome)."""
    get_service(session, name)
    statement = select(RuleRun).where(RuleRun.service == name)
    if rule is not None:
        statement = statement.where(RuleRun.rule == rule)
    if outcome is not None:
        statement = statement.where(RuleRun.outcome == outcome)
    return paginate(
        session, statement, keys=(RuleRun.created_at, RuleRun.id), limit=limit, cursor=cursor
    )


def _sample_event(registry: PluginRegistry, body: Mapping[str, Any]) -> SampleEvent:
    event_type = registry.event_types.get(body["type"])
    if event_type is None:
        raise UnprocessableError(
            f"no installed module emits {body['type']!r}",
            errors=[{"pointer": "/event/type", "detail": "unknown event type"}],
        )
    payload = body.get("payload") or {}
    try:
        event_type.schema().load(payload)
    except ValidationError as exc:
        raise UnprocessableError(
            f"the sample payload breaks the schema of {event_type.name}",
            errors=marshmallow_errors(exc.messages, "/event/payload"),
        ) from None
    subject = body.get("subject") or {}
    return SampleEvent(
        type=event_type.name,
        payload=dict(payload),
        subject_type=subject.get("type"),
        subject_id=subject.get("id"),
    )


def run_simulation(
    session: Session, registry: PluginRegistry, name: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Dry-run the active (or the given) version on a sample event; nothing is written."""
    service = get_service(session, name)
    version = body.get("version") or service.active_version
    if version is None:
        raise NotFoundError(f"service {name!r} has no version to simulate", service=name)
    stored = get_version(session, name, version)
    event = _sample_event(registry, body["event"])
    rules = simulate(session, registry, name, stored.version, blueprint_of(stored), event)
    return {"service": name, "version": stored.version, "event": event.type, "rules": rules}


def experiments(session: Session, name: str) -> dict[str, Any]:
    """Per split rule of the active version: each arm's subjects and outcome rates."""
    service = get_service(session, name)
    stored = active_version(session, service)
    if stored is None:
        return {"service": name, "version": None, "outcomes": [], "experiments": []}
    blueprint = blueprint_of(stored)
    return {
        "service": name,
        "version": stored.version,
        "outcomes": [{"name": o.name, "event": o.event, "sum": o.sum} for o in blueprint.outcomes],
        "experiments": experiment_report(session, name, blueprint),
    }
