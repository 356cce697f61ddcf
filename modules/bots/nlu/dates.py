"""Dates in what people type, relative to a given ``today``: "el viernes", "mañana", "fin de
mes", "la quincena", "el 15", "15/12", "next Friday", "December 5th", "in 3 days".

The rules below cover what debtors say most; dateparser (with ``RELATIVE_BASE`` = today and
future dates preferred) reads month names and "in N weeks". Decisions, documented because
people disagree:

* a bare weekday ("el viernes", "Friday", "this Friday", "el próximo viernes") is the next
  one strictly after today;
* "next Friday" is the Friday of next week (Monday to Sunday): said on Wednesday 2026-11-25
  it is 2026-12-04; "el otro viernes" / "el viernes de la otra semana" likewise;
* "fin de mes" / "end of the month" is the month's last day; "quincena" is the next 15th or
  last day of the month, whichever comes first (today counts); "principios de mes", "next
  month" and "the first" are the 1st of next month; "la otra semana" / "next week" is today
  plus seven days;
* numeric dates are day/month in Spanish and month/day in English (swapped when the first
  number cannot be a month); a date without a year is the next one on or after today.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable
from typing import Any

__all__ = ["find_date"]

Found = tuple[datetime.date, tuple[int, int]]

_WEEKDAYS: dict[str, int] = {
    "lunes": 0,
    "martes": 1,
    "miercoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sabado": 5,
    "domingo": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_MONTHS = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre"
    "|diciembre|january|february|march|april|may|june|july|august|september|october|november"
    "|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|ene|abr|ago|dic"
)
_WEEKDAY = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_NUMBERS = {
    "un": 1,
    "una": 1,
    "uno": 1,
    "a": 1,
    "an": 1,
    "one": 1,
    "dos": 2,
    "two": 2,
    "tres": 3,
    "three": 3,
    "cuatro": 4,
    "four": 4,
    "cinco": 5,
    "five": 5,
    "seis": 6,
    "six": 6,
    "siete": 7,
    "seven": 7,
    "ocho": 8,
    "eight": 8,
    "diez": 10,
    "ten": 10,
    "quince": 15,
    "fifteen": 15,
}

# "esta mañana" is this morning, not tomorrow.
_MORNING = re.compile(r"\b(?:esta|en la|por la|de la|la) ma[nñ]ana\b")
_NUMERIC = re.compile(r"(?<![\d.,/])(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}|\d{2}))?(?![\d/])")
_MONTH_NAME = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:de\s+|of\s+)?(?:{_MONTHS})\b\.?"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b)(?:,?\s+(?:de(?:l)?\s+)?\d{{4}})?",
)
_AFTER_TOMORROW = re.compile(r"\b(?:pasado\s+ma[nñ]ana|(?:the\s+)?day\s+after\s+tomorrow)\b")
_TOMORROW = re.compile(r"\b(?:ma[nñ]ana|tomorrow|tmrw|tmr|tomorow|2morrow)\b")
_TODAY = re.compile(r"\b(?:hoy|today|tonight|esta\s+noche|ahorita)\b")
_NEXT_WEEKDAY = re.compile(
    rf"\b(?:next\s+(?P<en>{_WEEKDAY})|el\s+otro\s+(?P<otro>{_WEEKDAY})"
    rf"|(?P<es>{_WEEKDAY})\s+de\s+la\s+(?:otra|proxima)\s+semana)\b",
)
_WEEKDAY_RE = re.compile(rf"\b(?P<day>{_WEEKDAY})\b")
_MONTH_END = re.compile(
    r"\b(?:(?:a\s+)?(?:fin|finales|final|finalizar)\s+de(?:l)?\s+mes"
    r"|(?:the\s+)?end\s+of\s+(?:the\s+)?month|month\s*-?\s*end|ultimo\s+dia\s+del\s+mes"
    r"|last\s+day\s+of\s+the\s+month)(?P<next>\s+(?:que\s+viene|entrante|proximo))?\b",
)
_QUINCENA = re.compile(r"\b(?P<other>(?:otra|proxima|siguiente)\s+)?quincena\b")
_MONTH_START = re.compile(
    r"\b(?:principios?\s+de(?:l)?\s+mes|inicios?\s+de(?:l)?\s+mes|primero\s+de(?:l)?\s+mes"
    r"|el\s+primero|(?:proximo|siguiente)\s+mes|mes\s+que\s+viene|next\s+month"
    r"|(?:the\s+)?(?:beginning|start)\s+of\s+(?:the\s+|next\s+)?month"
    r"|the\s+(?:1st|first)(?:\s+of\s+the\s+month)?)\b",
)
_NEXT_WEEK = re.compile(
    r"\b(?:(?:la\s+)?(?:otra|proxima|siguiente)\s+semana|(?:la\s+)?semana\s+que\s+viene"
    r"|next\s+week)\b",
)
_DAY_OF_MONTH = re.compile(
    r"\b(?:(?:el\s+)?dia\s+(?P<es1>\d{1,2})|el\s+(?P<es2>\d{1,2})(?!\s*(?:mil|k|lucas|%))"
    r"|(?:on\s+)?the\s+(?P<en1>\d{1,2})(?:st|nd|rd|th)?|(?:on\s+)?(?P<en2>\d{1,2})(?:st|nd|rd|th))\b",
)
_IN_DAYS = re.compile(
    rf"\b(?:en|dentro\s+de|in|within)\s+(?P<n>\d{{1,3}}|{'|'.join(_NUMBERS)})"
    r"\s+(?P<unit>dias|dia|days?|semanas?|weeks?)\b",
)


def _last_day(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _first_of_next_month(today: datetime.date) -> datetime.date:
    return _last_day(today.year, today.month) + datetime.timedelta(days=1)


def _day_on_or_after(today: datetime.date, day: int) -> datetime.date | None:
    """The next date whose day of the month is ``day`` (clamped to short months)."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(2):
        candidate = datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))
        if candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _upcoming(today: datetime.date, weekday: int) -> datetime.date:
    return today + datetime.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _numeric(match: re.Match[str], today: datetime.date, language: str) -> datetime.date | None:
    first, second = int(match[1]), int(match[2])
    day, month = (second, first) if language == "en" else (first, second)
    if month > 12 and day <= 12:
        day, month = month, day
    year_text = match[3]
    try:
        if year_text:
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            return datetime.date(year, month, day)
        candidate = datetime.date(today.year, month, day)
        return candidate if candidate >= today else datetime.date(today.year + 1, month, day)
    except ValueError:
        return None


def _dateparser(text: str, today: datetime.date, language: str) -> datetime.date | None:
    import dateparser  # a second to import: only when a month name appears

    settings: Any = {
        "RELATIVE_BASE": datetime.datetime.combine(today, datetime.time()),
        "PREFER_DATES_FROM": "future",
        "REQUIRE_PARTS": ["day", "month"],
    }
    parsed = dateparser.parse(text, languages=[language], settings=settings)
    return parsed.date() if parsed is not None else None


def _rules(
    today: datetime.date, language: str
) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], datetime.date | None]]]:
    def month_end(match: re.Match[str]) -> datetime.date:
        if match["next"]:
            return _last_day(*divmod_month(_first_of_next_month(today)))
        return _last_day(today.year, today.month)

    def divmod_month(day: datetime.date) -> tuple[int, int]:
        return day.year, day.month

    def quincena(match: re.Match[str]) -> datetime.date | None:
        fifteenth = _day_on_or_after(today, 15)
        month_last = _last_day(today.year, today.month)
        first = min(d for d in (fifteenth, month_last) if d is not None)
        if not match["other"]:
            return first
        after = first + datetime.timedelta(days=1)
        return _day_on_or_after(after, 15) if after.day < 15 else _last_day(after.year, after.month)

    def next_weekday(match: re.Match[str]) -> datetime.date:
        name = match["en"] or match["otro"] or match["es"]
        monday = today + datetime.timedelta(days=7 - today.weekday())
        return monday + datetime.timedelta(days=_WEEKDAYS[name])

    def day_of_month(match: re.Match[str]) -> datetime.date | None:
        day = match["es1"] or match["es2"] or match["en1"] or match["en2"]
        return _day_on_or_after(today, int(day))

    def in_days(match: re.Match[str]) -> datetime.date:
        raw = match["n"]
        count = int(raw) if raw.isdigit() else _NUMBERS[raw]
        weeks = match["unit"].startswith(("sem", "week"))
        return today + datetime.timedelta(days=count * (7 if weeks else 1))

    return [
        (_NUMERIC, lambda m: _numeric(m, today, language)),
        (_MONTH_NAME, lambda m: _dateparser(m[0], today, language)),
        (_AFTER_TOMORROW, lambda m: today + datetime.timedelta(days=2)),
        (_TOMORROW, lambda m: today + datetime.timedelta(days=1)),
        (_NEXT_WEEKDAY, next_weekday),
        (_WEEKDAY_RE, lambda m: _upcoming(today, _WEEKDAYS[m["day"]])),
        (_MONTH_END, month_end),
        (_QUINCENA, quincena),
        (_MONTH_START, lambda m: _first_of_next_month(today)),
        (_NEXT_WEEK, lambda m: today + datetime.timedelta(days=7)),
        (_IN_DAYS, in_days),
        (_DAY_OF_MONTH, day_of_month),
        (_TODAY, lambda m: today),
    ]


def find_date(folded: str, *, language: str, today: datetime.date) -> Found | None:
    """The first date the folded text names, with the span it came from; None if none."""
    text = _MORNING.sub(lambda m: " " * len(m[0]), folded)
    for pattern, resolve in _rules(today, language):
        for match in pattern.finditer(text):
            value = resolve(match)
            if value is not None:
                return value, match.span()
    return None


def warm_up() -> None:
    """Load dateparser's language data now (about a second), not during someone's turn."""
    for language in ("es", "en"):
        _dateparser("15 dec", datetime.date(2026, 1, 1), language)
