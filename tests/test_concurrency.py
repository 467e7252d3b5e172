"""Many writers at once, on SQLite and on PostgreSQL: nothing lost, and no error but a conflict.

Eight workers, each signed in as its own reviewer, make 200 mixed writes each (heavier
loads are `benchmarks/bench_writers.py --writers N --writes M`): claims with one or
two reports (often naming a source another worker is creating at the same moment), reports on
other workers' claims, outcomes and edits from the claim version just read (a conflict is a
legitimate answer there: the worker counts it and tries again from the fresh version), and new
sources. The workers are threads sharing one engine on both backends and, on SQLite, also
separate processes that each open the store themselves (the real case of several people on one
file). Each worker counts what it wrote; afterwards the store must hold exactly that: every row,
one audit event per change, claim versions that rose once per change, and the scores' kept
stances equal to those computed afresh.

Two reviewers saving from the same version at the same instant: one wins, the other gets an
`EditConflict` naming the winner's change. A write queued behind another long write transaction
waits for it; on SQLite it never surfaces "database is locked", even past the busy timeout.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import NOW
from tests.test_pairs import computed, kept, stale
from tracker import ledger as ledger_module
from tracker import store
from tracker.errors import EditConflict, StoreBusy
from tracker.ledger import Ledger
from tracker.models import AuditEvent, Claim, Outcome, Report, Source, StoreRevision, Verdict

WORKERS = 8
WRITES = 100
PASSWORD = "a long password 1"
# names several workers put in their reports: whoever comes first creates the source
SHARED_SOURCES = [f"Shared wire {k}" for k in range(12)]
REPORTS_FROM = datetime(2016, 12, 1, tzinfo=UTC)
OUTCOMES_FROM = datetime(2020, 1, 1, tzinfo=UTC)
# the mix of writes each worker makes, by weight
MIX = {"log_claim": 30, "add_report": 30, "record_outcome": 15, "edit_claim": 15, "add_source": 10}
MAX_TRIES = 50  # an edit retried this often after conflicts counts as an error


def fixed_now() -> datetime:
    """The tests' clock (a module-level function, so a worker process can use it too)."""
    return NOW


@pytest.fixture
def shared(any_url) -> Ledger:
    """One ledger (one engine, shared by threads) over the fresh store, acting as the local operator."""
    opened = Ledger.open(any_url, clock=fixed_now)
    yield opened
    opened.engine.dispose()


def reviewers(ledger: Ledger, names: list[str]) -> list:
    """Create an admin and a reviewer account per name; their signed-in Actors, in order."""
    ledger.add_account("admin", "admin", PASSWORD)
    admin = ledger.authenticate("admin", PASSWORD)
    for name in names:
        ledger.acting_as(admin).add_account(name, "reviewer", PASSWORD)
    return [ledger.authenticate(name, PASSWORD) for name in names]


@dataclass
class Tally:
    """What one worker wrote, as it counted it."""

    worker: int
    writes: int = 0  # successful service calls (each one transaction)
    events: int = 0  # audit events those calls made, source.create aside (see `sources`)
    claims: list[int] = field(default_factory=list)
    reports: Counter = field(default_factory=Counter)  # claim id -> reports added
    outcomes: Counter = field(default_factory=Counter)
    edits: Counter = field(default_factory=Counter)
    # every source name its writes named: each must exist once, created by whoever came first
    sources: set[str] = field(default_factory=set)
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)


def _claim_version(ledger: Ledger, claim_id: int) -> int:
    with ledger.session() as s:
        return s.get(Claim, claim_id).version


def _recent_claims(ledger: Ledger, *, not_by: str | None = None, limit: int = 10) -> list[int]:
    query = select(Claim.id).order_by(Claim.id.desc()).limit(limit)
    if not_by is not None:
        query = query.where(Claim.logged_by != not_by)
    with ledger.engine.connect() as connection:
        return list(connection.execute(query).scalars())


def _from_version(tally: Tally, ledger: Ledger, save, claim_id: int, *args, **kwargs) -> bool:
    """`save(claim_id, ..., version=v)` from the claim's current version, again after each conflict."""
    for _ in range(MAX_TRIES):
        try:
            save(claim_id, *args, version=_claim_version(ledger, claim_id), **kwargs)
            return True
        except EditConflict:
            tally.conflicts += 1
    tally.errors.append(f"claim #{claim_id}: still conflicting after {MAX_TRIES} tries")
    return False


def work(ledger: Ledger, worker: int, writes: int, seed: int = 2016) -> Tally:
    """Make `writes` mixed writes as `ledger.actor`; count what was written (errors are kept, not raised)."""
    rng = random.Random(seed * 100 + worker)
    tally = Tally(worker)
    me = ledger.actor.name
    ops, weights = list(MIX), list(MIX.values())

    def source_name() -> str:
        return rng.choice(SHARED_SOURCES) if rng.random() < 0.5 else f"Outlet {worker}-{rng.randrange(20)}"

    for step in range(writes):
        op = rng.choices(ops, weights)[0]
        others = _recent_claims(ledger, not_by=me, limit=30) if op == "add_report" else _recent_claims(ledger)
        if op != "add_source" and not others:
            op = "log_claim"  # nothing to add to yet
        # unique times per (worker, step): two reports or outcomes never collide as duplicates
        at = timedelta(minutes=worker * 10_000 + 2 * step)
        try:
            if op == "log_claim":
                names = [source_name() for _ in range(rng.choice((1, 2)))]
                reports = [{"source": name, "stance": rng.choice(("rumoured", "confirmed", "denied")),
                            "reported_at": REPORTS_FROM + at + timedelta(minutes=i)} for i, name in enumerate(names)]
                claim = ledger.log_claim(f"Claim {worker}.{step}: the convoy left checkpoint {step}",
                                         reports=reports, topics="aleppo")
                tally.claims.append(claim.id)
                tally.reports[claim.id] += len(reports)
                tally.events += 1 + len(reports)
                tally.sources.update(names)
            elif op == "add_report":
                claim_id, name = rng.choice(others), source_name()
                ledger.add_report(claim_id, name, rng.choice(("rumoured", "confirmed", "denied")), REPORTS_FROM + at)
                tally.reports[claim_id] += 1
                tally.events += 1
                tally.sources.add(name)
            elif op == "record_outcome":
                claim_id, verdict = rng.choice(others), rng.choice(list(Verdict))
                if not _from_version(tally, ledger, ledger.record_outcome, claim_id, verdict, OUTCOMES_FROM + at):
                    continue
                tally.outcomes[claim_id] += 1
                tally.events += 1
            elif op == "edit_claim":
                claim_id = rng.choice(others)
                if not _from_version(tally, ledger, ledger.edit_claim, claim_id, reason="clearer wording",
                                     statement=f"Claim restated by {me} at step {step}"):
                    continue
                tally.edits[claim_id] += 1
                tally.events += 1
            else:
                name = f"Desk {worker}-{step}"
                ledger.add_source(name, kind="news_outlet")
                tally.sources.add(name)
        except Exception as exc:  # noqa: BLE001 - anything but a counted conflict fails the test
            tally.errors.append(f"{op} at step {step}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            continue
        tally.writes += 1
    return tally


def _work_in_process(url: str, actor, worker: int, writes: int, start, results) -> None:
    """A worker in its own process: it opens the store itself, as another user's program would."""
    try:
        ledger = Ledger.open(url, clock=fixed_now, actor=actor)
        start.wait(timeout=120)
        tally = work(ledger, worker, writes)
        ledger.engine.dispose()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        tally = Tally(worker, errors=[f"worker process failed: {exc!r}\n{traceback.format_exc()}"])
    results.put(tally)


def run_threads(ledger: Ledger, actors: list, writes: int) -> list[Tally]:
    """One thread per actor over the shared engine, all started together."""
    start = threading.Barrier(len(actors))

    def one(worker: int) -> Tally:
        start.wait(timeout=60)
        return work(ledger.acting_as(actors[worker]), worker, writes)

    with ThreadPoolExecutor(len(actors)) as pool:
        return list(pool.map(one, range(len(actors))))


def run_processes(url: str, actors: list, writes: int) -> list[Tally]:
    """One process per actor, all started together.

    Each is forked from a fresh forkserver that has only imported this module, so no engine
    crosses a fork and no process pays for the imports again.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    start, results = context.Barrier(len(actors)), context.Queue()
    processes = [context.Process(target=_work_in_process, args=(url, actor, worker, writes, start, results))
                 for worker, actor in enumerate(actors)]
    for process in processes:
        process.start()
    try:
        tallies = [results.get(timeout=180) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
    return sorted(tallies, key=lambda t: t.worker)


def assert_store_holds(ledger: Ledger, tallies: list[Tally], *, accounts: int, revision_before: int) -> None:
    """The store holds exactly what the workers say they wrote, each change with its audit event."""
    errors = [error for t in tallies for error in t.errors]
    assert not errors, f"{len(errors)} error(s) surfaced; the first:\n{errors[0]}"
    claims = [c for t in tallies for c in t.claims]
    reports, outcomes, edits, sources = Counter(), Counter(), Counter(), set()
    for t in tallies:
        reports.update(t.reports)
        outcomes.update(t.outcomes)
        edits.update(t.edits)
        sources |= t.sources
    writes = sum(t.writes for t in tallies)

    with ledger.engine.connect() as db:
        def per_claim(model) -> Counter:
            return Counter(dict(db.execute(select(model.claim_id, func.count()).group_by(model.claim_id)).all()))

        stored_claims = dict(db.execute(select(Claim.id, Claim.version)).all())
        assert sorted(stored_claims) == sorted(claims), "claims lost or added"
        assert per_claim(Report) == reports, "reports lost or added"
        assert per_claim(Outcome) == outcomes, "outcomes lost or added"
        stored_sources = list(db.execute(select(Source.name)).scalars())
        assert sorted(stored_sources) == sorted(sources), "sources lost, added or created twice"

        by_action = Counter(dict(db.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all()))
        assert by_action == Counter({
            "account.create": accounts, "claim.create": len(claims), "report.create": reports.total(),
            "outcome.record": outcomes.total(), "claim.edit": edits.total(), "source.create": len(sources),
        })
        audited = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        assert audited == sum(t.events for t in tallies) + len(sources) + accounts
        # every change to a claim raised its version by one: versions 1..v, each in one event
        versions: dict[int, list[int]] = {}
        for claim_id, version in db.execute(select(AuditEvent.claim_id, AuditEvent.claim_version)
                                            .where(AuditEvent.claim_id.is_not(None))
                                            .order_by(AuditEvent.claim_id, AuditEvent.claim_version)):
            versions.setdefault(claim_id, []).append(version)
        for claim_id, version in stored_claims.items():
            assert version == 1 + reports[claim_id] + outcomes[claim_id] + edits[claim_id], f"claim #{claim_id}"
            assert versions[claim_id] == list(range(1, version + 1)), f"claim #{claim_id}: {versions[claim_id]}"
        # and every write raised the store's revision exactly once
        assert db.execute(select(StoreRevision.revision)).scalar_one() - revision_before == writes
    # the scores' kept stances (tracker.pairs) were brought up to date by each writer in turn
    assert stale(ledger.engine) == [] and kept(ledger.engine) == computed(ledger.engine)


def test_eight_threads_of_mixed_writes_lose_nothing(shared):
    actors = reviewers(shared, [f"reviewer{n}" for n in range(WORKERS)])
    before = shared.revision()
    tallies = run_threads(shared, actors, WRITES)
    assert_store_holds(shared, tallies, accounts=WORKERS + 1, revision_before=before)
    assert all(t.writes == WRITES for t in tallies)


def test_eight_processes_of_mixed_writes_on_one_sqlite_file_lose_nothing(db_path):
    url = f"sqlite:///{db_path}"
    ledger = Ledger.open(url, clock=fixed_now)
    try:
        actors = reviewers(ledger, [f"reviewer{n}" for n in range(WORKERS)])
        before = ledger.revision()
        tallies = run_processes(url, actors, WRITES)
        assert_store_holds(ledger, tallies, accounts=WORKERS + 1, revision_before=before)
        assert all(t.writes == WRITES for t in tallies)
    finally:
        ledger.engine.dispose()


@pytest.mark.parametrize("change", ["edit_claim", "record_outcome"])
def test_two_saves_from_the_same_version_one_wins_the_other_conflicts(shared, change):
    rita, sam = reviewers(shared, ["rita", "sam"])
    claim = shared.acting_as(rita).log_claim("The evacuation deal is back on track", reports=[
        {"source": "Western media", "stance": "rumoured", "reported_at": "14 December 2016 22:30"}])
    version = _claim_version(shared, claim.id)
    start = threading.Barrier(2)

    def save(actor, n: int):
        mine = shared.acting_as(actor)
        start.wait(timeout=30)
        try:
            if change == "edit_claim":
                return mine.edit_claim(claim.id, version=version, statement=f"Statement by {actor.name}")
            verdict = ("true", "false")[n]
            return mine.record_outcome(claim.id, verdict, "15 December 2016", version=version)
        except Exception as exc:  # noqa: BLE001 - the loser's answer, checked below
            return exc

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(save, (rita, sam), (0, 1)))
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(lost) == 1, results
    assert isinstance(lost[0], EditConflict), repr(lost[0])
    winner = (rita, sam)[results.index(next(r for r in results if not isinstance(r, Exception)))]
    message = str(lost[0])
    assert winner.name in message and "nothing was saved" in message
    view = shared.get_claim(claim.id)
    assert view.claim.version == version + 1
    if change == "edit_claim":
        assert "statement" in message and view.claim.statement == f"Statement by {winner.name}"
        assert [c.actor for c in shared.history(claim_id=claim.id, action="claim.edit")] == [winner.name]
    else:
        assert "verdict" in message and [o.reviewer for o in view.outcomes] == [winner.name]
        assert view.outcome.verdict == ("true", "false")[(rita, sam).index(winner)]
        assert [c.actor for c in shared.history(claim_id=claim.id, action="outcome.record")] == [winner.name]


def _hold_write_turn(url: str, seconds: float, holding: threading.Event, released: list) -> None:
    """Another writer's long transaction (a big import, say): it takes the write turn, then sits on it."""
    engine = store.make_engine(url)
    try:
        with store.for_writing(engine).begin() as connection:  # SQLite: BEGIN IMMEDIATE
            connection.execute(update(StoreRevision).values(revision=StoreRevision.revision + 1))
            holding.set()
            time.sleep(seconds)
            released.append(time.perf_counter())
    finally:
        engine.dispose()


def _write_behind(ledger: Ledger, url: str, seconds: float):
    """Log a claim while another connection holds the write turn for `seconds`.

    Returns the claim (or the exception raised) and whether the write finished only after the
    other transaction let go, i.e. whether it waited.
    """
    holding, released = threading.Event(), []
    holder = threading.Thread(target=_hold_write_turn, args=(url, seconds, holding, released))
    holder.start()
    try:
        assert holding.wait(30)
        try:
            result = ledger.log_claim("Buses were fired on", reports=[
                {"source": "Reconciliation Centre", "stance": "confirmed", "reported_at": "14 December 2016"}])
        except Exception as exc:  # noqa: BLE001 - checked by the caller
            result = exc
        finished = time.perf_counter()
    finally:
        holder.join()
    return result, bool(released) and finished > released[0]


def test_a_write_behind_a_long_write_transaction_waits_and_succeeds(shared, any_url):
    result, waited = _write_behind(shared, any_url, 1.5)
    assert isinstance(result, Claim), repr(result)
    assert waited  # it queued behind the other transaction rather than failing at once
    assert shared.counts()["claims"] == 1 and len(shared.history(action="claim.create")) == 1


def test_a_sqlite_lock_held_past_the_busy_timeout_is_retried_not_surfaced(db_path, monkeypatch):
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 200)  # each try gives up quickly, so `_begin` retries
    url = f"sqlite:///{db_path}"
    impatient = Ledger.open(url, clock=fixed_now)
    try:
        result, waited = _write_behind(impatient, url, 1.5)
        assert isinstance(result, Claim), repr(result)
        assert waited
    finally:
        impatient.engine.dispose()


def test_a_sqlite_store_busy_for_too_long_says_so_in_words(db_path, monkeypatch):
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(ledger_module, "BUSY_SECONDS", 0.5)
    url = f"sqlite:///{db_path}"
    impatient = Ledger.open(url, clock=fixed_now)
    try:
        result, _ = _write_behind(impatient, url, 2.0)
        assert isinstance(result, StoreBusy), repr(result)
        assert "database is locked" not in str(result) and "nothing was saved" in str(result)
        assert impatient.counts()["claims"] == 0
    finally:
        impatient.engine.dispose()
