"""PHEME rumour tweets as the tracker's CSV interchange contract.

PHEME (Kochkina, Liakata and Zubiaga; figshare doi 10.6084/m9.figshare.6392078, CC-BY 4.0) gives,
per rumour source tweet: `event, tweet_id, source, verified_account, created_at, statement,
veracity`. Each tweet becomes one claim with one report:

- `claim_ref` is `pheme-<tweet_id>` (identical texts under different ids stay separate claims);
  `claim` is the tweet text, `source` the account, `topic` the event, `url` the tweet's address.
- `stance` is `rumoured`: PHEME's source tweets are rumours, unverified when posted (that is how
  the annotators selected them), so none counts as a `confirmed` assertion.
- `reported_at` is `created_at` as given (Twitter's format, which the tracker reads).
- `outcome` maps veracity `true`/`false`/`unverified` to `true`/`false`/`unverifiable`.
- `outcome_at`: PHEME does not say when a rumour was settled, so it is an assumption, one of
  `settle_after_days` after the tweet (default 1 day) or `event_end`: one day after the last tweet
  of the same event, so that nothing learnt within an event is used inside it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import IO

from tracker.dates import DateError, format_when, parse_when
from tracker.errors import ValidationError
from tracker.safe_text import guard_cell

PHEME_COLUMNS = ("event", "tweet_id", "source", "verified_account", "created_at", "statement", "veracity")
CONTRACT_COLUMNS = ("claim_ref", "claim", "source", "stance", "reported_at", "outcome", "outcome_at",
                    "url", "topic", "note")
VERDICTS = {"true": "true", "false": "false", "unverified": "unverifiable"}
EVENT_END_PAD = timedelta(days=1)
EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "data" / "pheme" / "pheme-dev.csv"
EXAMPLE_URL = "sqlite:///db/pheme.db"  # the larger example's own store, beside the default one


def read_pheme(stream: IO[str]) -> list[dict]:
    """The PHEME rows, checked (columns, veracity, dates), each with its parsed `created` time."""
    reader = csv.DictReader(stream)
    missing = [c for c in PHEME_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"not a PHEME file: missing column(s) {', '.join(missing)}")
    rows, problems = [], []
    for number, row in enumerate(reader, start=2):
        veracity = (row["veracity"] or "").strip().lower()
        if veracity not in VERDICTS:
            problems.append(f"row {number}: veracity {row['veracity']!r} is not one of {', '.join(VERDICTS)}")
            continue
        try:
            created = parse_when(row["created_at"])
        except DateError as exc:
            problems.append(f"row {number}: created_at: {exc}")
            continue
        rows.append({**row, "veracity": veracity, "created": created})
    if problems:
        raise ValidationError("the PHEME file has bad rows:\n  " + "\n  ".join(problems))
    return rows


def settle_times(rows: list[dict], settle_after_days: float = 1.0, event_end: bool = False) -> list:
    """The assumed `outcome_at` of each row: N days after its tweet, or a day after its event's last tweet."""
    if not event_end:
        return [row["created"] + timedelta(days=settle_after_days) for row in rows]
    last: dict[str, object] = {}
    for row in rows:
        last[row["event"]] = max(last.get(row["event"], row["created"]), row["created"])
    return [last[row["event"]] + EVENT_END_PAD for row in rows]


def contract_rows(rows: list[dict], settle_after_days: float = 1.0, event_end: bool = False) -> Iterable[dict]:
    """PHEME rows as CSV-contract rows (one claim with one rumoured report each)."""
    for row, settled in zip(rows, settle_times(rows, settle_after_days, event_end)):
        account = "verified" if row["verified_account"].strip().lower() == "true" else "not verified"
        yield {
            "claim_ref": f"pheme-{row['tweet_id'].strip()}",
            "claim": row["statement"],
            "source": row["source"].strip(),
            "stance": "rumoured",
            "reported_at": row["created_at"].strip(),
            "outcome": VERDICTS[row["veracity"]],
            "outcome_at": format_when(settled),
            "url": f"https://twitter.com/{row['source'].strip()}/status/{row['tweet_id'].strip()}",
            "topic": row["event"].strip(),
            "note": f"PHEME source tweet; account {account}; veracity {row['veracity']}",
        }


def convert(src: str | Path, dest: str | Path, settle_after_days: float = 1.0, event_end: bool = False) -> int:
    """Convert the PHEME CSV at `src` into a contract CSV at `dest`; returns the rows written."""
    if settle_after_days < 0:
        raise ValidationError("settle_after_days must be zero or more")
    with open(src, encoding="utf-8-sig", newline="") as stream:
        rows = read_pheme(stream)
    with open(dest, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=CONTRACT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        count = 0
        for row in contract_rows(rows, settle_after_days, event_end):
            writer.writerow({k: guard_cell(v) for k, v in row.items()})
            count += 1
    return count


def load_example(ledger) -> object:
    """Load the PHEME subset shipped in data/pheme/ as an example (outcomes known a day after each
    tweet; idempotent, like any import): 1,450 claims whose sources have records to judge."""
    import tempfile

    from tracker.interchange import import_file

    if not EXAMPLE_FILE.exists():
        raise ValidationError(f"the PHEME example is missing ({EXAMPLE_FILE}); reinstall from a full checkout")
    with tempfile.TemporaryDirectory() as folder:
        converted = Path(folder) / "pheme.csv"
        convert(EXAMPLE_FILE, converted)
        return import_file(ledger, converted)
