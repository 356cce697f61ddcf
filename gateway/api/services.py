"""A tenant's services: blueprints applied, versioned, restored, dry-run and watched."""

from __future__ import annotations

from typing import Any

from ..errors import BadRequestError
from ..services import service
from ..services.blueprint import parse_document
from ..services.models import RuleRun, Service, ServiceVersion
from ..state import current_gateway, request_session


def _service(row: Service, version: ServiceVersion | None) -> dict[str, Any]:
    document = version.document if version is not None else None
    return {
        "name": row.name,
        "status": row.status,
        "version": row.active_version,
        "description": (document or {}).get("description", "") or "",
        "document": document,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def _version(row: ServiceVersion, active: int | None) -> dict[str, Any]:
    return {
        "version": row.version,
        "active": row.version == active,
        "description": row.document.get("description", "") or "",
        "document": row.document,
        "created_at": row.created_at.isoformat(),
    }


def _run(row: RuleRun) -> dict[str, Any]:
    return {
        "id": row.id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "subject": (
            {"type": row.subject_type, "id": row.subject_id}
            if row.subject_type is not None and row.subject_id is not None
            else None
        ),
        "version": row.version,
        "rule": row.rule,
        "arm": row.arm,
        "depth": row.depth,
        "outcome": row.outcome,
        "reason": row.reason,
        "steps": row.steps,
        "created_at": row.created_at.isoformat(),
    }


def put(name: str, body: Any = None) -> tuple[dict[str, Any], int]:
    """Apply a blueprint (JSON, or ``{"yaml": "..."}``): validate, then activate."""
    document = body
    if isinstance(body, dict) and set(body) == {"yaml"} and isinstance(body["yaml"], str):
        document = parse_document(body["yaml"])
    if document is None:
        raise BadRequestError(
            "The request body is required.", errors=[{"pointer": "", "detail": "missing"}]
        )
    session = request_session()
    row, version, changed = service.apply(session, current_gateway().registry, name, document)
    return {
        **_service(row, version),
        "changed": changed,
    }, 201 if version.version == 1 and changed else 200


def search(limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """The tenant's services."""
    session = request_session()
    page = service.list_services(session, limit=limit, cursor=cursor)
    return {
        "items": [_service(row, service.active_version(session, row)) for row in page.items],
        "next": page.next_cursor,
    }


def get(name: str) -> dict[str, Any]:
    """A service and its active document."""
    session = request_session()
    row = service.get_service(session, name)
    return _service(row, service.active_version(session, row))


def delete(name: str) -> tuple[str, int]:
    """Deactivate: its rules stop running; its versions are kept."""
    service.deactivate(request_session(), name)
    return "", 204


def versions(name: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A service's versions, oldest first."""
    session = request_session()
    row = service.get_service(session, name)
    page = service.list_versions(session, name, limit=limit, cursor=cursor)
    return {
        "items": [_version(item, row.active_version) for item in page.items],
        "next": page.next_cursor,
    }


def restore(name: str, version: int) -> dict[str, Any]:
    """Activate a stored version again."""
    session = request_session()
    row, stored = service.restore(session, current_gateway().registry, name, version)
    return _service(row, stored)


def simulate(name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Dry run on a sample event: which rules fire and what they would run; nothing changes."""
    return service.run_simulation(request_session(), current_gateway().registry, name, body)


def runs(
    name: str,
    limit: int = 50,
    cursor: str | None = None,
    rule: str | None = None,
    outcome: str | None = None,
) -> dict[str, Any]:
    """What the service's rules did with each event, oldest first."""
    page = service.list_runs(
        request_session(), name, limit=limit, cursor=cursor, rule=rule, outcome=outcome
    )
    return {"items": [_run(row) for row in page.items], "next": page.next_cursor}


def experiments(name: str) -> dict[str, Any]:
    """Champion/challenger results of the active version's splits."""
    return service.experiments(request_session(), name)
