"""Build a synthetic store (and, optionally, the same world as CSV) for the benchmarks.

The default world is the size the speed requirement names: 5,000 sources, 200,000 claims and
1,000,000 reports (about five per claim, some relayed via another source), about 70% of claims
with an outcome (a few of them revised), and topic tags.

The schema comes from the tracker itself (`tracker.store.make_engine` + `ensure_schema`, i.e. the
Alembic migrations), but the rows are written with plain `sqlite3` (`executemany` into the real
tables, in one transaction), never through the ORM: a million ORM objects would take minutes.
Values are in the exact storage format SQLAlchemy/SQLModel uses on SQLite, so the tracker reads
them as its own: times as UTC text `YYYY-MM-DD HH:MM:SS.ffffff`, enumerations as their plain
lower-case values, names with their casefolded `name_key`, topics lower-case.

The world is generated, vectorised with numpy, from a seed (the same seed gives the same store):
every source has a hidden reliability and a popularity; every claim a hidden truth; a report's
stance follows from both, so the scores mean something. Report times are strictly increasing
within a claim (at minute resolution), which keeps the report identity (claim, source, stance,
reported_at) unique. Every time lies between 2016 and mid-2025, i.e. in the past.

`--csv PATH` also writes the world in the tracker's interchange contract (header
`claim_ref,claim,source,stance,reported_at,outcome,outcome_at,via,topic`, one row per report, times
as `tracker.dates.format_when` writes them). A CSV row carries only the claim's verdict in force,
so the CSV has no revision history; otherwise it is the same world.

    python benchmarks/make_store.py --db benchmarks/.data/bench.db --csv benchmarks/.data/bench.csv
    python benchmarks/make_store.py --db /tmp/small.db --sources 500 --claims 20000 --reports 100000
    python benchmarks/make_store.py --claims 2000000 --reports 10000000 --url postgresql+psycopg://postgres@127.0.0.1:5499/bench

On PostgreSQL (`--url`, an empty database) the same rows go in by `COPY`, with the secondary
indexes built after the load. Either way the rows go in behind the ledger's back, so the scores'
kept pairs (`tracker.pairs`) are computed once at the end, as the migration that adds them does.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
DEFAULT_DB = DATA / "bench.db"
DEFAULT_CSV = DATA / "bench.csv"
CSV_HEADER = ["claim_ref", "claim", "source", "stance", "reported_at", "outcome", "outcome_at", "via", "topic"]

KINDS = ["government", "official", "military", "news_outlet", "wire_agency", "international_body", "ngo",
         "commentator", "unnamed_group", "social_account", "other"]
TOPICS = ["aleppo", "evacuation", "ceasefire", "airstrikes", "humanitarian aid", "negotiations", "casualties",
          "refugees", "chemical weapons", "sanctions", "elections", "energy", "border", "prisoners",
          "hostages", "cyber", "protests", "economy", "health", "shipping", "drones", "artillery",
          "diplomacy", "corruption", "media", "infrastructure", "water", "food", "courts", "migration"]
STANCES = np.array(["rumoured", "confirmed", "denied"])
VERDICTS = np.array(["true", "false", "partly_true", "unverifiable"])

START = np.datetime64("2016-01-01T00:00", "m")
# claims are first reported before this; every report and outcome falls before mid-2025
LAST_FIRST_REPORT = np.datetime64("2024-12-31T00:00", "m")
LOGGED_AT = "2025-07-01 00:00:00.000000"


@dataclass
class World:
    """The synthetic world as columns (ids are 1-based, as the store numbers them)."""

    source_name: np.ndarray
    source_kind: np.ndarray
    claim_first: np.ndarray  # datetime64[m]
    claim_statement: list[str]
    claim_ref: list[str]
    report_claim: np.ndarray
    report_source: np.ndarray
    report_stance: np.ndarray  # index into STANCES
    report_at: np.ndarray  # datetime64[m]
    report_via: np.ndarray  # 0: none
    outcome_claim: np.ndarray
    outcome_verdict: np.ndarray  # index into VERDICTS
    outcome_at: np.ndarray  # datetime64[m]; outcomes are in id order (older revisions first)
    topic_claim: np.ndarray
    topic_index: np.ndarray  # index into TOPICS


def make_world(sources: int = 5_000, claims: int = 200_000, reports: int = 1_000_000, seed: int = 2016,
               resolved_share: float = 0.7, revised_share: float = 0.03, relayed_share: float = 0.1) -> World:
    """Generate the world (see module doc); `reports` must be at least `claims`."""
    if reports < claims:
        raise ValueError("need at least one report per claim")
    rng = np.random.default_rng(seed)

    # sources: a hidden reliability (mostly good, some coin-flippers, a few bad) and a popularity
    mix = rng.random(sources)
    reliability = np.where(mix < 0.6, rng.beta(8, 2, sources),
                           np.where(mix < 0.9, rng.beta(2, 2, sources), rng.beta(2, 6, sources)))
    rumour_rate = rng.uniform(0.1, 0.6, sources)
    popularity = 1.0 / (np.arange(sources) + 10.0) ** 0.8
    popularity = rng.permutation(popularity / popularity.sum())
    source_name = np.array([f"Source {i:05d}" for i in range(1, sources + 1)], dtype=object)
    source_kind = rng.choice(np.array(KINDS, dtype=object), sources)

    # claims: first reported at a random minute; a hidden truth (true, false, partly true)
    span = int((LAST_FIRST_REPORT - START).astype(int))
    claim_first = START + np.sort(rng.integers(0, span, claims)).astype("timedelta64[m]")
    truth = rng.choice(3, claims, p=[0.65, 0.25, 0.10])  # index into VERDICTS
    claim_topic = rng.integers(0, len(TOPICS), claims)
    claim_ref = [f"syn-{i:07d}" for i in range(1, claims + 1)]
    claim_statement = [f"Synthetic claim {i} on {TOPICS[t]}: event {h:08x} happened as reported"
                       for i, t, h in zip(range(1, claims + 1), claim_topic.tolist(),
                                          rng.integers(0, 2**32, claims).tolist())]

    # reports: one per claim first, the rest spread at random; grouped by claim
    report_claim = np.sort(np.concatenate([np.arange(claims), rng.integers(0, claims, reports - claims)]))
    starts = np.r_[0, np.flatnonzero(np.diff(report_claim)) + 1]
    rank = np.arange(reports) - np.repeat(starts, np.diff(np.r_[starts, reports]))  # 0 = first report
    # strictly increasing minutes within a claim: the identity (claim, source, stance, time) is unique
    gaps = np.where(rank == 0, 0, 1 + rng.exponential(12 * 60, reports).astype(np.int64))
    offset = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[starts], np.diff(np.r_[starts, reports]))
    report_at = claim_first[report_claim] + offset.astype("timedelta64[m]")
    report_source = rng.choice(sources, reports, p=popularity)
    # some sources come back to a claim and change their stance
    again = (rank > 0) & (rng.random(reports) < 0.05)
    report_source[again] = report_source[np.flatnonzero(again) - 1]
    t = truth[report_claim]
    r = reliability[report_source]
    right = rng.random(reports) < r
    asserts = np.where(t == 0, right, np.where(t == 1, ~right, rng.random(reports) < 0.6))
    rumour = rng.random(reports) < rumour_rate[report_source]
    stance = np.where(asserts, np.where(rumour, 0, 1), 2)
    # relays: mostly of the claim's first reporter (who then spoke for itself too), some of a
    # source that never reported the claim itself
    relay = (rank > 0) & (rng.random(reports) < relayed_share)
    first_of = np.repeat(starts, np.diff(np.r_[starts, reports]))
    via = np.full(reports, -1)
    via[relay] = report_source[first_of[relay]]
    stance[relay] = stance[first_of[relay]]
    elsewhere = relay & (rng.random(reports) < 0.3)
    via[elsewhere] = rng.choice(sources, int(elsewhere.sum()), p=popularity)
    via[via == report_source] = -1

    # outcomes: about 70% of claims resolved after a few days, a few first judged otherwise
    resolved = np.flatnonzero(rng.random(claims) < resolved_share)
    verdict = np.where(rng.random(len(resolved)) < 0.05, 3, truth[resolved])
    decided = claim_first[resolved] + (60 + rng.exponential(5 * 24 * 60, len(resolved)).astype(np.int64)
                                       ).astype("timedelta64[m]")
    revised = rng.random(len(resolved)) < revised_share
    earlier_verdict = (verdict[revised] + rng.integers(1, 4, int(revised.sum()))) % 4
    earlier_at = claim_first[resolved[revised]] + (
        (decided[revised] - claim_first[resolved[revised]]).astype(np.int64) * rng.uniform(0.2, 0.8, int(revised.sum()))
    ).astype(np.int64).astype("timedelta64[m]")
    out_claim = np.concatenate([resolved, resolved[revised]])
    out_verdict = np.concatenate([verdict, earlier_verdict])
    out_at = np.concatenate([decided, earlier_at])
    order = np.lexsort((out_claim, out_at))  # ids in the order the verdicts were recorded
    # topics: one per claim, a second for about 30%
    second = np.flatnonzero(rng.random(claims) < 0.3)
    second_topic = (claim_topic[second] + rng.integers(1, len(TOPICS), len(second))) % len(TOPICS)

    return World(
        source_name=source_name, source_kind=source_kind, claim_first=claim_first,
        claim_statement=claim_statement, claim_ref=claim_ref,
        report_claim=report_claim + 1, report_source=report_source + 1, report_stance=stance,
        report_at=report_at, report_via=via + 1,
        outcome_claim=out_claim[order] + 1, outcome_verdict=out_verdict[order], outcome_at=out_at[order],
        topic_claim=np.concatenate([np.arange(claims), second]) + 1,
        topic_index=np.concatenate([claim_topic, second_topic]),
    )


def stored_times(moments: np.ndarray) -> np.ndarray:
    """datetime64 values as SQLAlchemy stores a UTC DateTime on SQLite: `YYYY-MM-DD HH:MM:SS.ffffff`."""
    text = np.datetime_as_string(moments.astype("datetime64[us]"), unit="us")
    return np.strings.replace(text, "T", " ").astype(object)


def csv_times(moments: np.ndarray) -> np.ndarray:
    """datetime64[m] values as `tracker.dates.format_when` writes them (`2016-12-14T22:00Z`)."""
    return np.strings.add(np.datetime_as_string(moments.astype("datetime64[m]"), unit="m"), "Z").astype(object)


def write_store(world: World, db: Path) -> None:
    """Create the store at `db` (replacing any file there) and fill it with `world` in one transaction."""
    from tracker.store import ensure_schema, make_engine

    db = Path(db)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    ensure_schema(engine)
    engine.dispose()

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")  # 256 MiB while building the indexes
    con.execute("BEGIN")
    names = world.source_name.tolist()
    con.executemany(
        "INSERT INTO source (id, name, name_key, kind, created_at) VALUES (?, ?, ?, ?, ?)",
        zip(range(1, len(names) + 1), names, [n.casefold() for n in names], world.source_kind.tolist(),
            [LOGGED_AT] * len(names)))
    con.executemany(
        "INSERT INTO claim (id, ref, statement, first_reported_at, logged_at) VALUES (?, ?, ?, ?, ?)",
        zip(range(1, len(world.claim_ref) + 1), world.claim_ref, world.claim_statement,
            stored_times(world.claim_first).tolist(), [LOGGED_AT] * len(world.claim_ref)))
    con.executemany(
        "INSERT INTO claim_topic (claim_id, topic) VALUES (?, ?)",
        zip(world.topic_claim.tolist(), np.array(TOPICS, dtype=object)[world.topic_index].tolist()))
    via = [v or None for v in world.report_via.tolist()]
    con.executemany(
        "INSERT INTO report (id, claim_id, source_id, stance, reported_at, via_source_id, logged_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        zip(range(1, len(via) + 1), world.report_claim.tolist(), world.report_source.tolist(),
            STANCES.astype(object)[world.report_stance].tolist(), stored_times(world.report_at).tolist(), via,
            [LOGGED_AT] * len(via)))
    con.executemany(
        "INSERT INTO outcome (id, claim_id, verdict, decided_at, recorded_at) VALUES (?, ?, ?, ?, ?)",
        zip(range(1, len(world.outcome_claim) + 1), world.outcome_claim.tolist(),
            VERDICTS.astype(object)[world.outcome_verdict].tolist(), stored_times(world.outcome_at).tolist(),
            [LOGGED_AT] * len(world.outcome_claim)))
    # a write like any other: raise the store revision the dashboard's caches key on (schema 0004+)
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'store_revision'").fetchone():
        con.execute("UPDATE store_revision SET revision = revision + 1")
    con.execute("COMMIT")
    con.close()
    _pairs_taken_in(f"sqlite:///{db}")
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _pairs_taken_in(url: str) -> None:
    """The scores' kept pairs (`tracker.pairs`, schema 0009) computed for the rows written behind
    the ledger's back, as the migration that adds them does."""
    from tracker import pairs
    from tracker.store import for_writing, make_engine

    engine = make_engine(url)
    with for_writing(engine).begin() as connection:
        pairs.rebuild(connection)
    engine.dispose()


def _copy_lines(*columns) -> str:
    """Rows as PostgreSQL COPY text: tab-separated, one per line, None as \\N."""
    return "".join("\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in zip(*columns))


def write_postgres(world: World, url: str, chunk: int = 500_000) -> None:
    """Fill the empty PostgreSQL store at `url` with `world` by COPY, in one transaction.

    The secondary indexes are dropped before the load and built again after it (one sort each
    instead of ten million insertions), as PostgreSQL's documentation advises for bulk loads.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    from tracker.store import ensure_schema, make_engine

    engine = make_engine(url)
    ensure_schema(engine)
    engine.dispose()
    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    n = len(world.report_claim)
    with psycopg.connect(conninfo) as con:
        indexes = con.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename IN "
            "('report', 'claim', 'claim_topic', 'outcome') AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)").fetchall()
        for name, _definition in indexes:
            con.execute(f'DROP INDEX "{name}"')
        names = world.source_name.tolist()
        tables = [
            ("source (id, name, name_key, kind, created_at)", len(names), lambda a, b: (
                range(a + 1, b + 1), names[a:b], [x.casefold() for x in names[a:b]],
                world.source_kind[a:b].tolist(), [LOGGED_AT] * (b - a))),
            ("claim (id, ref, statement, first_reported_at, logged_at)", len(world.claim_ref), lambda a, b: (
                range(a + 1, b + 1), world.claim_ref[a:b], world.claim_statement[a:b],
                stored_times(world.claim_first[a:b]).tolist(), [LOGGED_AT] * (b - a))),
            ("claim_topic (claim_id, topic)", len(world.topic_claim), lambda a, b: (
                world.topic_claim[a:b].tolist(), np.array(TOPICS, dtype=object)[world.topic_index[a:b]].tolist())),
            ("report (id, claim_id, source_id, stance, reported_at, via_source_id, logged_at)", n, lambda a, b: (
                range(a + 1, b + 1), world.report_claim[a:b].tolist(), world.report_source[a:b].tolist(),
                STANCES.astype(object)[world.report_stance[a:b]].tolist(), stored_times(world.report_at[a:b]).tolist(),
                [v or None for v in world.report_via[a:b].tolist()], [LOGGED_AT] * (b - a))),
            ("outcome (id, claim_id, verdict, decided_at, recorded_at)", len(world.outcome_claim), lambda a, b: (
                range(a + 1, b + 1), world.outcome_claim[a:b].tolist(),
                VERDICTS.astype(object)[world.outcome_verdict[a:b]].tolist(),
                stored_times(world.outcome_at[a:b]).tolist(), [LOGGED_AT] * (b - a))),
        ]
        with con.cursor() as cursor:
            for target, count, columns in tables:
                with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                    for start in range(0, count, chunk):
                        copy.write(_copy_lines(*columns(start, min(start + chunk, count))))
            for _name, definition in indexes:
                cursor.execute(definition)
            for table in ("source", "claim", "report", "outcome"):  # the next ids follow the copied ones
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))")
            cursor.execute("UPDATE store_revision SET revision = revision + 1")
    with psycopg.connect(conninfo, autocommit=True) as con:
        con.execute("VACUUM ANALYZE")
    _pairs_taken_in(url)
    with psycopg.connect(conninfo, autocommit=True) as con:
        con.execute("VACUUM ANALYZE stance_pair")


def write_csv(world: World, path: Path) -> None:
    """Write `world` in the interchange CSV contract (one row per report, the verdict in force)."""
    claims = len(world.claim_ref)
    # the verdict in force is each claim's last outcome row (outcomes are in id order)
    verdict = np.full(claims + 1, "", dtype=object)
    decided = np.full(claims + 1, "", dtype=object)
    verdict[world.outcome_claim] = VERDICTS.astype(object)[world.outcome_verdict]
    decided[world.outcome_claim] = csv_times(world.outcome_at)
    topics = pd.Series(np.array(TOPICS, dtype=object)[world.topic_index]).groupby(world.topic_claim).agg(";".join)
    topic = np.full(claims + 1, "", dtype=object)
    topic[topics.index.to_numpy()] = topics.to_numpy()
    names = np.concatenate([[""], world.source_name]).astype(object)
    c = world.report_claim
    frame = pd.DataFrame({
        "claim_ref": np.array([""] + world.claim_ref, dtype=object)[c],
        "claim": np.array([""] + world.claim_statement, dtype=object)[c],
        "source": names[world.report_source],
        "stance": STANCES.astype(object)[world.report_stance],
        "reported_at": csv_times(world.report_at),
        "outcome": verdict[c],
        "outcome_at": decided[c],
        "via": names[world.report_via],
        "topic": topic[c],
    }, columns=CSV_HEADER)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"store to (re)create [{DEFAULT_DB}]")
    parser.add_argument("--csv", type=Path, nargs="?", const=DEFAULT_CSV,
                        help=f"also write the world as interchange CSV [{DEFAULT_CSV} if no path]")
    parser.add_argument("--no-db", action="store_true", help="write only the CSV")
    parser.add_argument("--url", help="fill this empty PostgreSQL store instead of a SQLite file "
                                      "(postgresql+psycopg://USER@HOST:PORT/DB), by COPY")
    parser.add_argument("--sources", type=int, default=5_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2016)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    world = make_world(args.sources, args.claims, args.reports, args.seed)
    print(f"generated {args.sources:,} sources, {args.claims:,} claims, {len(world.report_claim):,} reports, "
          f"{len(world.outcome_claim):,} outcomes, {len(world.topic_claim):,} topic tags "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.url:
        step = time.perf_counter()
        write_postgres(world, args.url)
        print(f"filled {args.url} in {time.perf_counter() - step:.1f} s", file=sys.stderr)
    elif not args.no_db:
        step = time.perf_counter()
        args.db.parent.mkdir(parents=True, exist_ok=True)
        write_store(world, args.db)
        print(f"wrote {args.db} ({os.path.getsize(args.db) / 2**20:.0f} MiB) in {time.perf_counter() - step:.1f} s",
              file=sys.stderr)
    if args.csv:
        step = time.perf_counter()
        write_csv(world, args.csv)
        print(f"wrote {args.csv} ({os.path.getsize(args.csv) / 2**20:.0f} MiB) in {time.perf_counter() - step:.1f} s",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
