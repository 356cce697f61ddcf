"""The disk cache of trained classifiers: keyed by the examples, never trusted blindly."""

from __future__ import annotations

from pathlib import Path

import pytest

from almacen.modules.bots.nlu import cache
from almacen.modules.bots.nlu.classifier import IntentClassifier

EXAMPLES = {
    "greet": {"es": ["hola", "buenos días", "buenas tardes"], "en": ["hello", "hi there"]},
    "thanks_bye": {"es": ["gracias", "adiós", "chao"], "en": ["thanks", "bye"]},
}


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ALMACEN_BOTS_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_trains_once_then_loads_the_same_classifier(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = cache.trained(EXAMPLES)
    stored = list(cache_dir.glob("classifier-*.npz"))
    assert [p.name for p in stored] == [f"classifier-{cache.training_key(EXAMPLES)}.npz"]

    def refuse(_: object) -> IntentClassifier:
        raise AssertionError("trained again although the cache holds the result")

    monkeypatch.setattr(cache, "train_classifier", refuse)
    second = cache.trained(EXAMPLES)
    assert second.classes == ("greet", "thanks_bye")
    assert second.predict("hola amigo")[0][0] == first.predict("hola amigo")[0][0] == "greet"
    assert second.predict("thanks") == first.predict("thanks")


def test_key_follows_the_examples_not_their_order() -> None:
    reordered = {"thanks_bye": EXAMPLES["thanks_bye"], "greet": EXAMPLES["greet"]}
    assert cache.training_key(reordered) == cache.training_key(EXAMPLES)
    more = {**EXAMPLES, "greet": {**EXAMPLES["greet"], "es": ["hola", "qué tal"]}}
    assert cache.training_key(more) != cache.training_key(EXAMPLES)


def test_a_corrupt_or_foreign_file_is_trained_over(cache_dir: Path) -> None:
    path = cache_dir / f"classifier-{cache.training_key(EXAMPLES)}.npz"
    path.write_bytes(b"\x80\x04 not a classifier, perhaps a pickle")
    classifier = cache.trained(EXAMPLES)
    assert classifier.predict("gracias")[0][0] == "thanks_bye"
    assert IntentClassifier.from_bytes(path.read_bytes()).classes == classifier.classes


def test_off_trains_without_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALMACEN_BOTS_CACHE_DIR", "off")
    assert cache.cache_dir() is None
    assert cache.trained(EXAMPLES).classes == ("greet", "thanks_bye")
    assert not list(tmp_path.iterdir())
