"""SMS encoding and segments against worked examples from GSM 03.38 / 3GPP TS 23.038."""

from __future__ import annotations

import pytest

from almacen.modules.notifications.templates import sms_encoding
from almacen.modules.notifications.templates.sms import GSM7_BASIC, GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),  # 2 × 153
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # each € is escape + character
        ("€" + "a" * 159, "GSM-7", 161, 2),
        ("{" + "a" * 158, "GSM-7", 160, 1),
        ("ñ" * 160, "GSM-7", 160, 1),  # ñ, Ñ, ü, é, à are in the default alphabet
        ("Ñandú", "UCS-2", 5, 1),  # ú is not
        ("á" + "a" * 69, "UCS-2", 70, 1),  # á is not in GSM 03.38: UCS-2 for all
        ("á" + "a" * 70, "UCS-2", 71, 2),
        ("á" * 134, "UCS-2", 134, 2),  # 2 × 67
        ("á" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # a surrogate pair is two units
        ("😀" * 36, "UCS-2", 72, 2),
    ],
)
def test_worked_examples(text: str, encoding: str, units: int, segments: int) -> None:
    found = sms_encoding(text)
    assert (found.encoding, found.units, found.segments) == (encoding, units, segments)


def test_an_escape_pair_is_never_split_across_segments() -> None:
    # 152 septets, then "€" (2): it does not fit the first 153-septet part whole.
    text = "a" * 152 + "€" + "a" * 10
    assert sms_encoding(text).units == 164
    assert sms_encoding(text).segments == 2
    # 305 septets + "€": 153 + 152 would split the pair; it opens a third segment.
    assert sms_encoding("a" * 305 + "€").segments == 3


def test_a_surrogate_pair_is_never_split_across_segments() -> None:
    assert sms_encoding("á" * 66 + "😀" + "á" * 10).segments == 2  # 66 + 2 + 10 = 78 units
    assert sms_encoding("á" * 133 + "😀").segments == 3  # 67 + (66 | 2) …


def test_the_tables_have_their_published_sizes() -> None:
    assert len(GSM7_BASIC) == 127  # 128 code points minus the escape
    assert len(GSM7_EXTENSION) == 10
    assert "ñ" in GSM7_BASIC and "á" not in GSM7_BASIC and "ç" not in GSM7_BASIC
    assert "Ç" in GSM7_BASIC and "€" in GSM7_EXTENSION
