"""Locales as CLDR knows them (through Babel): ``es_CO``, ``es-MX``, ``en_US``, ``es``."""

from __future__ import annotations

import functools

from babel import Locale, UnknownLocaleError

from .errors import TemplateProblem

__all__ = ["locale_of", "normalise_locale"]


@functools.lru_cache(maxsize=256)
def _parse(identifier: str) -> Locale | None:
    try:
        return Locale.parse(identifier.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def locale_of(identifier: str, *, pointer: str = "/locale") -> Locale:
    """The Babel locale named ``identifier`` (``_`` or ``-`` separated).

    :raises TemplateProblem: when CLDR has no such locale (a 422 at ``pointer``).
    """
    found = _parse(identifier) if isinstance(identifier, str) and identifier else None
    if found is None:
        raise TemplateProblem.at(
            pointer, f"unknown locale {identifier!r}; use a CLDR locale such as es_CO or en_US"
        )
    return found


def normalise_locale(identifier: str, *, pointer: str = "/locale") -> str:
    """``identifier`` as Babel writes it (``es-co`` → ``es_CO``); 422 when unknown."""
    return str(locale_of(identifier, pointer=pointer))
