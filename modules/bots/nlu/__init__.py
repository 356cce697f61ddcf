"""Natural-language understanding for the bots module, offline, in Spanish and English.

Intents come from a logistic regression over multilingual sentence embeddings and character
n-grams (:mod:`.classifier`), with a fuzzy fallback for short misspelt answers; entities
(amounts, dates, yes/no, identity digits) from rules, ``text2num`` and ``dateparser``
(:mod:`.entities`). Nothing here touches the network or the database: the dialogue stores a
tenant's retrained classifier as :meth:`IntentClassifier.to_bytes`.
"""

from __future__ import annotations

from .cache import trained
from .classifier import IntentClassifier, train_classifier
from .entities import Entities, extract_entities
from .language import LANGUAGES, detect_language
from .training import INTENTS, shipped_examples
from .understanding import OUT_OF_SCOPE, Understanding, default_classifier, understand

__all__ = [
    "INTENTS",
    "LANGUAGES",
    "OUT_OF_SCOPE",
    "Entities",
    "IntentClassifier",
    "Understanding",
    "default_classifier",
    "detect_language",
    "extract_entities",
    "shipped_examples",
    "train_classifier",
    "trained",
    "understand",
]
