"""Real data: the PHEME rumour tweets shipped in data/pheme, converted, imported and self-scored."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from click.testing import CliRunner

from tests.conftest import NOW, REPO
from tracker.cli import main
from tracker.dates import parse_when
from tracker.errors import ImportRejected, ValidationError
from tracker.evidence import load_evidence
from tracker.interchange import CSV_COLUMNS, import_file
from tracker.ledger import Ledger
from tracker.pheme import convert
from tracker.scoring import calibration
from tracker.selfscore import assess

PHEME = REPO / "data" / "pheme" / "pheme-dev.csv"
ROWS, TRUE, FALSE, UNVERIFIED = 1450, 626, 307, 517


def read(path) -> list[dict]:
    """A CSV file's rows as dicts."""
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict:
    """The shipped PHEME file converted under each settle-time assumption (1 minute by the CLI,
    as docs/pheme.md does it)."""
    folder = tmp_path_factory.mktemp("pheme")
    paths = {"1m": folder / "pheme-1m.csv", "1d": folder / "pheme-1d.csv", "event_end": folder / "pheme-event-end.csv"}
    done = CliRunner().invoke(main, ["pheme-csv", str(PHEME), str(paths["1m"]), "--settle-after-minutes", "1"])
    assert done.exit_code == 0, done.output
    assert convert(PHEME, paths["1d"], settle_after_days=1) == ROWS
    assert convert(PHEME, paths["event_end"], event_end=True) == ROWS
    return paths


def open_store(folder) -> Ledger:
    """A ledger over a fresh SQLite file in `folder`, with the tests' fixed clock."""
    return Ledger.open(str(folder / "tracker.db"), clock=lambda: NOW)


@pytest.fixture(scope="module")
def stores(converted, tmp_path_factory) -> dict:
    """Each converted file imported into its own SQLite file: {assumption: (ledger, summary)}."""
    out = {}
    for name, path in converted.items():
        ledger = open_store(tmp_path_factory.mktemp(f"store-{name}"))
        out[name] = (ledger, import_file(ledger, path))
    yield out
    for ledger, _ in out.values():
        ledger.engine.dispose()


@pytest.fixture(scope="module")
def scored(stores) -> dict:
    """Each store's self-assessment ({assumption: forecaster: Brier at report time}), as
    `tracker calibration` prints it."""
    out = {}
    for name, (ledger, _) in stores.items():
        comparison = assess(load_evidence(ledger.engine)).comparison
        assert comparison["claims"].tolist() == [TRUE + FALSE] * len(comparison)
        out[name] = dict(zip(comparison["forecaster"], comparison["brier"]))
    return out


def test_the_shipped_file_is_inside_the_project_with_its_attribution():
    assert PHEME.is_file() and len(read(PHEME)) == ROWS
    readme = (PHEME.parent / "README.md").read_text(encoding="utf-8")
    for must in ("Kochkina", "Liakata", "Zubiaga", "10.6084/m9.figshare.6392078", "CC-BY 4.0", "Twitter"):
        assert must in readme


def test_conversion_follows_the_contract_one_rumoured_claim_per_tweet(converted):
    source, rows = read(PHEME), read(converted["1d"])
    assert len(rows) == ROWS and set(rows[0]) <= set(CSV_COLUMNS)
    assert len({r["claim_ref"] for r in rows}) == ROWS
    assert {r["stance"] for r in rows} == {"rumoured"}
    mapping = {"true": "true", "false": "false", "unverified": "unverifiable"}
    for src, row in zip(source, rows):
        assert row["claim_ref"] == f"pheme-{src['tweet_id']}"
        assert row["outcome"] == mapping[src["veracity"]]
        assert row["reported_at"] == src["created_at"] and row["topic"] == src["event"]
        assert row["source"] == src["source"]
        assert parse_when(row["outcome_at"]) == parse_when(src["created_at"]) + timedelta(days=1)
    counts = {v: sum(r["outcome"] == v for r in rows) for v in ("true", "false", "unverifiable")}
    assert counts == {"true": TRUE, "false": FALSE, "unverifiable": UNVERIFIED}


def test_one_minute_settles_each_claim_a_minute_after_its_tweet(converted):
    rows = read(converted["1m"])
    assert len(rows) == ROWS
    for row in rows:
        assert parse_when(row["outcome_at"]) == parse_when(row["reported_at"]) + timedelta(minutes=1)


def test_event_end_settles_every_claim_of_an_event_a_day_after_its_last_tweet(converted):
    rows = read(converted["event_end"])
    for event in {r["topic"] for r in rows}:
        mine = [r for r in rows if r["topic"] == event]
        last = max(parse_when(r["reported_at"]) for r in mine)
        assert {parse_when(r["outcome_at"]) for r in mine} == {last + timedelta(days=1)}


def test_import_creates_1450_claims_and_adds_nothing_the_second_time(stores, converted):
    ledger, summary = stores["1d"]
    assert (summary.claims_created, summary.reports_added, summary.outcomes_added) == (ROWS, ROWS, ROWS)
    assert summary.sources_created == len({r["source"].casefold() for r in read(PHEME)})
    stored = {v.claim.ref: v.claim.statement for v in ledger.claim_views()}
    assert stored == {f"pheme-{r['tweet_id']}": r["statement"] for r in read(PHEME)}  # '@...' survives the guard
    again = import_file(ledger, converted["1d"])
    assert (again.claims_created, again.reports_added, again.outcomes_added) == (0, 0, 0)
    assert again.claims_matched == ROWS and again.reports_skipped == ROWS


def test_identical_tweet_texts_under_different_ids_stay_two_claims(stores):
    ledger, _ = stores["1d"]
    text = "#Ferguson PD releases robbery incident report smearing #MikeBrown but not shooting"
    views = [v for v in ledger.claim_views() if v.claim.statement.startswith(text)]
    assert sorted(v.claim.ref for v in views) == ["pheme-500290977798836225", "pheme-500300944891199488"]


def test_one_bad_row_rejects_the_whole_file(converted, tmp_path):
    rows = read(converted["1d"])
    rows[-1]["outcome_at"] = "2014-01-01T00:00Z"  # before the tweet: impossible
    bad = tmp_path / "bad.csv"
    with open(bad, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ledger = open_store(tmp_path)
    with pytest.raises(ImportRejected) as rejected:
        import_file(ledger, bad)
    assert [e.row for e in rejected.value.errors] == [f"row {ROWS + 1}"]
    assert ledger.counts()["claims"] == 0
    ledger.engine.dispose()


@pytest.mark.parametrize("assumption", ["1d", "event_end"])
def test_the_previous_scorer_scores_every_true_or_false_claim_and_ties_the_base_rate(stores, assumption):
    # The previous scorer (tracker.scoring), kept as the named baseline. Measured (docs/pheme.md):
    # Brier 0.2592 / 0.2593 beside the running base rate's 0.2592 / 0.2591. One rumoured tweet per
    # claim moves its p_true little from the base rate, and the base rate, pooled over events whose
    # truth rates differ (0.46 to 0.82), does no better than a constant 0.5 (0.25).
    ledger, _ = stores[assumption]
    result = calibration(load_evidence(ledger.engine))
    assert result.claims == TRUE + FALSE  # unverifiable counts for nothing
    assert 0.255 < result.brier < 0.263
    assert abs(result.brier - result.base_rate_brier) < 0.005
    assert result.table["claims"].sum() == TRUE + FALSE


def test_every_scorer_is_compared_on_the_same_claims(scored):
    for figures in scored.values():
        assert list(figures) == ["tracker", "previous scorer", "running base rate", "majority vote", "constant 0.5"]
        assert figures["constant 0.5"] == pytest.approx(0.25)
        # every tweet is a rumour, so majority vote says "true" every time: Brier = the share false
        assert figures["majority vote"] == pytest.approx(FALSE / (TRUE + FALSE))


def test_outcomes_known_a_minute_later_the_tracker_is_clearly_below_the_running_base_rate(scored):
    # measured (docs/pheme.md): tracker 0.2079, running base rate 0.2228, previous scorer 0.2213
    figures = scored["1m"]
    assert figures["tracker"] <= figures["running base rate"] - 0.005
    assert figures["tracker"] < figures["previous scorer"]


def test_outcomes_known_a_day_later_the_tracker_is_below_the_base_rate_and_near_a_coin(scored):
    # measured (docs/pheme.md): tracker 0.2486, running base rate 0.2592, constant 0.5 0.2500
    figures = scored["1d"]
    assert figures["tracker"] < figures["running base rate"]
    assert figures["tracker"] <= figures["constant 0.5"] + 0.01


def test_outcomes_known_at_event_end_the_tracker_is_below_the_base_rate(scored):
    # measured (docs/pheme.md): tracker 0.2451, running base rate 0.2591: each event predicted
    # only from the events before it, counted once each rather than by their number of claims
    figures = scored["event_end"]
    assert figures["tracker"] < figures["running base rate"]
    assert figures["tracker"] < figures["previous scorer"]


def test_cli_converts_with_one_assumption_at_most(tmp_path):
    runner = CliRunner()
    out = tmp_path / "out.csv"
    done = runner.invoke(main, ["pheme-csv", str(PHEME), str(out), "--settle-after-days", "2"])
    assert done.exit_code == 0 and f"wrote {ROWS} rows" in done.output
    first = read(out)[0]
    assert parse_when(first["outcome_at"]) == parse_when(first["reported_at"]) + timedelta(days=2)
    done = runner.invoke(main, ["pheme-csv", str(PHEME), str(out), "--settle-after-minutes", "90"])
    assert done.exit_code == 0 and "90 minute(s) after each tweet" in done.output
    for row in read(out):
        assert parse_when(row["outcome_at"]) == parse_when(row["reported_at"]) + timedelta(minutes=90)
    for pair in (["--settle-after-days", "1", "--settle-at-event-end"],
                 ["--settle-after-minutes", "1", "--settle-at-event-end"],
                 ["--settle-after-days", "1", "--settle-after-minutes", "1"]):
        both = runner.invoke(main, ["pheme-csv", str(PHEME), str(out), *pair])
        assert both.exit_code != 0 and "not both" in both.output


def test_a_file_that_is_not_pheme_is_refused(tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("event,tweet_id,source\nx,1,y\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="missing column"):
        convert(wrong, tmp_path / "out.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("event,tweet_id,source,verified_account,created_at,statement,veracity\n"
                   "e,1,acc,True,Fri Jan 09 12:29:56 +0000 2015,text,maybe\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="row 2: veracity"):
        convert(bad, tmp_path / "out.csv")
