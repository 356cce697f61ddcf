"""Each tenant's intent classifier: shipped, plugin and tenant examples, cached in-process.

Training on the shipped examples and the plugins' is done once per process, or loaded from
the disk cache keyed by the examples' hash (:mod:`.nlu.cache`), and done before the first turn
(:func:`warm`, from the app's start); a tenant that retrained has its own model stored in
``bots_models``, loaded once per version.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import nlu, tenant_cache
from .content_tables import TrainedModel, TrainingExample
from .intents import PluginIntent

__all__ = ["base_classifier", "classifier_for", "merged_examples", "retrain"]

_lock = threading.Lock()
_base: dict[tuple[str, ...], nlu.IntentClassifier] = {}
_tenants: dict[tuple[str, int], nlu.IntentClassifier] = {}


def merged_examples(
    plugins: Iterable[PluginIntent], extra: Iterable[tuple[str, str, str]] = ()
) -> dict[str, dict[str, list[str]]]:
    """Shipped examples, then each plugin's, then ``(intent, language, text)`` extras."""
    merged: dict[str, dict[str, list[str]]] = {
        intent: {lang: list(texts) for lang, texts in by_lang.items()}
        for intent, by_lang in nlu.shipped_examples().items()
    }
    for intent in plugins:
        for lang, texts in intent.examples.items():
            merged.setdefault(intent.name, {}).setdefault(lang, []).extend(texts)
    for name, lang, text in extra:
        merged.setdefault(name, {}).setdefault(lang, []).append(text)
    return merged


def base_classifier(plugins: Sequence[PluginIntent]) -> nlu.IntentClassifier:
    """The classifier of the shipped and these plugins' examples, made once per process."""
    key = tuple(sorted(p.name for p in plugins))
    if not key:
        return nlu.default_classifier()
    with _lock:
        if key not in _base:
            _base[key] = nlu.trained(merged_examples(plugins))
        return _base[key]


def classifier_for(session: Session, plugins: Sequence[PluginIntent]) -> nlu.IntentClassifier:
    """The session's tenant's classifier: its newest retrained model, else the shared one."""
    tenant_id = str(session.info["tenant_id"])
    version = tenant_cache.cached(
        tenant_id, "model", lambda: session.scalar(select(func.max(TrainedModel.version)))
    )
    if version is None:
        return base_classifier(plugins)
    key = (str(session.info["tenant_id"]), int(version))
    cached = _tenants.get(key)
    if cached is None:
        data = session.scalar(select(TrainedModel.data).where(TrainedModel.version == version))
        cached = nlu.IntentClassifier.from_bytes(bytes(data or b""))
        with _lock:
            _tenants[key] = cached
    return cached


def retrain(session: Session, plugins: Sequence[PluginIntent]) -> TrainedModel:
    """Train on shipped ∪ plugin ∪ the tenant's examples and store it as the next version."""
    rows = session.execute(
        select(TrainingExample.intent, TrainingExample.language, TrainingExample.text)
    ).all()
    if rows:
        examples: Mapping[str, Mapping[str, Sequence[str]]] = merged_examples(
            plugins, [(r[0], r[1], r[2]) for r in rows]
        )
        classifier = nlu.train_classifier(examples)
    else:
        # Nothing of the tenant's own: the shared classifier is that training's result.
        classifier = base_classifier(plugins)
    version = (session.scalar(select(func.max(TrainedModel.version))) or 0) + 1
    model = TrainedModel(version=version, examples=len(rows), data=classifier.to_bytes())
    session.add(model)
    session.flush()
    tenant_cache.forget(str(session.info["tenant_id"]), "model")
    return model
