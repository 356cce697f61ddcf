"""The per-tenant model registry: versions of model documents, their life (draft → active →
retired) and their role (one champion per purpose, any number of challengers).

Activating a champion demotes the purpose's previous champion to **challenger**, not
retired: it keeps scoring when asked by id (a comparison right after a switch is what
challengers are for), and retiring it stays an explicit decision. Retired is final.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from almacen import emit
from almacen.gateway.db import utcnow
from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.gateway.pagination import Page, paginate

from . import events
from .model_tables import ScoringModel
from .model_types import ModelType
from .schemas import PURPOSES
from .scorecard import SCORECARD

__all__ = [
    "activate_model",
    "champion",
    "create_model",
    "get_model",
    "list_models",
    "model_ref",
    "model_type",
    "model_types",
    "retire_model",
    "update_draft",
]


def model_ref(model: ScoringModel) -> dict[str, Any]:
    """Which model version scored: what every score answer names."""
    return {
        "id": model.id,
        "name": model.name,
        "version": model.version,
        "purpose": model.purpose,
        "role": model.role,
    }


def model_types(session: Session | None = None) -> dict[str, ModelType]:
    """The built-in ``scorecard`` and the model types plugins add, by name.

    The plugin registry is the session's (every gateway session carries it) or the current
    app's; outside both (a script, a unit test) only the built-in type exists.
    """
    registry = session.info.get("registry") if session is not None else None
    if registry is None and flask.has_app_context():
        from almacen.gateway.state import current_gateway

        registry = current_gateway().registry
    found: dict[str, ModelType] = {SCORECARD.name: SCORECARD}
    hook = getattr(registry.hook, "almacen_scoring_model_types", None) if registry else None
    if hook is not None:
        for kind in itertools.chain.from_iterable(result for result in hook() if result):
            found.setdefault(kind.name, kind)
    return found


def model_type(session: Session, name: str) -> ModelType:
    """The model type ``name``. :raises UnprocessableError: when no installed type has it."""
    kinds = model_types(session)
    if name not in kinds:
        raise UnprocessableError(
            f"unknown model type {name!r}",
            errors=[{"pointer": "/document/type", "detail": f"one of {sorted(kinds)}"}],
        )
    return kinds[name]


def validate_document(session: Session, document: Mapping[str, Any]) -> ModelType:
    """The document's model type, after it validated the document.

    :raises UnprocessableError: with every fault's pointer under ``/document``.
    """
    faults: list[dict[str, str]] = []
    if document.get("purpose") not in PURPOSES:
        faults.append({"pointer": "/document/purpose", "detail": f"one of {list(PURPOSES)}"})
    kind_name = document.get("type")
    if not isinstance(kind_name, str):
        faults.append({"pointer": "/document/type", "detail": "a model type's name"})
        raise UnprocessableError("the model document is invalid", errors=faults)
    kind = model_type(session, kind_name)
    faults += [
        {"pointer": "/document" + fault["pointer"].rstrip("/"), "detail": fault["detail"]}
        for fault in kind.validate(document)
        if fault["pointer"].rstrip("/") != "/purpose" or not faults
    ]
    if faults:
        raise UnprocessableError(
            f"the {kind_name} document is invalid ({len(faults)} faults)", errors=faults
        )
    return kind


def create_model(
    session: Session,
    *,
    name: str,
    document: Mapping[str, Any],
    description: str | None = None,
) -> ScoringModel:
    """A new draft version of model ``name`` (version 1, or one more than the last).

    Training stores its result through this function too.

    :raises UnprocessableError: the document is invalid (pointers under ``/document``).
    """
    kind = validate_document(session, document)
    last = session.scalar(select(func.max(ScoringModel.version)).where(ScoringModel.name == name))
    now = utcnow()
    model = ScoringModel(
        name=name,
        version=(last or 0) + 1,
        purpose=document["purpose"],
        type=kind.name,
        status="draft",
        description=description,
        document=dict(document),
        created_at=now,
        updated_at=now,
    )
    session.add(model)
    session.flush()
    return model


def get_model(session: Session, model_id: str) -> ScoringModel:
    """One of the tenant's model versions. :raises NotFoundError: when there is none."""
    model = session.get(ScoringModel, model_id)
    # session.get may answer from the identity map without the tenant criteria: check.
    if model is None or model.tenant_id != session.info.get("tenant_id"):
        raise NotFoundError(f"no model {model_id}")
    return model


def list_models(
    session: Session,
    *,
    name: str | None = None,
    purpose: str | None = None,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ScoringModel]:
    """A page of the tenant's model versions, oldest first, filtered."""
    statement = select(ScoringModel)
    if name is not None:
        statement = statement.where(ScoringModel.name == name)
    if purpose is not None:
        statement = statement.where(ScoringModel.purpose == purpose)
    if status is not None:
        statement = statement.where(ScoringModel.status == status)
    return paginate(
        session,
        statement,
        keys=(ScoringModel.created_at, ScoringModel.id),
        limit=limit,
        cursor=cursor,
    )


def update_draft(
    session: Session,
    model_id: str,
    *,
    document: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> ScoringModel:
    """Edit a draft's document (and description). Active and retired versions are frozen:
    a change is a new version.

    :raises ConflictError: the version is not a draft.
    :raises UnprocessableError: the new document is invalid.
    """
    model = get_model(session, model_id)
    if model.status != "draft":
        raise ConflictError(
            f"model {model.name} v{model.version} is {model.status}: only drafts are edited; "
            "create a new version instead"
        )
    if document is not None:
        kind = validate_document(session, document)
        model.document = dict(document)
        model.purpose = document["purpose"]
        model.type = kind.name
    if description is not None:
        model.description = description
    model.updated_at = utcnow()
    session.flush()
    return model


def activate_model(session: Session, model_id: str, *, role: str) -> ScoringModel:
    """Make a draft or active version the champion of its purpose, or a challenger.

    A new champion demotes the previous one to challenger (see the module docstring).
    Emits ``scoring.model_activated`` in the same transaction.

    :raises ConflictError: the version is retired.
    """
    model = get_model(session, model_id)
    if model.status == "retired":
        raise ConflictError(f"model {model.name} v{model.version} is retired")
    now = utcnow()
    if role == "champion":
        # Locked so that two activations of one purpose serialise (PostgreSQL): never two
        # champions.
        previous = session.scalars(
            select(ScoringModel)
            .where(
                ScoringModel.purpose == model.purpose,
                ScoringModel.role == "champion",
                ScoringModel.id != model.id,
            )
            .with_for_update()
        ).all()
        for old in previous:
            old.role = "challenger"
            old.updated_at = now
    if model.status != "active":
        model.activated_at = now
    model.status = "active"
    model.role = role
    model.updated_at = now
    session.flush()
    emit(
        session,
        events.MODEL_ACTIVATED,
        {
            "model_id": model.id,
            "name": model.name,
            "version": model.version,
            "purpose": model.purpose,
            "role": role,
        },
        subject=("model", model.id),
    )
    return model


def retire_model(session: Session, model_id: str) -> ScoringModel:
    """Retire a draft or active version: it no longer scores. :raises ConflictError: already."""
    model = get_model(session, model_id)
    if model.status == "retired":
        raise ConflictError(f"model {model.name} v{model.version} is already retired")
    now = utcnow()
    model.status = "retired"
    model.role = None
    model.retired_at = now
    model.updated_at = now
    session.flush()
    return model


def champion(session: Session, purpose: str) -> ScoringModel:
    """The champion of ``purpose``. :raises NotFoundError: the tenant has none."""
    model = session.scalar(
        select(ScoringModel).where(
            ScoringModel.purpose == purpose,
            ScoringModel.status == "active",
            ScoringModel.role == "champion",
        )
    )
    if model is None:
        raise NotFoundError(f"no champion model for purpose {purpose!r}")
    return model
