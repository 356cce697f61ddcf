"""One message understood: its intent with a confidence, its language and its entities."""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass

from .cache import trained
from .classifier import IntentClassifier
from .dates import warm_up
from .entities import Entities, extract_entities
from .language import LANGUAGES, detect_language
from .normalise import MAX_CHARS
from .training import shipped_examples

__all__ = ["OUT_OF_SCOPE", "Understanding", "default_classifier", "understand"]

OUT_OF_SCOPE = "out_of_scope"
#: How many runner-up intents an understanding carries.
ALTERNATIVES = 3

_MEANINGFUL = re.compile(r"[^\W_]", re.UNICODE)


@dataclass(frozen=True)
class Understanding:
    """The classifier's and the extractors' reading of one message."""

    #: one of INTENTS (or a plugin's); ``out_of_scope`` when nothing fits.
    intent: str
    #: 0..1, the classifier's probability: below the dialogue's threshold it asks again.
    confidence: float
    #: ``"es"`` or ``"en"``.
    language: str
    entities: Entities
    #: the next best intents with their probabilities, best first.
    alternatives: tuple[tuple[str, float], ...]


@functools.cache
def default_classifier() -> IntentClassifier:
    """The classifier trained on the shipped examples: once per process, from the disk cache
    when an earlier process trained the same examples (:mod:`.cache`), else seconds."""
    classifier = trained(shipped_examples())
    warm_up()
    return classifier


def understand(
    text: str,
    *,
    classifier: IntentClassifier,
    today: datetime.date,
    language: str | None = None,
) -> Understanding:
    """Read one message: intent, confidence, language and entities.

    Text longer than :data:`~.normalise.MAX_CHARS` is cut; a message with no letter or digit
    (empty, punctuation, emoji) is ``out_of_scope`` with confidence 0.
    """
    text = text[: MAX_CHARS * 2]
    if language not in LANGUAGES:
        language = detect_language(text)
    entities = extract_entities(text, language=language, today=today)
    if not _MEANINGFUL.search(text):
        return Understanding(OUT_OF_SCOPE, 0.0, language, entities, ())
    ranked = classifier.predict(text)
    intent, confidence = ranked[0]
    return Understanding(
        intent=intent,
        confidence=round(confidence, 4),
        language=language,
        entities=entities,
        alternatives=tuple((name, round(p, 4)) for name, p in ranked[1 : 1 + ALTERNATIVES]),
    )
