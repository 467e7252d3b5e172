"""tracker.ledger.Ledger: the service layer, against real SQLite files with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import NOW
from tracker.errors import DuplicateError, LedgerError, NotFoundError, ValidationError
from tracker.ledger import Ledger, normalise_topics
from tracker.models import ClaimStatus

UTC = UTC
TABLES = ("source", "source_alias", "claim", "claim_topic", "report", "outcome")

CEASEFIRE = "Russia has rejected a ceasefire in Aleppo and the fighting has resumed"
RESOLVED_SOON = "The situation in eastern Aleppo will be resolved within two or three days"


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def snapshot(ledger: Ledger) -> dict[str, list[tuple]]:
    """Every row of every ledger table, straight from the SQLite file."""
    with ledger.engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2")]
            for table in TABLES
        }


def source_named(ledger: Ledger, name: str) -> dict:
    return next(s for s in ledger.list_sources() if s["name"] == name)


def claim_id_by_ref(ledger: Ledger, ref: str) -> int:
    return next(v.claim.id for v in ledger.claim_views() if v.claim.ref == ref)


@pytest.fixture
def base(ledger) -> Ledger:
    """Two sources (one with an alias), a claim with a ref and a report, and a ref-less claim."""
    ledger.add_source("Kremlin", kind="government", affiliation="Russia")
    ledger.add_source("Sergei Lavrov", kind="official", affiliation="Russia", aliases=["Lavrov"])
    ledger.log_claim(
        CEASEFIRE, ref="aleppo-04", topics=["aleppo"],
        reports=[{"source": "Sergei Lavrov", "stance": "confirmed", "reported_at": "2016-12-14T08:00Z"}],
    )
    ledger.log_claim(
        RESOLVED_SOON,
        reports=[{"source": "Lavrov", "stance": "confirmed", "reported_at": "2016-12-14T08:45Z"}],
    )
    return ledger


# -- log_claim -------------------------------------------------------------------------------

def test_log_claim_writes_claim_and_reports_first_reported_at_earliest_report(ledger):
    claim = ledger.log_claim(
        "Russia and Turkey have agreed a deal for eastern Aleppo to be evacuated",
        ref="aleppo-01",
        reports=[
            {"source": "Turkish officials", "stance": "confirmed", "reported_at": "2016-12-13T16:00Z"},
            {"source": "Rebel officials", "stance": "confirmed", "reported_at": "2016-12-13T15:00Z"},
            {"source": "Western media", "stance": "rumoured", "reported_at": "13 December 2016 19:00 +0200",
             "via": "Rebel officials", "url": "https://example.org/a", "quote": "  a deal  ", "note": "relayed"},
        ],
    )
    assert ledger.counts() == {"sources": 3, "claims": 1, "reports": 3, "outcomes": 0}
    view = ledger.get_claim(claim.id)
    assert view.claim.ref == "aleppo-01"
    assert view.claim.first_reported_at == utc(2016, 12, 13, 15, 0)
    assert view.claim.logged_at == NOW
    # reports come back in time order, with source and relay names
    assert [(r.reported_at, name, via) for r, name, via in view.reports] == [
        (utc(2016, 12, 13, 15, 0), "Rebel officials", None),
        (utc(2016, 12, 13, 16, 0), "Turkish officials", None),
        (utc(2016, 12, 13, 17, 0), "Western media", "Rebel officials"),
    ]
    relayed = view.reports[-1][0]
    assert (relayed.stance, relayed.url, relayed.quote, relayed.note) == ("rumoured", "https://example.org/a", "a deal", "relayed")
    assert view.status == ClaimStatus.confirmed


def test_log_claim_without_reports_is_first_reported_now_and_unreported(ledger):
    claim = ledger.log_claim("Erdogan and Putin discussed Aleppo by telephone on 14 December")
    view = ledger.get_claim(claim.id)
    assert view.claim.first_reported_at == NOW
    assert view.reports == [] and view.timeline == []
    assert view.status == ClaimStatus.unreported


def test_log_claim_explicit_first_reported_at_moves_back_to_an_earlier_report(ledger):
    claim = ledger.log_claim(
        RESOLVED_SOON, first_reported_at="2016-12-15",
        reports=[{"source": "Lavrov", "stance": "confirmed", "reported_at": "2016-12-14T08:45Z"}],
    )
    assert ledger.get_claim(claim.id).claim.first_reported_at == utc(2016, 12, 14, 8, 45)


def test_log_claim_folds_white_space_in_statement(ledger):
    claim = ledger.log_claim("  The evacuation\n of eastern Aleppo\tis back on track  ")
    assert ledger.get_claim(claim.id).claim.statement == "The evacuation of eastern Aleppo is back on track"


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        ("Aleppo; evacuation ;aleppo", ["aleppo", "evacuation"]),
        (["Aleppo", " evacuation ", "ALEPPO", ""], ["aleppo", "evacuation"]),
        ("Ceasefire;  UN   Security Council ;", ["ceasefire", "un security council"]),
        (None, []),
        ("", []),
    ],
)
def test_log_claim_normalises_topics(ledger, topics, expected):
    claim = ledger.log_claim(CEASEFIRE, topics=topics)
    assert ledger.get_claim(claim.id).topics == sorted(expected)
    assert normalise_topics(topics) == expected


def test_normalise_topics_keeps_first_seen_order():
    assert normalise_topics("Evacuation;aleppo;EVACUATION;Diplomacy") == ["evacuation", "aleppo", "diplomacy"]


def test_log_claim_expected_by_is_stored(ledger):
    claim = ledger.log_claim(
        RESOLVED_SOON, expected_by="17 December 2016",
        reports=[{"source": "Lavrov", "stance": "confirmed", "reported_at": "2016-12-14T08:45Z"}],
    )
    assert ledger.get_claim(claim.id).claim.expected_by == utc(2016, 12, 17)


def test_log_claim_with_one_bad_report_among_several_writes_nothing(ledger):
    ledger.add_source("Kremlin")
    before = snapshot(ledger)
    reports = [
        {"source": "TASS", "stance": "confirmed", "reported_at": "2016-12-14T08:00Z"},
        {"source": "Kremlin", "stance": "confirmed", "reported_at": "2016-12-14T09:00Z"},
        {"source": "RIA Novosti", "stance": "maybe", "reported_at": "2016-12-14T10:00Z"},
    ]
    with pytest.raises(ValidationError, match=r"report 3: unknown stance 'maybe'"):
        ledger.log_claim(CEASEFIRE, ref="aleppo-04", topics="aleppo", reports=reports)
    assert snapshot(ledger) == before
    assert [s["name"] for s in ledger.list_sources()] == ["Kremlin"]  # TASS was not created
    # the ref and the statement are still free: the fixed claim goes in
    reports[2]["stance"] = "rumoured"
    claim = ledger.log_claim(CEASEFIRE, ref="aleppo-04", topics="aleppo", reports=reports)
    assert len(ledger.get_claim(claim.id).reports) == 3


@pytest.mark.parametrize(
    ("bad_report", "error", "match"),
    [
        ({"source": "TASS", "stance": "confirmed", "reported_at": "the day before"}, ValidationError, r"report 2.*'the day before'"),
        ({"source": "TASS", "stance": "confirmed", "reported_at": "2027-01-01"}, ValidationError, r"report 2.*future"),
        ({"source": "", "stance": "confirmed", "reported_at": "2016-12-14"}, ValidationError, r"report 2.*source name is empty"),
        ({"source": "TASS", "stance": "confirmed", "reported_at": "2016-12-14", "via": "tass"}, ValidationError,
         r"report 2.*relay itself"),
        ({"source": "Kremlin", "stance": "confirmed", "reported_at": "2016-12-14T08:00Z"}, DuplicateError,
         r"report 2.*already has a 'confirmed' report"),
    ],
)
def test_log_claim_reports_which_report_is_bad_and_writes_nothing(ledger, bad_report, error, match):
    before = snapshot(ledger)
    reports = [{"source": "Kremlin", "stance": "confirmed", "reported_at": "2016-12-14T08:00Z"}, bad_report]
    with pytest.raises(error, match=match):
        ledger.log_claim(CEASEFIRE, reports=reports)
    assert snapshot(ledger) == before


# -- validation: every refused write names the problem and leaves the store unchanged ----------

INVALID = [
    pytest.param(lambda l, cid: l.log_claim(""), ValidationError, r"statement is empty", id="empty-statement"),
    pytest.param(lambda l, cid: l.log_claim(" \n\t  "), ValidationError, r"statement is empty", id="blank-statement"),
    pytest.param(lambda l, cid: l.log_claim("x" * 10_001), ValidationError, r"longer than", id="overlong-statement"),
    pytest.param(lambda l, cid: l.add_report(cid, "Kremlin", "maybe", "2016-12-14T09:00Z"),
                 ValidationError, r"unknown stance 'maybe'; use one of: rumoured, confirmed, denied", id="unknown-stance"),
    pytest.param(lambda l, cid: l.add_report(cid, "Kremlin", "", "2016-12-14T09:00Z"),
                 ValidationError, r"the stance is empty; use one of", id="missing-stance"),
    pytest.param(lambda l, cid: l.record_outcome(cid, "mostly", "2016-12-15"),
                 ValidationError, r"unknown verdict 'mostly'; use one of: true, false, partly_true, unverifiable",
                 id="unknown-verdict"),
    pytest.param(lambda l, cid: l.record_outcome(cid, "true", "2016-12-13T23:00Z"),
                 ValidationError, r"dated before claim #1 was first reported \(2016-12-14 08:00\)",
                 id="outcome-before-first-report"),
    pytest.param(lambda l, cid: l.add_report(cid, "Kremlin", "denied", NOW + timedelta(minutes=6)),
                 ValidationError, r"report's time .* is in the future", id="report-in-future"),
    pytest.param(lambda l, cid: l.add_report(cid, "Kremlin", "denied", "2027-01-01"),
                 ValidationError, r"in the future", id="report-next-year"),
    pytest.param(lambda l, cid: l.record_outcome(cid, "true", NOW + timedelta(minutes=6)),
                 ValidationError, r"outcome's time .* is in the future", id="outcome-in-future"),
    pytest.param(lambda l, cid: l.log_claim("New claim", first_reported_at="2030-01-01"),
                 ValidationError, r"first-reported time .* is in the future", id="claim-first-reported-in-future"),
    pytest.param(lambda l, cid: l.add_report(cid, "Sergei Lavrov", "confirmed", "2016-12-14T08:00Z"),
                 DuplicateError, r"Sergei Lavrov already has a 'confirmed' report on claim #1 at 2016-12-14 08:00",
                 id="duplicate-report"),
    pytest.param(lambda l, cid: l.add_report(cid, "lavrov", "confirmed", "2016-12-14T10:00+02:00"),
                 DuplicateError, r"already has", id="duplicate-report-by-alias-and-other-zone"),
    pytest.param(lambda l, cid: l.log_claim("  The situation in eastern Aleppo will be resolved\nwithin two or three days"),
                 DuplicateError, r"claim #2 already says exactly this; add a report", id="duplicate-statement"),
    pytest.param(lambda l, cid: l.log_claim("Fighting resumed", ref="aleppo-04"),
                 DuplicateError, r"reference 'aleppo-04' already exists", id="ref-reused"),
    pytest.param(lambda l, cid: l.add_report(cid, "Kremlin", "denied", "the day before"),
                 ValidationError, r"the report's time: 'the day before' is not a date", id="unparsable-report-date"),
    pytest.param(lambda l, cid: l.record_outcome(cid, "true", "December 2016"),
                 ValidationError, r"the outcome's time: 'December 2016' has no day", id="unparsable-outcome-date"),
    pytest.param(lambda l, cid: l.log_claim("New claim", first_reported_at="soon"),
                 ValidationError, r"the first-reported time: 'soon'", id="unparsable-first-reported"),
    pytest.param(lambda l, cid: l.log_claim("New claim", expected_by="Wednesday 13th December 2016",
                                            first_reported_at="2016-12-01"),
                 ValidationError, r"the expected-by date: .*Wednesday", id="unparsable-expected-by"),
    pytest.param(lambda l, cid: l.add_report(cid, "Kremlin", "confirmed", "2016-12-14T09:00Z", via="KREMLIN"),
                 ValidationError, r"'Kremlin' cannot relay itself", id="via-is-source"),
    pytest.param(lambda l, cid: l.add_report(cid, "Sergei Lavrov", "confirmed", "2016-12-14T09:00Z", via="Lavrov"),
                 ValidationError, r"cannot relay itself", id="via-is-source-by-alias"),
    pytest.param(lambda l, cid: l.log_claim(
        "Fighters will leave by morning", expected_by="2016-12-13",
        reports=[{"source": "Kremlin", "stance": "rumoured", "reported_at": "2016-12-14T08:00Z"}]),
                 ValidationError, r"expected-by \(13 Dec 2016\) is before the claim was first reported \(14 Dec 2016\)",
                 id="expected-by-before-first-report"),
    pytest.param(lambda l, cid: l.add_report(999, "Kremlin", "confirmed", "2016-12-14"),
                 NotFoundError, r"no claim #999", id="report-on-unknown-claim"),
    pytest.param(lambda l, cid: l.record_outcome(999, "true", "2016-12-15"),
                 NotFoundError, r"no claim #999", id="outcome-on-unknown-claim"),
    pytest.param(lambda l, cid: l.add_report(cid, "Nobody", "confirmed", "2016-12-14", create_sources=False),
                 NotFoundError, r"no source is called 'Nobody'", id="unknown-source-not-created"),
    pytest.param(lambda l, cid: l.add_source("Ministry", parent="Nobody"),
                 NotFoundError, r"no source is called 'Nobody'", id="unknown-parent"),
    pytest.param(lambda l, cid: l.add_source("   "), ValidationError, r"source name is empty", id="empty-source-name"),
    pytest.param(lambda l, cid: l.add_source("TASS", kind="wire"), ValidationError, r"unknown source kind 'wire'",
                 id="unknown-source-kind"),
    pytest.param(lambda l, cid: l.add_source("kremlin"), DuplicateError,
                 r"'kremlin' is already used by the source 'Kremlin'", id="source-name-other-case"),
    pytest.param(lambda l, cid: l.add_source("  KREMLIN "), DuplicateError, r"already used", id="source-name-upper-spaced"),
    pytest.param(lambda l, cid: l.add_source("lavrov"), DuplicateError,
                 r"'lavrov' is already used by the source 'Sergei Lavrov'", id="source-name-is-alias"),
    pytest.param(lambda l, cid: l.add_source("Vladimir Putin", aliases=["Putin", "kremlin"]), DuplicateError,
                 r"'kremlin' is already used by the source 'Kremlin'", id="new-alias-is-other-source-name"),
    pytest.param(lambda l, cid: l.add_alias("Sergei Lavrov", "Kremlin"), DuplicateError,
                 r"'Kremlin' is already used by the source 'Kremlin'", id="alias-is-other-source-name"),
    pytest.param(lambda l, cid: l.add_alias("Kremlin", "LAVROV"), DuplicateError,
                 r"already used by the source 'Sergei Lavrov'", id="alias-is-other-source-alias"),
    pytest.param(lambda l, cid: l.add_alias("Nobody", "Nobody at all"), NotFoundError, r"'Nobody'",
                 id="alias-for-unknown-source"),
    pytest.param(lambda l, cid: l.rename_source("Kremlin", "Lavrov"), DuplicateError,
                 r"'Lavrov' is already used by the source 'Sergei Lavrov'", id="rename-to-taken-name"),
    pytest.param(lambda l, cid: l.rename_source("Nobody", "Somebody"), NotFoundError, r"'Nobody'",
                 id="rename-unknown-source"),
    pytest.param(lambda l, cid: l.merge_sources("Lavrov", "sergei lavrov"), ValidationError,
                 r"are the same source; nothing to merge", id="merge-into-itself"),
    pytest.param(lambda l, cid: l.merge_sources("Nobody", "Kremlin"), NotFoundError, r"'Nobody'",
                 id="merge-unknown-source"),
]


@pytest.mark.parametrize(("call", "error", "match"), INVALID)
def test_refused_write_raises_actionable_error_and_changes_nothing(base, call, error, match):
    claim_id = claim_id_by_ref(base, "aleppo-04")
    assert claim_id == 1
    counts, before = base.counts(), snapshot(base)
    with pytest.raises(error, match=match):
        call(base, claim_id)
    assert base.counts() == counts
    assert snapshot(base) == before


@pytest.mark.parametrize(
    ("reported_at", "accepted"),
    [(NOW, True), (NOW + timedelta(minutes=5), True), (NOW + timedelta(minutes=5, seconds=1), False)],
)
def test_reports_may_be_at_most_five_minutes_ahead_of_the_clock(base, reported_at, accepted):
    if accepted:
        base.add_report(1, "Kremlin", "denied", reported_at)
        assert base.counts()["reports"] == 3
    else:
        with pytest.raises(ValidationError, match="future"):
            base.add_report(1, "Kremlin", "denied", reported_at)


def test_error_classes_form_a_hierarchy():
    assert issubclass(DuplicateError, ValidationError)
    assert issubclass(ValidationError, LedgerError) and issubclass(NotFoundError, LedgerError)
    assert not issubclass(NotFoundError, ValidationError)


def test_get_claim_of_unknown_id_is_not_found(base):
    with pytest.raises(NotFoundError, match="#42"):
        base.get_claim(42)


def test_claim_with_a_ref_may_repeat_a_statement(base):
    # refs identify imported claims; only ref-less claims are matched by statement
    base.log_claim(RESOLVED_SOON, ref="aleppo-09")
    assert base.counts()["claims"] == 3


# -- reports ---------------------------------------------------------------------------------

def test_add_report_by_alias_attaches_to_the_source(base):
    sources_before = base.counts()["sources"]
    report = base.add_report(1, "lavrov", "confirmed", "2016-12-14T09:00Z")
    assert base.counts()["sources"] == sources_before
    assert report.source_id == source_named(base, "Sergei Lavrov")["id"]
    assert [name for _, name, _ in base.get_claim(1).reports] == ["Sergei Lavrov", "Sergei Lavrov"]


def test_add_report_creates_unknown_source_as_other(base):
    base.add_report(1, "TASS", "rumoured", "2016-12-14T09:00Z", via="Kremlin")
    tass = source_named(base, "TASS")
    assert (tass["kind"], tass["reports"], tass["claims"]) == ("other", 1, 1)
    assert base.get_claim(1).reports[-1][2] == "Kremlin"


def test_same_source_may_report_again_with_another_stance_or_time(base):
    base.add_report(1, "Sergei Lavrov", "denied", "2016-12-14T08:00Z")
    base.add_report(1, "Sergei Lavrov", "confirmed", "2016-12-15T08:00Z")
    assert base.counts()["reports"] == 4


def test_earlier_report_moves_first_reported_at_back(base):
    base.add_report(1, "Kremlin", "rumoured", "2016-12-13T22:00Z")
    assert base.get_claim(1).claim.first_reported_at == utc(2016, 12, 13, 22, 0)


def test_source_report_timeline_replaces_a_sources_earlier_stance(ledger):
    claim = ledger.log_claim(
        CEASEFIRE,
        reports=[{"source": "Kremlin", "stance": "rumoured", "reported_at": "2016-12-14T08:00Z"},
                 {"source": "kremlin", "stance": "denied", "reported_at": "2016-12-14T09:00Z"}],
    )
    view = ledger.get_claim(claim.id)
    assert view.timeline == [(utc(2016, 12, 14, 8, 0), ClaimStatus.rumoured), (utc(2016, 12, 14, 9, 0), ClaimStatus.denied)]
    assert view.status == ClaimStatus.denied


# -- sources ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "second"), [("Kremlin", "kremlin"), ("Kremlin", "KREMLIN"),
                                               ("Sergei Lavrov", "sergei   lavrov"), ("Straße", "STRASSE")])
def test_source_names_are_unique_case_insensitively(ledger, first, second):
    ledger.add_source(first)
    with pytest.raises(DuplicateError, match=f"already used by the source '{first}'"):
        ledger.add_source(second)
    assert ledger.counts()["sources"] == 1


def test_add_source_keeps_details_aliases_and_parent(ledger):
    ledger.add_source("Russian Foreign Ministry", kind="government", affiliation="Russia")
    ledger.add_source("Sergei Lavrov", kind="OFFICIAL", affiliation=" Russia ", url="https://mid.ru",
                      notes="  Russian Foreign Minister ", aliases=["Lavrov", "S. Lavrov"], parent="russian foreign ministry")
    lavrov = source_named(ledger, "Sergei Lavrov")
    assert lavrov["kind"] == "official"
    assert lavrov["affiliation"] == "Russia"
    assert lavrov["notes"] == "Russian Foreign Minister"
    assert lavrov["aliases"] == ["Lavrov", "S. Lavrov"]
    assert lavrov["parent"] == "Russian Foreign Ministry"


def test_list_sources_is_by_name_with_report_and_claim_counts(base):
    base.add_report(2, "Kremlin", "denied", "2016-12-14T12:00Z")
    base.add_report(2, "Kremlin", "confirmed", "2016-12-15T12:00Z")
    assert [(s["name"], s["reports"], s["claims"]) for s in base.list_sources()] == [
        ("Kremlin", 2, 1), ("Sergei Lavrov", 2, 2),
    ]


@pytest.mark.parametrize("loop", ["self", "two", "three"])
def test_parent_loop_is_refused(ledger, loop):
    ledger.add_source("A")
    ledger.add_source("B", parent="A")
    ledger.add_source("C", parent="B")
    child, parent = {"self": ("A", "A"), "two": ("A", "B"), "three": ("A", "C")}[loop]
    before = snapshot(ledger)
    with pytest.raises(ValidationError, match="would make a loop"):
        with ledger.transaction() as w:
            w.update_source(w.source(child, create=False), parent=parent)
    assert snapshot(ledger) == before


def test_rename_source_keeps_old_name_as_alias(base):
    base.rename_source("Kremlin", "Russian Presidency")
    renamed = source_named(base, "Russian Presidency")
    assert renamed["aliases"] == ["Kremlin"]
    report = base.add_report(1, "kremlin", "denied", "2016-12-14T12:00Z")
    assert report.source_id == renamed["id"]
    assert base.counts()["sources"] == 2
    with pytest.raises(DuplicateError, match="already used by the source 'Russian Presidency'"):
        base.add_source("Kremlin")


def test_rename_source_by_alias_and_twice_keeps_every_old_name(base):
    base.rename_source("lavrov", "Sergey Lavrov")
    base.rename_source("Sergey Lavrov", "Sergei Viktorovich Lavrov")
    source = source_named(base, "Sergei Viktorovich Lavrov")
    assert source["aliases"] == ["Lavrov", "Sergei Lavrov", "Sergey Lavrov"]
    assert source["reports"] == 2


def test_rename_source_changing_only_case_adds_no_alias(base):
    base.rename_source("Kremlin", "KREMLIN")
    assert source_named(base, "KREMLIN")["aliases"] == []


def test_rename_source_to_one_of_its_own_aliases_promotes_it(base):
    base.rename_source("Sergei Lavrov", "Lavrov")
    source = source_named(base, "Lavrov")
    assert source["aliases"] == ["Sergei Lavrov"]
    assert base.add_report(1, "sergei lavrov", "denied", "2016-12-14T12:00Z").source_id == source["id"]


@pytest.fixture
def merge_case(ledger) -> Ledger:
    """'Russian Presidency' was logged separately from 'Kremlin'; both said the same once."""
    ledger.add_source("Russia", kind="government")
    ledger.add_source("Kremlin", kind="government", url="http://en.kremlin.ru")
    ledger.add_source("Russian Presidency", kind="government", affiliation="Russia", parent="Russia",
                      aliases=["Presidency"])
    ledger.add_source("Presidential press service", parent="Russian Presidency")
    ledger.log_claim(
        CEASEFIRE, ref="c1",
        reports=[
            {"source": "Kremlin", "stance": "confirmed", "reported_at": "2016-12-14T08:00Z"},
            # logged under both names: the same report
            {"source": "Russian Presidency", "stance": "confirmed", "reported_at": "2016-12-14T08:00Z"},
            {"source": "Russian Presidency", "stance": "denied", "reported_at": "2016-12-14T10:00Z"},
            {"source": "TASS", "stance": "confirmed", "reported_at": "2016-12-14T09:00Z", "via": "Russian Presidency"},
            {"source": "Kremlin", "stance": "rumoured", "reported_at": "2016-12-14T07:00Z", "via": "Russian Presidency"},
        ],
    )
    return ledger


def test_merge_sources_moves_reports_relays_aliases_and_children(merge_case):
    before = merge_case.counts()
    kept = merge_case.merge_sources("Russian Presidency", "kremlin")
    assert kept.name == "Kremlin"
    assert merge_case.counts() == {**before, "sources": before["sources"] - 1, "reports": before["reports"] - 1}
    kremlin = source_named(merge_case, "Kremlin")
    assert kremlin["aliases"] == ["Presidency", "Russian Presidency"]
    assert kremlin["url"] == "http://en.kremlin.ru"
    assert kremlin["affiliation"] == "Russia"  # filled in from the duplicate
    assert kremlin["reports"] == 3  # 07:00 and 08:00 of its own, 10:00 moved over
    assert source_named(merge_case, "Presidential press service")["parent"] == "Kremlin"
    view = merge_case.get_claim(1)
    rows = [(r.stance, r.reported_at.hour, name, via) for r, name, via in view.live_reports]
    assert rows == [
        ("rumoured", 7, "Kremlin", None),  # it no longer relays itself
        ("confirmed", 8, "Kremlin", None),  # the one copy left of the identical report
        ("confirmed", 9, "TASS", "Kremlin"),
        ("denied", 10, "Kremlin", None),
    ]
    # nothing is deleted: the duplicate's copy stays, under its old name, retracted with the reason
    [duplicate] = [(r, name) for r, name, _ in view.reports if r.retracted_at is not None]
    assert duplicate[1] == "Russian Presidency"
    assert duplicate[0].retraction_reason.startswith("duplicate of report #")
    [merge] = merge_case.history(action="source.merge")
    assert merge.after["merged_into"] == "Kremlin" and merge.before["name"] == "Russian Presidency"
    assert merge.after["reports_retracted_as_duplicates"] == [duplicate[0].id]
    # the old name and its aliases find the kept source
    for hour, name in enumerate(("Russian Presidency", "presidency")):
        assert merge_case.add_report(1, name, "rumoured", utc(2016, 12, 15, hour)).source_id == kremlin["id"]
        with pytest.raises(DuplicateError):
            merge_case.add_source(name)
    with merge_case.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []


def test_merge_into_a_child_of_the_duplicate_takes_over_its_parent(merge_case):
    merge_case.merge_sources("Russian Presidency", "Presidential press service")
    assert source_named(merge_case, "Presidential press service")["parent"] == "Russia"


# -- outcomes --------------------------------------------------------------------------------

def test_record_outcome_keeps_revisions_in_order_latest_in_force(base):
    base.record_outcome(1, "unverifiable", "2016-12-14T12:00Z", reviewer="analyst", note="too early")
    base.record_outcome(1, "true", "14 December 2016 18:00", evidence_url="https://example.org/fighting")
    view = base.get_claim(1)
    assert [(o.verdict, o.decided_at) for o in view.outcomes] == [
        ("unverifiable", utc(2016, 12, 14, 12, 0)), ("true", utc(2016, 12, 14, 18, 0)),
    ]
    assert view.outcome.verdict == "true"
    assert view.outcome.evidence_url == "https://example.org/fighting"
    assert view.outcome.recorded_at == NOW
    assert base.counts()["outcomes"] == 2


def test_recording_the_latest_verdict_again_is_a_duplicate(base):
    base.record_outcome(1, "true", "2016-12-14T18:00Z")
    before = snapshot(base)
    with pytest.raises(DuplicateError, match="already has the verdict 'true' as of 2016-12-14"):
        base.record_outcome(1, "TRUE", "2016-12-14T20:00+02:00")
    assert snapshot(base) == before


@pytest.mark.parametrize(("verdict", "decided_at"), [("false", "2016-12-14T18:00Z"), ("true", "2016-12-15T18:00Z")])
def test_changing_verdict_or_its_date_is_a_revision(base, verdict, decided_at):
    base.record_outcome(1, "true", "2016-12-14T18:00Z")
    base.record_outcome(1, verdict, decided_at)
    assert [o.verdict for o in base.get_claim(1).outcomes] == ["true", verdict]


def test_outcome_may_be_decided_when_the_claim_was_first_reported(base):
    base.record_outcome(1, "true", "2016-12-14T08:00Z")
    assert base.get_claim(1).outcome.decided_at == utc(2016, 12, 14, 8, 0)


# -- reads -----------------------------------------------------------------------------------

def test_seeded_aleppo_01_timeline_ends_contested(seeded):
    view = seeded.get_claim(claim_id_by_ref(seeded, "aleppo-01"))
    assert view.timeline[0] == (utc(2016, 12, 13, 15, 0), ClaimStatus.confirmed)
    assert view.timeline[-1] == (utc(2016, 12, 14, 10, 0), ClaimStatus.contested)
    assert view.status == ClaimStatus.contested
    assert view.topics == ["aleppo", "diplomacy", "evacuation"]
    assert view.outcome.verdict == "partly_true"


def test_claim_views_returns_all_claims_in_id_order_with_topics(seeded):
    views = seeded.claim_views()
    assert len(views) == seeded.counts()["claims"] > 1
    assert [v.claim.id for v in views] == sorted(v.claim.id for v in views)
    for view in views:
        single = seeded.get_claim(view.claim.id)
        assert view.topics == single.topics
        assert [r.id for r, _, _ in view.reports] == [r.id for r, _, _ in single.reports]
        assert [o.id for o in view.outcomes] == [o.id for o in single.outcomes]
        assert view.timeline == single.timeline
    assert views[0].topics == ["aleppo", "diplomacy", "evacuation"]


def test_claim_views_of_chosen_ids(base):
    assert [v.claim.id for v in base.claim_views([2])] == [2]
    assert [v.claim.id for v in base.claim_views([2, 1, 99])] == [1, 2]
    assert base.claim_views([]) == []
    assert base.claim_views([1])[0].topics == ["aleppo"]


# -- transactions ----------------------------------------------------------------------------

class Boom(Exception):
    pass


@pytest.mark.parametrize(
    "writes",
    [
        pytest.param(lambda w: w.add_source("TASS"), id="source"),
        pytest.param(lambda w: w.add_report(w.claim(1), "TASS", "confirmed", "2016-12-14T09:00Z"), id="report"),
        pytest.param(lambda w: w.record_outcome(w.claim(1), "true", "2016-12-15"), id="outcome"),
        pytest.param(lambda w: w.log_claim("New claim", topics="a;b"), id="claim"),
        pytest.param(lambda w: (w.rename_source("Kremlin", "Russian Presidency"),
                                w.merge_sources("Lavrov", "Russian Presidency")), id="rename-and-merge"),
    ],
)
def test_transaction_that_raises_persists_nothing(base, writes):
    before = snapshot(base)
    with pytest.raises(Boom), base.transaction() as w:
        writes(w)
        raise Boom
    assert snapshot(base) == before


def test_transaction_that_fails_on_a_later_write_keeps_none_of_the_earlier(base):
    before = snapshot(base)
    with pytest.raises(DuplicateError), base.transaction() as w:
        w.add_source("TASS")
        w.add_report(w.claim(1), "TASS", "confirmed", "2016-12-14T09:00Z")
        w.add_source("tass")
    assert snapshot(base) == before


def test_transaction_that_finishes_commits_every_write(base):
    with base.transaction() as w:
        w.add_source("TASS")
        w.add_report(w.claim(1), "TASS", "confirmed", "2016-12-14T09:00Z")
    reopened = Ledger.open(str(base.engine.url.database), clock=lambda: NOW)
    try:
        assert reopened.counts() == {"sources": 3, "claims": 2, "reports": 3, "outcomes": 0}
    finally:
        reopened.engine.dispose()
