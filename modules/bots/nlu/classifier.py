"""The intent classifier: sentence embeddings and character n-grams into one logistic regression.

The multilingual embedding carries meaning across wordings ("ya pagué" ~ "I already paid");
character n-grams carry spelling ("pagé", "kiero", "ases0r") and the short answers embeddings
blur ("si", "no", "1234"). A multinomial logistic regression over both gives probabilities a
threshold can use. Very short inputs also get a fuzzy match (rapidfuzz) against the examples,
so a misspelt "grasias" still finds ``thanks_bye``.

A trained classifier serialises to bytes without pickle (numpy arrays and JSON), so a
tenant's retrained model can be stored in a row and loaded back safely.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .embedding import embed
from .normalise import fold, normalise, tokens

if TYPE_CHECKING:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

# scikit-learn, scipy and rapidfuzz are imported where they are used: the bots module is
# loaded by every `almacen` command and worker, and they cost seconds to import.

__all__ = ["FORMAT_VERSION", "IntentClassifier", "train_classifier"]

#: Bumped when the serialised form changes; older bytes are refused, not misread.
FORMAT_VERSION = 1
#: Weight of the embedding block against the (L2-normalised) n-gram blocks.
EMBEDDING_WEIGHT = 1.5
#: Inverse regularisation of the logistic regression.
C = 20.0
#: Fuzzy matching applies to inputs of at most this many words ...
FUZZY_MAX_WORDS = 4
#: ... and only at or above this rapidfuzz ratio (0-100) ...
FUZZY_MIN_SCORE = 80.0
#: ... and only when the model is unsure (its best probability is below this): a fallback.
FUZZY_BELOW = 0.5

_DIGIT = re.compile(r"\d")
_REPEAT = re.compile(r"([a-zñ])\1{2,}")


def _surface(text: str) -> str:
    """The form the n-gram features see: folded, digits as 0, letter runs shortened."""
    return _REPEAT.sub(r"\1", _DIGIT.sub("0", fold(text)))


def _char_vectorizer(vocabulary: Mapping[str, int] | None = None) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, vocabulary=vocabulary
    )


def _word_vectorizer(vocabulary: Mapping[str, int] | None = None) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        sublinear_tf=True,
        token_pattern=r"(?u)\b\w+\b",  # noqa: S106 (a regular expression, not a password)
        vocabulary=vocabulary,
    )


class IntentClassifier:
    """A trained classifier: ``predict(text)`` gives (intent, probability), best first."""

    def __init__(
        self,
        *,
        classes: Sequence[str],
        coef: npt.NDArray[np.float32],
        intercept: npt.NDArray[np.float32],
        char: TfidfVectorizer,
        word: TfidfVectorizer,
        examples: Sequence[tuple[str, str]],
    ) -> None:
        self.classes: tuple[str, ...] = tuple(classes)
        self._coef = coef
        self._intercept = intercept
        self._char = char
        self._word = word
        #: (surface form, intent) of every training example, for the fuzzy fallback.
        self._examples = tuple(examples)
        self._choices = [surface for surface, _ in self._examples]

    # -- prediction ------------------------------------------------------------------------

    def _features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        from scipy import sparse

        surfaces = [_surface(t) for t in texts]
        vectors = embed([normalise(t) for t in texts]) * EMBEDDING_WEIGHT
        return sparse.hstack(
            [
                sparse.csr_matrix(vectors),
                self._char.transform(surfaces),
                self._word.transform(surfaces),
            ],
            format="csr",
        )

    def _probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        scores = np.asarray(self._features(texts) @ self._coef.T, dtype=np.float64)
        scores += self._intercept
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def predict(self, text: str) -> list[tuple[str, float]]:
        """Every intent with its probability, best first (they sum to 1)."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """:meth:`predict` for several texts at once (faster: one embedding batch)."""
        if not texts:
            return []
        out = []
        for text, row in zip(texts, self._probabilities(texts), strict=True):
            probabilities = dict(zip(self.classes, (float(p) for p in row), strict=True))
            self._fuzzy(text, probabilities)
            out.append(sorted(probabilities.items(), key=lambda item: (-item[1], item[0])))
        return out

    def _fuzzy(self, text: str, probabilities: dict[str, float]) -> None:
        """Lift the intent of a near-identical short example, keeping the sum at 1."""
        from rapidfuzz import fuzz, process

        surface = _surface(text)
        if not self._choices or len(tokens(surface)) > FUZZY_MAX_WORDS:
            return
        if max(probabilities.values()) >= FUZZY_BELOW:
            return
        match = process.extractOne(surface, self._choices, scorer=fuzz.ratio)
        if match is None or match[1] < FUZZY_MIN_SCORE:
            return
        intent = self._examples[match[2]][1]
        floor = match[1] / 100.0
        current = probabilities[intent]
        if current >= floor:
            return
        rest = 1.0 - current
        scale = (1.0 - floor) / rest if rest > 0 else 0.0
        for name in probabilities:
            probabilities[name] = floor if name == intent else probabilities[name] * scale

    # -- serialisation ---------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The classifier as bytes (numpy ``.npz``, no pickle): store a tenant's model."""
        meta = {
            "format": FORMAT_VERSION,
            "classes": list(self.classes),
            "char": _terms(self._char),
            "word": _terms(self._word),
            "examples": [list(pair) for pair in self._examples],
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            coef=self._coef,
            intercept=self._intercept,
            char_idf=self._char.idf_,
            word_idf=self._word.idf_,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> IntentClassifier:
        """Load what :meth:`to_bytes` wrote; ``ValueError`` for anything else."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                meta: dict[str, Any] = json.loads(arrays["meta"].tobytes().decode())
                coef = arrays["coef"].astype(np.float32)
                intercept = arrays["intercept"].astype(np.float32)
                char_idf, word_idf = arrays["char_idf"], arrays["word_idf"]
        except Exception as exc:
            raise ValueError(f"not a serialised intent classifier: {exc}") from exc
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"intent classifier format {meta.get('format')!r} is not supported")
        char = _char_vectorizer({term: i for i, term in enumerate(meta["char"])})
        char.idf_ = char_idf
        word = _word_vectorizer({term: i for i, term in enumerate(meta["word"])})
        word.idf_ = word_idf
        return cls(
            classes=meta["classes"],
            coef=coef,
            intercept=intercept,
            char=char,
            word=word,
            examples=[(str(s), str(i)) for s, i in meta["examples"]],
        )


def _terms(vectorizer: TfidfVectorizer) -> list[str]:
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    terms = [""] * len(vocabulary)
    for term, index in vocabulary.items():
        terms[index] = term
    return terms


def train_classifier(
    examples: Mapping[str, Mapping[str, Sequence[str]]],
) -> IntentClassifier:
    """Train on intent → language → examples (shipped, a plugin's and a tenant's together).

    Needs at least two intents with an example each; ``ValueError`` otherwise.
    """
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    texts: list[str] = []
    labels: list[str] = []
    for intent, by_language in examples.items():
        for language_examples in by_language.values():
            for text in language_examples:
                if text.strip():
                    texts.append(text)
                    labels.append(intent)
    if len(set(labels)) < 2:
        raise ValueError("training needs examples of at least two intents")
    surfaces = [_surface(t) for t in texts]
    char = _char_vectorizer()
    word = _word_vectorizer()
    features = sparse.hstack(
        [
            sparse.csr_matrix(embed([normalise(t) for t in texts]) * EMBEDDING_WEIGHT),
            char.fit_transform(surfaces),
            word.fit_transform(surfaces),
        ],
        format="csr",
    )
    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    # One BLAS thread: on a busy machine more threads only fight (14 s against 3 s here).
    with threadpool_limits(limits=1):
        model.fit(features, labels)
    coef = np.asarray(model.coef_, dtype=np.float32)
    intercept = np.asarray(model.intercept_, dtype=np.float32)
    if len(model.classes_) == 2:
        # Binary: one logit for the second class; a zero logit for the first gives the same
        # probabilities through the softmax.
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros_like(intercept), intercept])
    return IntentClassifier(
        classes=[str(c) for c in model.classes_],
        coef=coef,
        intercept=intercept,
        char=char,
        word=word,
        examples=list(zip(surfaces, labels, strict=True)),
    )
