"""Every input rule of the ledger, once, with its one message.

Each rule has a scalar form, for the service layer (`tracker.ledger`: one value, raising a
`ValidationError`), and a column form, for the bulk importer (`tracker.importer`: a pandas column
of cells, giving one message per cell, "" where the cell is fine). Both forms build their message
with the same function, so a bad value is refused with the same words however it arrives; the
parity test (tests/test_rules.py) feeds every bad case through `Ledger` and through an import.

The rules: texts (statements, source names, aliases, relayed names, refs, topics, urls, people's
names) are folded to single spaces and have a length limit, and some may not be empty; quotes and
notes keep their lines and have a length limit too; no text may hold a NUL character or half of a
UTF-16 surrogate pair (PostgreSQL cannot store the one, no UTF-8 database the other, so both backends
refuse them); a claim has at most `MAX_TOPICS` topics; stances and
verdicts come from their vocabularies; times must be readable dates, no later than the clock allows
(with a few minutes' tolerance for machines whose clocks differ), and a claim's outcome and
expected-by date may not come before it was first reported; a report may not relay its own source,
whether the relay is named by the source's name or by one of its aliases.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tracker.dates import DateError, When, parse_many, read_when
from tracker.errors import ValidationError
from tracker.models import SourceKind, Stance, Verdict

if TYPE_CHECKING:  # the column forms run inside the bulk importer, which has pandas loaded
    import pandas as pd

MAX_STATEMENT = 10_000
MAX_NAME = 300
MAX_REF = 200
MAX_TOPIC = 200
MAX_URL = 2000
MAX_PERSON = 200
MAX_QUOTE = 20_000
MAX_NOTE = 10_000
MAX_TOPICS = 100
# the longest cell a CSV import reads: over every field's limit (a full topic list is the longest),
# so anything this tracker exports imports again, and a longer cell is refused by its row, not by csv
MAX_CELL = 2 * max(MAX_STATEMENT, MAX_QUOTE, MAX_NOTE, MAX_TOPICS * (MAX_TOPIC + 1))
# characters no store can keep: NUL (PostgreSQL refuses it) and lone surrogates (not UTF-8 at all)
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# clocks differ a little between an analyst's machine and the server
FUTURE_TOLERANCE = timedelta(minutes=5)


def fold(text) -> str | None:
    """Text with its white space folded to single spaces; None when nothing is left."""
    if text is None:
        return None
    folded = " ".join(str(text).split())
    return folded or None


def unstorable(label: str) -> str:
    """The message for a value holding a character no store can keep."""
    return (f"{label} holds a character the store cannot keep (a NUL, \\x00, or half of a UTF-16 surrogate "
            "pair); remove it")


def name_key(name: str) -> str:
    """The case- and space-insensitive key under which a source name or alias is unique."""
    return " ".join(name.split()).casefold()


def statement_key(statement: str) -> str:
    """The key under which two statements are the same claim: white space folded, case ignored."""
    return " ".join(statement.split()).casefold()


# -- texts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    """A text field: folded, at most `limit` characters, and not empty when `empty` says why."""

    label: str
    limit: int
    empty: str | None = None  # the message for an empty value; None: the field is optional
    advice: str = ""
    lines: bool = False  # keep the text's lines and spacing (quotes, notes): only trim its ends

    def too_long(self) -> str:
        """The message for a value over the limit."""
        return f"{self.label} is longer than {self.limit:,} characters{self.advice}"

    def check(self, value) -> str | None:
        """The value as stored (folded; None when empty and optional), or a ValidationError."""
        folded = ((str(value).strip() or None) if value is not None else None) if self.lines else fold(value)
        if folded is None:
            if self.empty is not None:
                raise ValidationError(self.empty)
            return None
        if UNSTORABLE.search(folded):
            raise ValidationError(unstorable(self.label))
        if len(folded) > self.limit:
            raise ValidationError(self.too_long())
        return folded

    def column(self, cells: pd.Series) -> pd.Series:
        """One message per cell ("" where it is fine); cells are text, "" when absent."""
        import pandas as pd
        messages = pd.Series("", index=cells.index, dtype=object)
        long = cells.str.len() > self.limit
        if long.any() and not self.lines:  # folding can only shorten a cell: fold the few that are long as written
            long[long] = cells[long].map(lambda text: len(" ".join(text.split())) > self.limit)
        messages[long] = self.too_long()
        # surrogates cannot reach a column: files are read as strict UTF-8 and JSON text is checked as read
        messages[cells.str.contains("\x00", regex=False)] = unstorable(self.label)
        if self.empty is not None:
            messages[cells.str.strip() == ""] = self.empty
        return messages


STATEMENT = Text("the claim's statement", MAX_STATEMENT,
                 "the claim's statement is empty; write the checkable statement the sources made",
                 "; shorten it to the claim itself")
SOURCE = Text("the source name", MAX_NAME, "the source name is empty; name who made or carried the claim")
ALIAS = Text("the alias", MAX_NAME, "the alias is empty; give the other name the source goes by")
VIA = Text("the name of the relayed source ('via')", MAX_NAME)
CLAIM_REF = Text("the claim_ref", MAX_REF, advice="; use a shorter reference")
REPORT_REF = Text("the report_ref", MAX_REF, advice="; use a shorter reference")
TOPIC = Text("a topic", MAX_TOPIC, advice="; shorten it or split it with ';'")
URL = Text("the report's url", MAX_URL, advice="; link to the page itself")
EVIDENCE = Text("the evidence url", MAX_URL, advice="; link to the page itself")
REVIEWER = Text("the reviewer's name", MAX_PERSON)
AFFILIATION = Text("the affiliation", MAX_NAME)
SOURCE_URL = Text("the source's website", MAX_URL)
QUOTE = Text("the quote", MAX_QUOTE, advice="; quote the passage that makes the claim", lines=True)
NOTE = Text("the note", MAX_NOTE, advice="; keep the note short and link to the rest", lines=True)
SOURCE_NOTES = Text("the source's notes", MAX_NOTE, advice="; keep the notes short and link to the rest", lines=True)


def topics(values: Iterable[str] | str | None) -> list[str]:
    """Topic tags as stored: trimmed, lower-case, unique, in first-seen order (`;` splits a string)."""
    if values is None:
        return []
    if isinstance(values, str):
        values = values.split(";")
    seen: dict[str, None] = {}
    for value in values:
        folded = TOPIC.check(value)
        if folded:
            seen.setdefault(folded.lower(), None)
    if len(seen) > MAX_TOPICS:
        raise ValidationError(too_many_topics(len(seen)))
    return list(seen)


def too_many_topics(count: int) -> str:
    """The message for a claim given more than MAX_TOPICS topics."""
    return f"{count} topics is more than a claim may have ({MAX_TOPICS}); keep the ones people filter by"


def topics_column(cells: pd.Series) -> pd.Series:
    """One message per cell of `;`-separated topics ("" where every topic is fine)."""
    import numpy as np
    import pandas as pd
    messages = pd.Series("", index=cells.index, dtype=object)
    # a cell within the limit holds no topic over it, and too few separators for too many topics
    suspect = (cells.str.len() > MAX_TOPIC) | cells.str.contains("\x00", regex=False)
    for position in np.flatnonzero(suspect.to_numpy()):
        try:
            topics(cells.iat[position])
        except ValidationError as exc:
            messages.iat[position] = str(exc)
    return messages


# -- vocabularies --------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """A value from a vocabulary (an Enum), case-insensitive."""

    what: str
    vocabulary: type[enum.Enum]

    @property
    def allowed(self) -> list[str]:
        """The values, as stored."""
        return [member.value for member in self.vocabulary]

    def message(self, value: str) -> str:
        """The message for a value outside the vocabulary (or an empty one)."""
        if not value:
            return f"the {self.what} is empty; use one of: {', '.join(self.allowed)}"
        return f"unknown {self.what} {value!r}; use one of: {', '.join(self.allowed)}"

    def check(self, value) -> str:
        """The value as stored, or a ValidationError."""
        if isinstance(value, self.vocabulary):
            return value.value
        raw = str(value if value is not None else "").strip()
        if raw.lower() not in self.allowed:
            raise ValidationError(self.message(raw))
        return raw.lower()

    def column(self, cells: pd.Series, *, optional: bool = False) -> tuple[pd.Series, pd.Series]:
        """(values as stored, one message per cell); with `optional`, empty cells are fine."""
        import pandas as pd
        lowered = cells.str.lower()
        bad = ~lowered.isin(self.allowed)
        if optional:
            bad &= cells != ""
        messages = pd.Series("", index=cells.index, dtype=object)
        if bad.any():
            messages[bad] = [self.message(value) for value in cells[bad]]
        return lowered, messages


STANCE = Choice("stance", Stance)
VERDICT = Choice("verdict", Verdict)
SOURCE_KIND = Choice("source kind", SourceKind)


# -- times ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Moment:
    """A time as people write it, no later than the clock (with FUTURE_TOLERANCE)."""

    label: str
    empty: str | None = None  # the message for an empty value; None: optional

    def unreadable(self, problem: str) -> str:
        """The message for a value that is not a date."""
        return f"{self.label}: {problem}"

    def future(self, moment: datetime) -> str:
        """The message for a time after the clock."""
        return f"{self.label} ({moment:%Y-%m-%d %H:%M} UTC) is in the future; check the date and its time zone"

    def check(self, value, now: datetime | None = None) -> datetime | None:
        """The time in UTC (None when empty and optional), or a ValidationError."""
        read = self.check_when(value, now)
        return read.at if read is not None else None

    def check_when(self, value, now: datetime | None = None) -> When | None:
        """The time in UTC and whether it is only a date (None when empty and optional), or a ValidationError.

        Live words (`yesterday 21:00`, `2 hours ago`) are read against `now`, the ledger's clock.
        """
        if value is None or (isinstance(value, str) and not value.strip()):
            if self.empty is not None:
                raise ValidationError(self.empty)
            return None
        try:
            read = read_when(value, now=now)
        except DateError as exc:
            raise ValidationError(self.unreadable(str(exc))) from exc
        if now is not None:
            self.check_not_future(read.at, now)
        return read

    def check_not_future(self, moment: datetime, now: datetime) -> None:
        """Refuse a time later than `now` beyond the tolerance."""
        if moment > now + FUTURE_TOLERANCE:
            raise ValidationError(self.future(moment))

    def column(self, cells: pd.Series, now: datetime | None = None) -> tuple[pd.Series, pd.Series]:
        """(UTC timestamps, NaT where empty or bad; one message per cell)."""
        times, _date_only, messages = self.column_when(cells, now)
        return times, messages

    def column_when(self, cells: pd.Series, now: datetime | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
        """(UTC timestamps, NaT where empty or bad; whether each is only a date; one message per cell)."""
        import numpy as np
        import pandas as pd
        times, date_only, problems = parse_many(cells, now=now)
        messages = pd.Series("", index=cells.index, dtype=object)
        for position, problem in problems.items():
            messages.iat[position] = self.unreadable(problem)
        if self.empty is not None:
            messages[cells.str.strip() == ""] = self.empty
        if now is not None:
            late = (times > pd.Timestamp(now) + FUTURE_TOLERANCE).to_numpy()
            for position in np.flatnonzero(late):
                messages.iat[position] = self.future(times.iat[position].to_pydatetime())
            times = times.where(~late)
        return times.where(messages == ""), date_only & (messages == ""), messages


REPORTED_AT = Moment("the report's time", "the report's time is empty; give when the source said it")
DECIDED_AT = Moment("the outcome's time", "the outcome's time is empty; give the date the outcome became known")
EXPECTED_BY = Moment("the expected-by date")
FIRST_REPORTED = Moment("the first-reported time")


def check_outcome_time(when: datetime, first_reported_at: datetime, claim_label: str, date_only: bool = False) -> None:
    """Refuse an outcome dated before its claim was first reported (an outcome given as a date: before its day)."""
    if when.date() < first_reported_at.date() if date_only else when < first_reported_at:
        raise ValidationError(
            f"the outcome ({when:%Y-%m-%d %H:%M}) is dated before {claim_label} was first reported "
            f"({first_reported_at:%Y-%m-%d %H:%M}); an outcome becomes known after the claim"
        )


def check_expected_by(expected: datetime, first_reported_at: datetime, date_only: bool = False) -> None:
    """Refuse an expected-by date before the claim was first reported (one given as a date: before its day)."""
    if expected.date() < first_reported_at.date() if date_only else expected < first_reported_at:
        raise ValidationError(
            f"expected-by ({expected:%d %b %Y}) is before the claim was first reported "
            f"({first_reported_at:%d %b %Y})"
        )


# -- relays --------------------------------------------------------------------------------
def self_relay(name: str) -> str:
    """The message for a report whose relayed source is its own source."""
    return f"{name!r} cannot relay itself; leave 'via' empty or name the origin"


def check_relay(name: str, source_id: int, via_id: int | None) -> None:
    """Refuse a report relaying its own source (`via_id` resolved through names and aliases)."""
    if via_id is not None and via_id == source_id:
        raise ValidationError(self_relay(name))


def relay_column(names: pd.Series, source_ids: pd.Series, via_ids: pd.Series) -> pd.Series:
    """One message per row whose relayed source (resolved through aliases) is its own source."""
    import pandas as pd
    messages = pd.Series("", index=names.index, dtype=object)
    same = (via_ids == source_ids).fillna(False).to_numpy(dtype=bool)
    if same.any():
        messages[same] = [self_relay(name) for name in names[same]]
    return messages


# -- every problem at once -----------------------------------------------------------------
def problems(checks: Iterable[tuple[str, Callable[[], object]]]) -> list[tuple[str, str]]:
    """(field, message) for each check that fails, in order: what a form shows all at once."""
    found = []
    for field, check in checks:
        try:
            check()
        except ValidationError as exc:
            found.append((field, str(exc)))
    return found


def report_checks(report: dict, field: str, now: datetime | None = None) -> list[tuple[str, Callable[[], object]]]:
    """The checks of one report's fields (a dict of source, stance, reported_at, via, url) that need no store."""
    return [(field, lambda: SOURCE.check(report.get("source"))), (field, lambda: STANCE.check(report.get("stance"))),
            (field, lambda: REPORTED_AT.check(report.get("reported_at"), now)),
            (field, lambda: VIA.check(report.get("via"))), (field, lambda: URL.check(report.get("url")))]


def claim_problems(statement, *, topics_=None, expected_by=None, reports: Iterable[dict] = (),
                   now: datetime | None = None) -> list[tuple[str, str]]:
    """Every problem of a new claim and its reports, field by field ("statement", "report 1", ...)."""
    checks = [("statement", lambda: STATEMENT.check(statement)), ("topics", lambda: topics(topics_)),
              ("expected by", lambda: EXPECTED_BY.check(expected_by))]
    for number, report in enumerate(reports, 1):
        checks += report_checks(report, f"report {number}", now)
    return problems(checks)


def refuse_all(found: list[tuple[str, str]], what: str) -> None:
    """Refuse with every problem in one message, grouped by field, when there are two or more
    (one problem is left to the check that raises it, with its usual words)."""
    if len(found) > 1:
        fields = dict.fromkeys(field for field, _message in found)
        lines = "\n".join(f"{field}: {message}" for group in fields for field, message in found if field == group)
        raise ValidationError(f"{what} was not saved: {len(found)} problems in {len(fields)} field(s); "
                              f"fix them all and save again:\n{lines}")
