"""How an SMS text travels: GSM-7 or UCS-2, and how many segments it takes.

GSM 03.38 (3GPP TS 23.038) packs 7-bit characters: 160 in a single message, 153 per segment
of a concatenated one (the user data header takes the rest). Characters of the extension
table (``^{}\\[~]|€`` and form feed) are an escape plus a character, so they count two and
are never split across segments. Any character outside both tables forces UCS-2 for the
whole message: 70 UTF-16 code units alone, 67 per segment, a surrogate pair never split.
"""

from __future__ import annotations

import dataclasses

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "SmsEncoding", "sms_encoding"]

#: The GSM 03.38 default alphabet (the escape 0x1B left out: it is no character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The default extension table: each is sent as escape + character (two septets).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_SINGLE = {"GSM-7": 160, "UCS-2": 70}
_PART = {"GSM-7": 153, "UCS-2": 67}


@dataclasses.dataclass(frozen=True)
class SmsEncoding:
    """The encoding an SMS needs, its length in that encoding's units, and its segments."""

    encoding: str
    #: Septets (GSM-7) or UTF-16 code units (UCS-2).
    units: int
    segments: int


def _units(text: str) -> tuple[str, list[int]]:
    """The encoding and the size of each character in its units."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        return "GSM-7", [2 if c in GSM7_EXTENSION else 1 for c in text]
    return "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in text]


def sms_encoding(text: str) -> SmsEncoding:
    """Detect the encoding of ``text`` and count its segments (an empty text is one)."""
    encoding, sizes = _units(text)
    total = sum(sizes)
    if total <= _SINGLE[encoding]:
        return SmsEncoding(encoding, total, 1)
    # Fill segments greedily: a two-unit character that does not fit opens the next one.
    limit, segments, used = _PART[encoding], 1, 0
    for size in sizes:
        if used + size > limit:
            segments, used = segments + 1, 0
        used += size
    return SmsEncoding(encoding, total, segments)
