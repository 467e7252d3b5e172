"""Reading the dates people actually write, and keeping UTC inside.

`read_when` (and `parse_when`, which gives just the time) accepts what analysts paste:
`Tuesday 13th December 2016`, `14 December, 2016`, ISO 8601 with or without a zone, Twitter's
`Fri Jan 09 12:29:56 +0000 2015`, and what they type live: `now`, `today`, `yesterday`,
`yesterday 21:00`, `today 14:00`, `2 hours ago`, `3 days ago`, `Monday`, `last Monday 09:30`.

The rules, each refused with a message that says what to write instead, never guessed:

- A time without a zone is taken in the entry's zone (`zone=`, e.g. the dashboard's picker) or the
  configured one (`TRACKER_TIMEZONE`, an IANA name, default UTC). A time that does not exist there
  (skipped when clocks go forward) or that happens twice (when they go back) is refused, naming
  both readings; add the offset to say which.
- Offsets mean what ISO 8601 means: `GMT+2`, `UTC+2`, `+2`, `+02`, `+02:00`, `+0200` are all two
  hours ahead of UTC (dateutil's POSIX reading of `GMT+2`, two hours behind, is not used).
- Zone abbreviations come from one table (`ZONE_ABBREVIATIONS`: EET, EEST, CET, CEST, MSK, GMT,
  BST, EST, PST, TRT, ...), each a fixed offset. IST, CST and AST mean different zones in different
  places (`AMBIGUOUS_ABBREVIATIONS`); they are read only when `TRACKER_ZONE_ABBREVIATIONS` says
  which (`IST=India,CST=US`), which can also add an abbreviation with its offset (`NPT=+05:45`).
- Numeric dates follow `TRACKER_DATE_ORDER`: `DMY` (the default) or `MDY`. A numeric date that is
  impossible in that order (`12/13/2016` under DMY) is refused, not swapped. Dates that start
  with the year (`2016-04-03`, `2016/4/3`) are always year-month-day. The year is written in full:
  `1 2 3` or `13/12/16` are refused.
- A date missing its day, month or year, a weekday that contradicts the date, or text that is not
  a date at all is an error.
- Live words are read against the clock (`now=`) in the entry's zone: `today`, `yesterday` and
  `N days ago` are that day; a weekday name is the most recent such day, today included (on a
  Monday, `Monday` is today and `last Monday` too; a time later than now is then refused by the
  ledger as in the future); `N minutes ago` and `N hours ago` are exact times.

A date without a time is a date, not a midnight: `read_when` says so (`When.date_only`), the ledger
keeps the flag beside the time, and it is shown and exported as `2016-12-13`. Its time is 00:00 UTC
of that day whatever the zone, so a date names the same day everywhere. The rule for ordering it
(status timelines, scoring's "reported before the verdict", first reports) follows from that: a
date-only value stands at the start of its day, before every timed value on the same day; a report
and a verdict both dated the same day count the report as made before the verdict.

Inside the tracker every time is an aware datetime in UTC.
"""

from __future__ import annotations

import os
import re
import warnings
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser
from dateutil.parser import UnknownTimezoneWarning

if TYPE_CHECKING:
    import pandas as pd

TIMEZONE_ENV = "TRACKER_TIMEZONE"
DATE_ORDER_ENV = "TRACKER_DATE_ORDER"
ABBREVIATIONS_ENV = "TRACKER_ZONE_ABBREVIATIONS"

# what a zone abbreviation means, as hours ahead of UTC; each abbreviation names a fixed offset
# (EET is winter time, EEST summer time), so reading one never depends on the date
ZONE_ABBREVIATIONS: dict[str, float] = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "MET": 1,
    "MEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "TRT": 3, "EAT": 3, "WAT": 1, "CAT": 2, "SAST": 2,
    "IRST": 3.5, "GST": 4, "PKT": 5, "NPT": 5.75, "HKT": 8, "SGT": 8, "AWST": 8, "JST": 9, "KST": 9,
    "ACST": 9.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "ADT": -3, "NST": -3.5, "EST": -5,
    "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
}
# abbreviations that mean different zones in different places: read only when the setting says which
AMBIGUOUS_ABBREVIATIONS: dict[str, dict[str, float]] = {
    "IST": {"India": 5.5, "Israel": 2, "Ireland": 1},
    "CST": {"US": -6, "China": 8, "Cuba": -5},
    "AST": {"Atlantic": -4, "Arabia": 3},
}

_ISO = re.compile(r"^\d{4}-\d{2}(-\d{2})?([T ].*)?$")
# a numeric date that starts with the year (`2016/04/03`, `2016-4-3`) is year-month-day in every
# convention; only day and month written before the year can be swapped
_YEAR_FIRST = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)")
_NUMERIC = re.compile(r"^(\d{1,2})(?:[-/.]|\s)(\d{1,2})(?:[-/.]|\s)(\d+)(?!\S)")
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"),
         ("thursday", "thu", "thur", "thurs"), ("friday", "fri"), ("saturday", "sat"),
         ("sunday", "sun")]
    )
    for name in names
}
_WEEKDAY_NAMES = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_WEEKDAY_WORD = re.compile(r"\b(" + _WEEKDAY_NAMES + r")\b", re.IGNORECASE)
_CLOCK = r"(?P<hour>\d{1,2})(?:(?::|\.)(?P<minute>\d{2}))?\s*(?P<half>am|pm)?"
_DAY_WORD = re.compile(
    r"^(?P<day>now|just now|today|yesterday|(?:last\s+)?(?:" + _WEEKDAY_NAMES + r"))"
    r"(?:,?\s+(?:at\s+)?" + _CLOCK + r")?$", re.IGNORECASE)
_AGO = re.compile(r"^(?P<count>\d{1,6}|an?|one)\s+(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago$",
                  re.IGNORECASE)
# `GMT+2`, `UTC-05:30`: ISO's sign (ahead of UTC), whatever dateutil's POSIX reading would say
_NAMED_OFFSET = re.compile(r"(?<![A-Za-z])(?:GMT|UTC|UT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?!\d)", re.IGNORECASE)
_ABBREVIATION = re.compile(r"(?<![\w+-])([A-Z]{1,5})(?![\w])")
# an ISO time that carries its own offset (`...T18:00Z`, `...18:00+02`, `...18:00:00.5-0530`)
ISO_OFFSET = r"[T ]\d{1,2}(?::?\d{2}){0,2}(?:[.,]\d+)?\s*(?:Z|[+-]\d{2}(?::?\d{2}){0,2}(?:\.\d+)?)$"
# two defaults that differ in every date field and in the hour: a field that the text leaves out
# shows up as a difference between the two parses
_DEFAULTS = (datetime(2001, 1, 1, 1), datetime(2002, 2, 2, 2))
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
_EXAMPLES = "'13 December 2016', '2016-12-13T18:00+02:00' or 'yesterday 21:00'"


class DateError(ValueError):
    """A date that cannot be read, with what was wrong and how to write it instead."""


class When(NamedTuple):
    """A time read from text: aware UTC, and whether the text gave only a date (then 00:00 UTC)."""

    at: datetime
    date_only: bool = False


class Typed(NamedTuple):
    """A time as typed in a form, with the zone its entry picked: read later, against the ledger's clock."""

    text: str
    zone: str | None = None


def zone_named(name: str | tzinfo | None) -> tzinfo:
    """The zone called `name` (an IANA name, `UTC`, or a tzinfo); None: the configured zone."""
    if name is None:
        return default_zone()
    if isinstance(name, tzinfo):
        return name
    cleaned = name.strip()
    if not cleaned or cleaned.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DateError(f"{cleaned!r} is not a known time zone; use an IANA name such as 'Europe/London' or 'UTC'") from exc


def default_zone() -> tzinfo:
    """The zone naive times are taken in: `TRACKER_TIMEZONE` or UTC."""
    name = os.environ.get(TIMEZONE_ENV, "").strip()
    try:
        return zone_named(name or "UTC")
    except DateError as exc:
        raise DateError(
            f"{TIMEZONE_ENV}={name!r} is not a known time zone; use an IANA name such as "
            "'Europe/London' or 'UTC'"
        ) from exc


def zone_label(zone: tzinfo | None = None) -> str:
    """The name a person knows a zone by (`Europe/Berlin`, `UTC`); None: the configured zone."""
    zone = zone_named(zone)
    return getattr(zone, "key", None) or ("UTC" if zone.utcoffset(None) in (None, timedelta(0)) else str(zone))


def day_first() -> bool:
    """Whether ambiguous numeric dates are read day-first (`TRACKER_DATE_ORDER`, default DMY)."""
    order = os.environ.get(DATE_ORDER_ENV, "DMY").strip().upper()
    if order not in ("DMY", "MDY"):
        raise DateError(f"{DATE_ORDER_ENV}={order!r} is not understood; use DMY or MDY")
    return order == "DMY"


def abbreviations() -> dict[str, float]:
    """Zone abbreviations and their offsets in hours: the table, with `TRACKER_ZONE_ABBREVIATIONS` applied."""
    table = dict(ZONE_ABBREVIATIONS)
    setting = os.environ.get(ABBREVIATIONS_ENV, "")
    for item in filter(None, (part.strip() for part in setting.split(","))):
        name, _, meaning = (p.strip() for p in item.partition("="))
        name = name.upper()
        places = {k.casefold(): v for k, v in AMBIGUOUS_ABBREVIATIONS.get(name, {}).items()}
        offset = re.fullmatch(r"([+-])(\d{1,2})(?::?(\d{2}))?", meaning)
        if meaning.casefold() in places:
            table[name] = places[meaning.casefold()]
        elif offset and re.fullmatch(r"[A-Z]{2,5}", name):
            sign, hours, minutes = offset.groups()
            table[name] = (1 if sign == "+" else -1) * (int(hours) + int(minutes or 0) / 60)
        else:
            choices = ", ".join(f"{a}={p}" for a, ps in AMBIGUOUS_ABBREVIATIONS.items() for p in ps)
            raise DateError(
                f"{ABBREVIATIONS_ENV} has {item!r}, which is not understood; write ABBREVIATION=PLACE "
                f"({choices}) or ABBREVIATION=OFFSET (e.g. NPT=+05:45), separated by commas"
            )
    return table


def _offset_text(hours: float, colon: str = "") -> str:
    sign = "-" if hours < 0 else "+"
    minutes = round(abs(hours) * 60)
    return f"{sign}{minutes // 60:02d}{colon}{minutes % 60:02d}"


def _offset_label(offset: timedelta | None) -> str:
    minutes = round((offset or timedelta(0)).total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def to_utc(moment: datetime, zone: tzinfo | None = None) -> datetime:
    """`moment` in UTC; a naive `moment` is taken to be in `zone` (default: the configured one)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or default_zone())
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise DateError(
            f"{moment.isoformat()} lies outside the years 1 to 9999 once in UTC; check the year and its offset"
        ) from exc


def _localize(naive: datetime, zone: tzinfo, text: str) -> datetime:
    """A naive wall-clock time in `zone`, in UTC; refused when the zone skipped it or saw it twice."""
    early, late = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        name = zone_label(zone)
        readings = sorted({to_utc(early), to_utc(late)})
        offsets = [_offset_label(early.utcoffset()), _offset_label(late.utcoffset())]
        wall = f"{naive:%Y-%m-%d %H:%M}"
        if to_utc(early).astimezone(zone).replace(tzinfo=None) != naive:
            raise DateError(
                f"{text!r} did not exist in {name}: the clocks went forward over it (from {offsets[0]} to "
                f"{offsets[1]}); check the time, or give it with its offset, e.g. '{wall}{offsets[1][3:]}'"
            )
        raise DateError(
            f"{text!r} happened twice in {name} when the clocks went back: at {offsets[0]} "
            f"({format_when(readings[0])}) and at {offsets[1]} ({format_when(readings[1])}); "
            f"write which with its offset, e.g. '{wall}{offsets[0][3:]}' or '{wall}{offsets[1][3:]}'"
        )
    return to_utc(early)


def _check_range(moment: datetime, text: str) -> datetime:
    """An aware `moment` in UTC, refused when its offset or its year cannot be."""
    try:
        return moment.astimezone(UTC)
    except ValueError as exc:  # dateutil keeps offsets of a day or more, which datetime cannot use
        raise DateError(f"{text!r} has an offset no zone has; offsets run from -12:00 to +14:00") from exc
    except OverflowError as exc:
        raise DateError(
            f"{text!r} lies outside the years 1 to 9999 once in UTC; check the year and its offset"
        ) from exc


def read_when(text: str | datetime | date | When | Typed, *, zone: tzinfo | str | None = None,
              dayfirst: bool | None = None, now: datetime | None = None) -> When:
    """Read a date or time as people write it: its UTC time and whether it was only a date (module doc)."""
    if isinstance(text, When):
        return text
    if isinstance(text, Typed):
        return read_when(text.text, zone=text.zone, dayfirst=dayfirst, now=now)
    entry_zone = zone_named(zone)
    if isinstance(text, datetime):
        if text.tzinfo is None:
            return When(_localize(text, entry_zone, text.isoformat(sep=" ")))
        return When(_check_range(text, text.isoformat()))
    if isinstance(text, date):
        return When(datetime(text.year, text.month, text.day, tzinfo=UTC), True)
    if not isinstance(text, str) or not text.strip():
        raise DateError(f"the date is empty; write it like {_EXAMPLES}")
    if not text.isascii() and any(c.isdigit() and not c.isascii() for c in text):
        raise DateError(f"{text!r} has digits other than 0-9; write the date with 0-9, like {_EXAMPLES}")
    if len(text) >= 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        try:  # full ISO 8601 dates are most of what files hold: the C parser reads them fast
            if len(text) == 10:
                day = date.fromisoformat(text)
                return When(datetime(day.year, day.month, day.day, tzinfo=UTC), True)
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                return When(_localize(parsed, entry_zone, text))
            return When(_check_range(parsed, text))
        except DateError:
            raise
        except ValueError:
            pass
    cleaned = " ".join(text.split())
    try:
        live = _read_live(text, cleaned, entry_zone, now)
        if live is not None:
            return live
        if _ISO.match(cleaned):
            if len(cleaned) == 7:  # YYYY-MM: no day
                raise DateError(f"{text!r} has no day; write the full date, e.g. '{cleaned}-01'")
            try:  # the C parser handles the common forms fast; dateutil covers the rest of ISO 8601
                parsed, date_only = datetime.fromisoformat(cleaned), len(cleaned) == 10
            except ValueError:
                try:
                    parsed, date_only = dateutil_parser.isoparse(cleaned.replace(" ", "T", 1)), len(cleaned) == 10
                except ValueError:  # nearly ISO (`2016-12-13T18:00 +3`): read as written
                    parsed, date_only = _read_written(text, cleaned, dayfirst)
        else:
            parsed, date_only = _read_written(text, cleaned, dayfirst)
    except DateError:
        raise
    except (ValueError, OverflowError, TypeError) as exc:
        raise DateError(f"{text!r} is not a date this tracker can read; write it like {_EXAMPLES}") from exc
    if date_only:
        return When(datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC), True)
    if parsed.tzinfo is None:
        return When(_localize(parsed, entry_zone, text))
    return When(_check_range(parsed, text))


def parse_when(text: str | datetime | date | When | Typed, *, zone: tzinfo | str | None = None,
               dayfirst: bool | None = None, now: datetime | None = None) -> datetime:
    """Parse a date or time as people write it and return it in UTC (see module doc)."""
    return read_when(text, zone=zone, dayfirst=dayfirst, now=now).at


def _read_written(text: str, cleaned: str, dayfirst: bool | None) -> tuple[datetime, bool]:
    """A written date (not ISO, not a live word) through dateutil, with the module's checks."""
    spelled = _spell_zones(text, cleaned)
    first = day_first() if dayfirst is None else dayfirst
    if _YEAR_FIRST.match(spelled):
        first = False
    else:
        _check_numeric(text, spelled, first)
    with warnings.catch_warnings():
        # a zone abbreviation dateutil does not know must not be dropped silently
        warnings.simplefilter("error", UnknownTimezoneWarning)
        try:
            parses = [dateutil_parser.parse(spelled, dayfirst=first, default=default) for default in _DEFAULTS]
        except UnknownTimezoneWarning as exc:
            raise DateError(
                f"{text!r} names a time zone this tracker cannot read; give the offset instead, e.g. "
                f"'13 December 2016 18:00 -0500', use an abbreviation from the README's table, or leave "
                f"it out to use the entry's zone"
            ) from exc
    parsed = parses[0]
    _check_complete(text, parses)
    _check_full_year(text, spelled, parsed)
    _check_weekday(text, cleaned, parsed)
    return parsed, parses[0].hour != parses[1].hour


def _spell_zones(text: str, cleaned: str) -> str:
    """`cleaned` with `GMT+2` and zone abbreviations written as ISO offsets (`+0200`)."""
    def named(match: re.Match) -> str:
        sign, hours, minutes = match.groups()
        if int(hours) > 14 or int(minutes or 0) > 59:
            raise DateError(f"{text!r} has the offset {match.group(0)!r}, which no zone has; offsets run "
                            "from -12:00 to +14:00")
        return f" {sign}{int(hours):02d}{minutes or '00'}"

    spelled = _NAMED_OFFSET.sub(named, cleaned)
    table = None

    def abbreviation(match: re.Match) -> str:
        nonlocal table
        name = match.group(1)
        if name not in ZONE_ABBREVIATIONS and name not in AMBIGUOUS_ABBREVIATIONS and not os.environ.get(ABBREVIATIONS_ENV):
            return name
        table = abbreviations() if table is None else table
        if name in table:
            return _offset_text(table[name])
        if name in AMBIGUOUS_ABBREVIATIONS:
            places = AMBIGUOUS_ABBREVIATIONS[name]
            meanings = ", ".join(f"{place} ({_offset_text(hours, ':')})" for place, hours in places.items())
            raise DateError(
                f"{text!r} names {name}, which means {meanings}; write the offset instead "
                f"(e.g. '{_offset_text(next(iter(places.values())), ':')}'), or set {ABBREVIATIONS_ENV}="
                f"{name}={next(iter(places))} (or {', '.join(list(places)[1:])})"
            )
        return name

    return _ABBREVIATION.sub(abbreviation, spelled)


def _check_numeric(text: str, cleaned: str, day_first_order: bool) -> None:
    """Refuse a numeric date impossible in the configured order, or with a short year."""
    match = _NUMERIC.match(cleaned)
    if not match:
        return
    a, b, year = match.groups()
    if len(year) != 4:
        raise DateError(
            f"{text!r} does not give the year in full, so its numbers could be read several ways; "
            "write the year with four digits, e.g. '13/12/2016', or the month as a word: '13 December 2016'"
        )
    day, month = (int(a), int(b)) if day_first_order else (int(b), int(a))
    if 1 <= month <= 12 and 1 <= day <= 31:
        return
    order = "DMY" if day_first_order else "MDY"
    other = "MDY" if day_first_order else "DMY"
    swapped_ok = 1 <= day <= 12 and 1 <= month <= 31
    hint = (f", or set {DATE_ORDER_ENV}={other} if this source writes "
            f"{'month' if day_first_order else 'day'} first") if swapped_ok else ""
    raise DateError(
        f"{text!r} cannot be a date in {'day/month/year' if day_first_order else 'month/day/year'} order "
        f"({DATE_ORDER_ENV}={order}): there is no month {month}; write the month as a word "
        f"('13 December 2016') or year first ('2016-12-13'){hint}"
    )


def _check_full_year(text: str, cleaned: str, parsed: datetime) -> None:
    if not re.search(rf"(?<!\d){parsed.year:04d}(?!\d)", cleaned):
        raise DateError(
            f"{text!r} does not give the year in full, so it could be read several ways; write the "
            "year with four digits and the month as a word, e.g. '1 February 2003' or '2003-02-01'"
        )


def _check_complete(text: str, parses: list[datetime]) -> None:
    a, b = parses
    missing = [name for name, x, y in (("year", a.year, b.year), ("month", a.month, b.month),
                                       ("day", a.day, b.day)) if x != y]
    if missing:
        raise DateError(f"{text!r} has no {' or '.join(missing)}; write a full date such as '13 December 2016'")


def _check_weekday(text: str, cleaned: str, parsed: datetime) -> None:
    match = _WEEKDAY_WORD.search(cleaned)
    if match and _WEEKDAYS[match.group(1).lower()] != parsed.weekday():
        raise DateError(
            f"{text!r} names a {match.group(1)}, but {parsed:%d %B %Y} was a {parsed:%A}; "
            "check the day or the date"
        )


def _read_live(text: str, cleaned: str, zone: tzinfo, now: datetime | None) -> When | None:
    """`now`, `yesterday 21:00`, `Monday`, `2 hours ago` against the clock in `zone`; None otherwise."""
    ago = _AGO.match(cleaned)
    words = _DAY_WORD.match(cleaned) if not ago else None
    if not ago and not words:
        return None
    if words and words["hour"] is not None and words["minute"] is None and words["half"] is None:
        return None  # `Monday 13` is not a time of day: leave it to the written-date reader
    clock = to_utc(now) if now is not None else utcnow()
    if ago:
        count = 1 if ago["count"].lower() in ("a", "an", "one") else int(ago["count"])
        unit = ago["unit"].lower()
        if unit.startswith("m") or unit.startswith("h"):
            delta = timedelta(minutes=count) if unit.startswith("m") else timedelta(hours=count)
            return When(_check_range(clock - delta, text))
        days = count * (7 if unit.startswith("w") else 1)
        return _day(clock.astimezone(zone).date(), days, text)
    word = words["day"].lower()
    if word in ("now", "just now"):
        if words["hour"] is not None:
            raise DateError(f"{text!r} gives a time after 'now'; write 'now' alone or 'today {words['hour']}:00'")
        return When(clock)
    today = clock.astimezone(zone).date()
    if word == "today":
        back = 0
    elif word == "yesterday":
        back = 1
    else:
        back = (today.weekday() - _WEEKDAYS[word.split()[-1]]) % 7
    if words["hour"] is None:
        return _day(today, back, text)
    hour, minute = int(words["hour"]), int(words["minute"] or 0)
    if words["half"]:
        if not 1 <= hour <= 12:
            raise DateError(f"{text!r} has the hour {hour} with {words['half']}; write 1 to 12 with am/pm, or 0 to 23")
        hour = hour % 12 + (12 if words["half"].lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        raise DateError(f"{text!r} has no such time of day; write it as 0:00 to 23:59, e.g. 'yesterday 21:00'")
    try:
        day = today - timedelta(days=back)
    except OverflowError as exc:
        raise DateError(f"{text!r} lies before the year 1; write a date") from exc
    return When(_localize(datetime(day.year, day.month, day.day, hour, minute), zone, text))


def _day(today: date, back: int, text: str) -> When:
    try:
        day = today - timedelta(days=back)
    except OverflowError as exc:
        raise DateError(f"{text!r} lies before the year 1; write a date") from exc
    return When(datetime(day.year, day.month, day.day, tzinfo=UTC), True)


def format_when(moment: datetime | None, date_only: bool = False) -> str:
    """A time as ISO 8601 in UTC with a `Z` (seconds kept only when set), a date as `YYYY-MM-DD`, or ""."""
    if moment is None:
        return ""
    if date_only:
        return (to_utc(moment) if moment.tzinfo else moment).date().isoformat()
    moment = to_utc(moment).replace(microsecond=0, tzinfo=None)
    return moment.isoformat(timespec="seconds" if moment.second else "minutes") + "Z"


def as_written(moment: datetime | None, date_only: bool = False) -> datetime | date | None:
    """A time as a record of it keeps it (the audit trail): the date alone when only a date was given."""
    if moment is None or not date_only:
        return moment
    return (to_utc(moment) if moment.tzinfo else moment).date()


def end_of_day(moment: datetime, date_only: bool = False) -> datetime:
    """When a deadline passes: a time at that time, a date at the end of its day (the next day's 00:00 UTC)."""
    return moment + timedelta(days=1) if date_only else moment


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def parse_many(values: pd.Series, *, zone: tzinfo | str | None = None, now: datetime | None = None
               ) -> tuple[pd.Series, pd.Series, dict[int, str]]:
    """Read a column of dates at once: (UTC times, NaT where empty or bad; date-only flags; {position: message}).

    Full ISO 8601 dates, what most files hold, are read by pandas in one vectorised call; anything
    else, and anything pandas cannot place in the years 1 to 9999, goes through `read_when`, once
    per distinct text, with its rules and error messages. Both give the same reading. A column with
    few distinct texts (mostly empty, or the same few dates) is read once per distinct text.
    """
    import numpy as np
    import pandas as pd  # only the bulk readers need it: the command line starts without it

    if isinstance(values.dtype, pd.StringDtype) and not values.hasnans:
        texts = values.str.strip()  # text already: no round trip through Python objects
    else:
        texts = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    codes, distinct = pd.factorize(texts)
    if len(distinct) * 2 > len(texts):
        return _parse_texts(texts, zone, now)
    # each distinct text read once, then spread to its rows (an import's expected_by and outcome_at
    # columns are mostly empty, and measured: 0.03-0.13 s a column per 100,000 rows otherwise)
    times, date_only, problems = _parse_texts(pd.Series(distinct, dtype=texts.dtype), zone, now)
    spread = {}
    if problems:
        wrong = np.flatnonzero(np.isin(codes, list(problems)))
        spread = dict(zip(wrong.tolist(), (problems[code] for code in codes[wrong].tolist())))
    return (pd.Series(times.array.take(codes), index=texts.index),
            pd.Series(date_only.to_numpy()[codes], index=texts.index, dtype=bool), spread)


# what pandas' ISO 8601 reader may take: `YYYY-MM-DD...` in ASCII only (pandas reads other scripts'
# digits, `２０１６-12-13`, where read_when refuses them: those go to read_when)
_ISO_CANDIDATE = r"[\x00-\x7f]{4}-[\x00-\x7f]{2}-[\x00-\x7f]{2,}"


def _parse_texts(texts: pd.Series, zone: tzinfo | str | None, now: datetime | None
                 ) -> tuple[pd.Series, pd.Series, dict[int, str]]:
    """`parse_many` of trimmed texts, row by row."""
    import pandas as pd

    out = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[us, UTC]")
    date_only = pd.Series(False, index=texts.index, dtype=bool)
    present = texts != ""
    if not present.any():
        return out, date_only, {}
    iso = texts.str.fullmatch(_ISO_CANDIDATE)
    zone = zone_named(zone)
    days = iso & (texts.str.len() == 10)
    timed = iso & ~days
    if zone is UTC:  # naive times are UTC too: one call for all
        groups = ((days, "day"), (timed, "aware"))
    else:
        aware = timed & texts.str.contains(ISO_OFFSET, regex=True)
        groups = ((days, "day"), (aware, "aware"), (timed & ~aware, "naive"))
    for mask, how in groups:
        if not mask.any():
            continue
        try:  # the fast path is only a shortcut: whatever it cannot read goes to read_when below
            if how == "day":
                read = pd.to_datetime(texts[mask], format="%Y-%m-%d", utc=True, errors="coerce")
            elif how == "aware" or zone is UTC:
                read = pd.to_datetime(texts[mask], format="ISO8601", utc=True, errors="coerce")
            else:  # ambiguous and skipped wall times go to read_when, which says why
                local = pd.to_datetime(texts[mask], format="ISO8601", errors="coerce")
                read = local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
        except (ValueError, TypeError, OverflowError, AttributeError):
            continue
        out[mask] = read.where((read >= pd.Timestamp(_EARLIEST)) & (read <= pd.Timestamp(_LATEST)))
        date_only[mask] = how == "day"
    problems: dict[int, str] = {}
    rest = present & out.isna()
    date_only &= ~rest
    if rest.any():
        read_as: dict[str, object] = {}
        for text in pd.unique(texts[rest]):
            try:
                read_as[text] = read_when(text, zone=zone, now=now)
            except DateError as exc:
                read_as[text] = exc
        for position in (rest.to_numpy()).nonzero()[0]:
            result = read_as[texts.iat[position]]
            if isinstance(result, DateError):
                problems[int(position)] = str(result)
            else:
                out.iat[position] = result.at
                date_only.iat[position] = result.date_only
    return out, date_only, problems
