"""The shipped training set: examples per intent and language, read from ``data/*.yaml``."""

from __future__ import annotations

import functools
from importlib.resources import files
from typing import Any

import yaml

from .language import LANGUAGES

__all__ = ["INTENTS", "shipped_examples"]

#: The intents the shipped set teaches; plugins and tenants may add their own.
INTENTS: tuple[str, ...] = (
    "greet",
    "who_are_you",
    "balance",
    "pay_now",
    "promise",
    "payment_plan",
    "settlement",
    "already_paid",
    "dispute",
    "hardship",
    "wrong_person",
    "talk_to_human",
    "opt_out",
    "thanks_bye",
    "out_of_scope",
    "affirm",
    "deny",
    "identity",
)


@functools.cache
def _load(language: str) -> dict[str, tuple[str, ...]]:
    path = files(__package__).joinpath("data").joinpath(f"intents_{language}.yaml")
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if document.get("language") != language:
        raise ValueError(f"{path}: language is not {language!r}")
    intents: dict[str, list[str]] = document["intents"]
    unknown = set(intents) - set(INTENTS)
    if unknown:
        raise ValueError(f"{path}: unknown intents {sorted(unknown)}")
    return {intent: tuple(str(e) for e in examples) for intent, examples in intents.items()}


def shipped_examples() -> dict[str, dict[str, list[str]]]:
    """intent → language → examples, a fresh copy the caller may extend."""
    out: dict[str, dict[str, list[str]]] = {intent: {} for intent in INTENTS}
    for language in LANGUAGES:
        for intent, examples in _load(language).items():
            out[intent][language] = list(examples)
    return out
