"""Reading the dates people actually write, and keeping UTC inside.

`parse_when` accepts what analysts paste: `Tuesday 13th December 2016`, `14 December, 2016`,
ISO 8601 with or without a zone, Twitter's `Fri Jan 09 12:29:56 +0000 2015`. A time without a
zone is taken in the configured zone (`TRACKER_TIMEZONE`, an IANA name, default UTC). Numeric
dates whose day and month could be swapped (`03/04/2016`) follow `TRACKER_DATE_ORDER`: `DMY`
(the default, as written in most of the world) or `MDY`. ISO dates (`2016-04-03`) are always
year-month-day. A date missing its day, month or year, a weekday that contradicts the date, or
text that is not a date at all is an error, never a silent guess. Inside the tracker every time is
an aware datetime in UTC.
"""

from __future__ import annotations

import os
import re
import warnings
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser
from dateutil.parser import UnknownTimezoneWarning

if TYPE_CHECKING:
    import pandas as pd

TIMEZONE_ENV = "TRACKER_TIMEZONE"
DATE_ORDER_ENV = "TRACKER_DATE_ORDER"

_ISO = re.compile(r"^\d{4}-\d{2}(-\d{2})?([T ].*)?$")
# a numeric date that starts with the year (`2016/04/03`, `2016-4-3`) is year-month-day in every
# convention; only day and month written before the year can be swapped
_YEAR_FIRST = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b")
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"),
         ("thursday", "thu", "thur", "thurs"), ("friday", "fri"), ("saturday", "sat"),
         ("sunday", "sun")]
    )
    for name in names
}
_WEEKDAY_WORD = re.compile(r"\b(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\b", re.IGNORECASE)
# two defaults that differ in every date field: a field that the text leaves out shows up as a
# difference between the two parses
_DEFAULTS = (datetime(2001, 1, 1), datetime(2002, 2, 2))


class DateError(ValueError):
    """A date that cannot be read, with what was wrong and how to write it instead."""


def default_zone() -> tzinfo:
    """The zone naive times are taken in: `TRACKER_TIMEZONE` or UTC."""
    name = os.environ.get(TIMEZONE_ENV, "").strip()
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DateError(
            f"{TIMEZONE_ENV}={name!r} is not a known time zone; use an IANA name such as "
            "'Europe/London' or 'UTC'"
        ) from exc


def day_first() -> bool:
    """Whether ambiguous numeric dates are read day-first (`TRACKER_DATE_ORDER`, default DMY)."""
    order = os.environ.get(DATE_ORDER_ENV, "DMY").strip().upper()
    if order not in ("DMY", "MDY"):
        raise DateError(f"{DATE_ORDER_ENV}={order!r} is not understood; use DMY or MDY")
    return order == "DMY"


def to_utc(moment: datetime, zone: tzinfo | None = None) -> datetime:
    """`moment` in UTC; a naive `moment` is taken to be in `zone` (default: the configured one)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or default_zone())
    return moment.astimezone(UTC)


def parse_when(text: str | datetime, *, zone: tzinfo | None = None, dayfirst: bool | None = None) -> datetime:
    """Parse a date or time as people write it and return it in UTC (see module doc)."""
    if isinstance(text, datetime):
        return to_utc(text, zone)
    if not isinstance(text, str) or not text.strip():
        raise DateError("the date is empty; write it like '13 December 2016' or '2016-12-13 18:00'")
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        try:  # full ISO 8601 dates are most of what files hold: the C parser reads them fast
            return to_utc(datetime.fromisoformat(text), zone)
        except ValueError:
            pass
    cleaned = " ".join(text.split())
    try:
        if _ISO.match(cleaned):
            try:  # the C parser handles the common forms fast; dateutil covers the rest of ISO 8601
                parsed = datetime.fromisoformat(cleaned)
            except ValueError:
                parsed = dateutil_parser.isoparse(cleaned.replace(" ", "T", 1))
            if len(cleaned) == 7:  # YYYY-MM: no day
                raise DateError(f"{text!r} has no day; write the full date, e.g. '{cleaned}-01'")
        else:
            first = day_first() if dayfirst is None else dayfirst
            if _YEAR_FIRST.match(cleaned):
                first = False
            with warnings.catch_warnings():
                # a zone abbreviation dateutil does not know (EST, CET) must not be dropped silently
                warnings.simplefilter("error", UnknownTimezoneWarning)
                try:
                    parses = [
                        dateutil_parser.parse(cleaned, dayfirst=first, default=default) for default in _DEFAULTS
                    ]
                except UnknownTimezoneWarning as exc:
                    raise DateError(
                        f"{text!r} names a time zone this tracker cannot read; give the offset instead, "
                        "e.g. '13 December 2016 18:00 -0500', or leave it out to use TRACKER_TIMEZONE"
                    ) from exc
            parsed = parses[0]
            _check_complete(text, parses)
            _check_weekday(text, cleaned, parsed)
    except DateError:
        raise
    except (ValueError, OverflowError) as exc:
        raise DateError(
            f"{text!r} is not a date this tracker can read; write it like '13 December 2016', "
            "'2016-12-13T18:00+02:00' or 'Fri Jan 09 12:29:56 +0000 2015'"
        ) from exc
    return to_utc(parsed, zone)


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


def format_when(moment: datetime | None) -> str:
    """A time as ISO 8601 in UTC with a `Z` (seconds kept only when set), or "" for None."""
    if moment is None:
        return ""
    moment = to_utc(moment).replace(microsecond=0, tzinfo=None)
    return moment.isoformat(timespec="seconds" if moment.second else "minutes") + "Z"


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def parse_many(values: pd.Series, *, zone: tzinfo | None = None) -> tuple[pd.Series, dict[int, str]]:
    """Parse a column of dates at once: (UTC timestamps, NaT where empty; {position: error message}).

    Full ISO 8601 dates, what most files hold, are parsed by pandas in one vectorised call; anything
    else goes through `parse_when`, once per distinct text, with its rules and error messages.
    """
    import pandas as pd  # only the bulk readers need it: the command line starts without it

    texts = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    out = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[us, UTC]")
    present = texts != ""
    iso = present & (texts.str.len() >= 10) & (texts.str[4] == "-") & (texts.str[7] == "-")
    zone = zone or default_zone()
    if iso.any():
        if zone is UTC:
            out[iso] = pd.to_datetime(texts[iso], format="ISO8601", utc=True, errors="coerce")
        else:  # naive ISO times are in the configured zone; the rest carry their own offset
            aware = iso & texts.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
            naive = iso & ~aware
            if aware.any():
                out[aware] = pd.to_datetime(texts[aware], format="ISO8601", utc=True, errors="coerce")
            if naive.any():
                local = pd.to_datetime(texts[naive], format="ISO8601", errors="coerce")
                out[naive] = local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    problems: dict[int, str] = {}
    rest = present & out.isna()
    if rest.any():
        parsed: dict[str, object] = {}
        for text in pd.unique(texts[rest]):
            try:
                parsed[text] = parse_when(text, zone=zone)
            except DateError as exc:
                parsed[text] = exc
        for position in (rest.to_numpy()).nonzero()[0]:
            result = parsed[texts.iat[position]]
            if isinstance(result, DateError):
                problems[int(position)] = str(result)
            else:
                out.iat[position] = result
    return out, problems
