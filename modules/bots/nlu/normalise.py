"""Text normalisation shared by the classifier and the entity extractors.

People type on phones: capitals, accents or none, doubled letters, emoji. Matching works on
one canonical form so "Ya pagué" and "ya pague" meet.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_CHARS", "fold", "normalise", "tokens"]

#: Longer messages are cut before understanding: a turn stays fast whatever arrives.
MAX_CHARS = 500

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-zñ]+|\d+")


def normalise(text: str) -> str:
    """Lower case, Unicode NFC, whitespace collapsed, cut to :data:`MAX_CHARS`."""
    text = unicodedata.normalize("NFC", text[: MAX_CHARS * 2]).lower()
    return _SPACES.sub(" ", text).strip()[:MAX_CHARS]


def fold(text: str) -> str:
    """:func:`normalise`, then accents stripped (ñ kept): the form rules and fuzzy match use."""
    out: list[str] = []
    for char in unicodedata.normalize("NFD", normalise(text)):
        if unicodedata.category(char) == "Mn":
            if char == "\u0303" and out and out[-1] == "n":
                out[-1] = "ñ"
            continue
        out.append(char)
    return "".join(out)


def tokens(folded: str) -> list[str]:
    """The words and digit runs of folded text, punctuation dropped."""
    return _WORD.findall(folded)
