"""Scoring records with a model version: resolve the model (by id, or the champion of a
purpose), complete features from the ledger where asked, dispatch on the model's type, and
keep score records for monitoring (one bulk insert per batch).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy.orm import Session

from almacen.gateway.bulk import bulk_insert
from almacen.gateway.db import new_id, utcnow
from almacen.gateway.errors import ConflictError, UnprocessableError

from .features import ledger_features
from .model_tables import ScoreRecord, ScoringModel
from .model_types import FeatureError, Missing
from .registry import champion, get_model, model_type
from .settings import settings_for

__all__ = ["MAX_RECORDS", "Scored", "keep_scores", "resolve_model", "score_records"]

#: The largest batch scored synchronously.
MAX_RECORDS = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class Scored:
    """A scored batch: the model version that scored it and one result per record."""

    model: ScoringModel
    results: list[dict[str, Any]]


def resolve_model(
    session: Session, *, model_id: str | None = None, purpose: str | None = None
) -> ScoringModel:
    """The version to score with: ``model_id`` (a draft, to try it, or an active version),
    else the champion of ``purpose``.

    :raises NotFoundError: no such model, or no champion for the purpose.
    :raises ConflictError: the version is retired.
    """
    if model_id is not None:
        model = get_model(session, model_id)
        if model.status == "retired":
            raise ConflictError(f"model {model.name} v{model.version} is retired")
        return model
    if purpose is None:
        raise UnprocessableError(
            "give model_id or purpose", errors=[{"pointer": "/model_id", "detail": "required"}]
        )
    return champion(session, purpose)


def score_records(
    session: Session,
    model: ScoringModel,
    records: Sequence[Mapping[str, Any]],
    *,
    record: bool = True,
    pointer: str = "/records/{i}",
) -> Scored:
    """Score ``records`` (each ``{features?, account_id?, subject?}``) with ``model``.

    A record with ``account_id`` whose features lack some of the model's gets them from the
    ledger (the given ones win). With ``record``, every score is kept as a
    :class:`ScoreRecord` for monitoring.

    :param pointer: where record ``i`` is in the caller's input, for problems (the action's
        single record is ``""``).
    :raises UnprocessableError: an empty or too large batch, a missing feature under
        ``reject``, a value the model cannot read, or features required without a ledger;
        pointers name ``/records/<i>/features/<name>``.
    """
    batch = pointer.removesuffix("/{i}") or "/"
    if not records:
        raise UnprocessableError(
            "no records to score", errors=[{"pointer": batch, "detail": "at least 1 record"}]
        )
    if len(records) > MAX_RECORDS:
        raise UnprocessableError(
            f"{len(records)} records: at most {MAX_RECORDS:,} are scored at once",
            errors=[{"pointer": batch, "detail": f"at most {MAX_RECORDS} records"}],
        )
    kind = model_type(session, model.type)
    document = model.document
    missing = cast(Missing, document.get("missing") or settings_for(session)["missing"])
    needed = kind.features(document)
    features = [
        _features_of(session, item, needed, pointer.format(i=i)) for i, item in enumerate(records)
    ]
    try:
        results = kind.score(document, features, missing=missing)
    except FeatureError as exc:
        raise UnprocessableError(
            f"records cannot be scored with {model.name} v{model.version}: {exc}",
            errors=[
                {
                    "pointer": pointer.format(i=f["index"]) + f"/features/{_escape(f['feature'])}",
                    "detail": f["detail"],
                }
                for f in exc.faults
            ],
        ) from None
    out = [dict(result) for result in results]
    if record:
        keep_scores(session, model, records, out)
    return Scored(model=model, results=out)


def _features_of(
    session: Session, item: Mapping[str, Any], needed: list[str], pointer: str
) -> Mapping[str, Any]:
    given: Mapping[str, Any] = item.get("features") or {}
    account_id = item.get("account_id")
    if account_id is None or all(given.get(name) is not None for name in needed):
        return given
    return {**ledger_features(session, account_id, pointer=pointer), **given}


def keep_scores(
    session: Session,
    model: ScoringModel,
    records: Sequence[Mapping[str, Any]],
    results: list[dict[str, Any]],
) -> None:
    """One bulk insert of the batch's score records."""
    now = utcnow()
    tenant_id = session.info["tenant_id"]
    rows = []
    for item, result in zip(records, results, strict=True):
        subject_type, subject_id = _subject(item)
        rows.append(
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "model_id": model.id,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "score": result["score"],
                "probability": result["probability"],
                "bins": result.get("bins") or {},
                "scored_at": now,
            }
        )
    bulk_insert(session, ScoreRecord, rows)


def _subject(item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    subject = item.get("subject")
    if isinstance(subject, Mapping):
        return subject.get("type"), subject.get("id")
    if item.get("account_id") is not None:
        return "account", item["account_id"]
    return None, None


def _escape(token: str) -> str:
    # RFC 6901: "~" and "/" inside a member name.
    return token.replace("~", "~0").replace("/", "~1")
