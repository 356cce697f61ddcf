"""A tenant's content: response templates per locale, training examples, retraining."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from almacen.gateway.db import utcnow
from almacen.gateway.errors import NotFoundError, UnprocessableError

from . import classifiers, nlu, tenant_cache
from .content_tables import TemplateOverride, TrainedModel, TrainingExample
from .responses import DEFAULTS, LOCALES, TemplateError, check_template, render
from .service import plugin_intents

__all__ = ["add_example", "list_examples", "put_templates", "retrain", "templates"]


def _locale(locale: str) -> str:
    if locale not in LOCALES:
        raise NotFoundError(f"no locale {locale!r}; the bot speaks {', '.join(LOCALES)}")
    return locale


def templates(session: Session, locale: str) -> dict[str, Any]:
    """Every response key in ``locale``: the text in force and whether the tenant set it."""
    locale = _locale(locale)
    overrides = dict(
        session.execute(
            select(TemplateOverride.key, TemplateOverride.text).where(
                TemplateOverride.locale == locale
            )
        ).all()
    )
    return {
        "locale": locale,
        "templates": {
            key: {"text": overrides.get(key, text), "custom": key in overrides}
            for key, text in DEFAULTS[locale].items()
        },
    }


_SAMPLE = {
    "bot_name": "Almi",
    "company": "Acme",
    "formal": True,
    "disclosure": "…",
    "challenge": "…",
    "left": 2,
    "total": "$1",
    "dpd": 1,
    "amount": "$1",
    "date": "lunes 1 de enero",
    "label": "plan",
    "detail": "…",
    "count": 3,
    "start": "08:00",
    "end": "20:00",
}


def put_templates(session: Session, locale: str, texts: Mapping[str, str | None]) -> None:
    """Set (or, with null, reset to the shipped text) some of the tenant's templates.

    :raises UnprocessableError: an unknown key or a template that does not compile or render
        (each with its pointer); nothing is stored then.
    """
    locale = _locale(locale)
    errors = []
    for key, text in texts.items():
        if key not in DEFAULTS[locale]:
            errors.append({"pointer": f"/templates/{key}", "detail": "unknown response key"})
        elif text is not None:
            try:
                check_template(text)
                render(text, _SAMPLE)
            except TemplateError as exc:
                errors.append({"pointer": f"/templates/{key}", "detail": str(exc)})
    if errors:
        raise UnprocessableError("Some templates cannot be used.", errors=errors)
    for key, text in texts.items():
        session.execute(
            delete(TemplateOverride).where(
                TemplateOverride.locale == locale, TemplateOverride.key == key
            )
        )
        if text is not None:
            session.add(TemplateOverride(locale=locale, key=key, text=text, updated_at=utcnow()))
    session.flush()
    tenant_cache.forget(str(session.info["tenant_id"]), f"templates:{locale}")


def known_intents(session: Session) -> set[str]:
    """Built-in intents and every plugin's."""
    return set(nlu.INTENTS) | {p.name for p in plugin_intents(session)}


def add_example(session: Session, *, intent: str, language: str, text: str) -> TrainingExample:
    """Store a training example for the next retraining.

    :raises UnprocessableError: an unknown intent.
    """
    if intent not in known_intents(session):
        raise UnprocessableError(
            f"no intent {intent!r}",
            errors=[{"pointer": "/intent", "detail": "not a built-in or plugin intent"}],
        )
    example = TrainingExample(intent=intent, language=language, text=text.strip())
    session.add(example)
    session.flush()
    return example


def list_examples(session: Session) -> list[TrainingExample]:
    """The tenant's own examples, oldest first."""
    return list(
        session.scalars(
            select(TrainingExample).order_by(TrainingExample.created_at, TrainingExample.id)
        )
    )


def retrain(session: Session) -> TrainedModel:
    """Train the tenant's classifier on shipped, plugin and its own examples; store it."""
    return classifiers.retrain(session, plugin_intents(session))
