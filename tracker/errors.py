"""The domain errors: every message says what was wrong and what to do about it."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the tracker raises for something a user can fix."""


class ValidationError(LedgerError):
    """Input that breaks a rule of the ledger (empty statement, unknown stance, bad date...)."""


class NotFoundError(LedgerError):
    """A claim or source that the store does not hold."""


class DuplicateError(ValidationError):
    """Something the store already holds (the same report, the same claim, a taken name)."""


class RowError:
    """One bad row of an import: where it is and why it was refused."""

    __slots__ = ("reason", "row")

    def __init__(self, row: str, reason: str) -> None:
        self.row = row
        self.reason = reason

    def __repr__(self) -> str:
        return f"RowError({self.row!r}, {self.reason!r})"

    def __str__(self) -> str:
        return f"{self.row}: {self.reason}"


def count_problems(errors: list[RowError]) -> str:
    """How many problems in how many rows, in words: "5 problems in 3 rows"."""
    problems, rows = len(errors), len({error.row for error in errors})
    return f"{problems} problem{'s' * (problems != 1)} in {rows} row{'s' * (rows != 1)}"


def by_row(errors: list[RowError], indent: str = "  ") -> str:
    """The problems grouped by row, one line per row, or the row then one line per problem."""
    grouped: dict[str, list[str]] = {}
    for error in errors:
        grouped.setdefault(error.row, []).append(error.reason)
    lines = []
    for row, reasons in grouped.items():
        if len(reasons) == 1:
            lines.append(f"{indent}{row}: {reasons[0]}")
        else:
            lines.append(f"{indent}{row}:" + "".join(f"\n{indent}  - {reason}" for reason in reasons))
    return "\n".join(lines)


class ImportRejected(LedgerError):
    """An import that changed nothing because some of its rows are bad; lists every problem, by row."""

    def __init__(self, errors: list[RowError], what: str = "the file") -> None:
        self.errors = errors
        super().__init__(
            f"{what} was not imported: {count_problems(errors)}; nothing was changed. "
            f"Fix these and import again:\n{by_row(errors)}"
        )


class EditConflict(LedgerError):
    """An edit that started from an older version of a row than the store now holds; nothing was saved."""

    def __init__(self, message: str, changes: list | None = None) -> None:
        self.changes = changes or []
        super().__init__(message)


class StoreBusy(LedgerError):
    """The store stayed locked by other writers for longer than a write waits."""
