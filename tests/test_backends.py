"""The same store, service and import behaviour on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import event, inspect

from tests.conftest import REPO, empty_store
from tracker import importer, pairs, store
from tracker.errors import DuplicateError, ImportRejected, ValidationError
from tracker.evidence import load_evidence
from tracker.importer import apply_incoming
from tracker.interchange import import_file, import_text, read_csv, write_csv, write_json
from tracker.ledger import Ledger
from tracker.scoring import score_sources

GOOD = (
    "claim_ref,claim,source,stance,reported_at,outcome,outcome_at,via,topic\n"
    "d1,Deal reached to evacuate eastern Aleppo,Rebel officials,confirmed,13 December 2016 15:00,partly_true,"
    "15 Dec 2016,,aleppo;evacuation\n"
    "d1,Deal reached to evacuate eastern Aleppo,Western media,rumoured,2016-12-13T17:00Z,partly_true,"
    "15 Dec 2016,Rebel officials,aleppo\n"
    ",Buses fired on in eastern Aleppo,Reconciliation Centre,confirmed,Wed Dec 14 09:00:00 +0000 2016,,,,\n"
)


def exported(ledger, fmt: str) -> str:
    """The store as CSV or JSON text."""
    stream = io.StringIO()
    (write_csv if fmt == "csv" else write_json)(ledger, stream)
    return stream.getvalue()


def test_migrations_bring_an_empty_database_to_head(any_ledger):
    assert store.current_revision(any_ledger.engine) == store.head_revision()
    tables = set(inspect(any_ledger.engine).get_table_names())
    assert {"source", "source_alias", "claim", "claim_topic", "report", "outcome", "store_revision"} <= tables


def test_service_layer_writes_and_refuses_the_same_way(any_ledger):
    claim = any_ledger.log_claim("Deal reached", topics="aleppo", reports=[
        {"source": "Western media", "stance": "rumoured", "reported_at": "13 December 2016 20:00"},
        {"source": "Lavrov", "stance": "denied", "reported_at": "14 Dec 2016"}])
    any_ledger.record_outcome(claim.id, "partly_true", "15 Dec 2016")
    view = any_ledger.get_claim(claim.id)
    assert view.status.value == "contested" and view.outcome.verdict == "partly_true"
    assert view.claim.first_reported_at.isoformat() == "2016-12-13T20:00:00+00:00"
    before = any_ledger.counts()
    with pytest.raises(DuplicateError):
        any_ledger.add_report(claim.id, "lavrov", "denied", "14 Dec 2016")  # same report, alias in any case
    with pytest.raises(ValidationError):
        any_ledger.record_outcome(claim.id, "true", "1 Dec 2016")
    with pytest.raises(DuplicateError):
        any_ledger.add_source("WESTERN MEDIA")
    assert any_ledger.counts() == before
    any_ledger.merge_sources("Lavrov", "Western media")
    assert [s["name"] for s in any_ledger.list_sources()] == ["Western media"]


def test_import_is_idempotent_and_round_trips(any_ledger):
    first = import_text(any_ledger, GOOD, "csv")
    assert (first.claims_created, first.reports_added, first.outcomes_added) == (2, 3, 1)
    again = import_text(any_ledger, GOOD, "csv")
    assert (again.claims_created, again.reports_added, again.reports_skipped) == (0, 0, 3)
    csv_text = exported(any_ledger, "csv")
    assert "Wed Dec" not in csv_text and "2016-12-14T09:00Z" in csv_text


HEADER_REF = "claim_ref,claim,source,stance,reported_at,outcome,outcome_at,report_ref\n"
REPEATS = (
    "claim_ref,claim,source,stance,reported_at,outcome,outcome_at,topic\n"
    "a1,Bridge closed,Kremlin,confirmed,2016-12-13T10:00Z,,,bridges\n"
    "a1,Bridge closed,Kremlin,confirmed,2016-12-13T10:00:00+00:00,,,bridges\n"  # the same report, same chunk
    "b1,Road open,Kremlin,denied,2016-12-13T11:00Z,,,roads;bridges\n"
    "a1,Bridge closed,Kremlin,confirmed,13 December 2016 10:00,,,bridges\n"  # again, in the next chunk
    "a1,Bridge closed,Western media,rumoured,2016-12-13T12:00Z,,,bridges\n"  # new, on a claim an earlier chunk made
    "c1,Port shut,Kremlin,confirmed,2016-12-14T09:00Z,,,ports\n"
    "c1,Port shut,Kremlin,confirmed,2016-12-14T09:00Z,,,ports\n"
)


def test_an_import_skips_repeated_reports_within_and_across_chunks(any_ledger):
    """A report or topic the file repeats (in one chunk or across chunks) or the store holds is written
    once; on PostgreSQL without ON CONFLICT (which probes every unique index before each row)."""
    statements: list[str] = []
    written = ("INSERT INTO report ", "INSERT INTO claim_topic ")
    event.listen(any_ledger.engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: statements.append(sql) if sql.startswith(written) else None)
    first = apply_incoming(any_ledger, read_csv(io.StringIO(REPEATS), chunk_rows=3))
    assert (first.claims_created, first.reports_added, first.reports_skipped) == (3, 4, 3)
    assert sorted((r["claim"], r["source"], r["stance"]) for r in csv.DictReader(io.StringIO(
        exported(any_ledger, "csv")))) == [("Bridge closed", "Kremlin", "confirmed"),
                                            ("Bridge closed", "Western media", "rumoured"),
                                            ("Port shut", "Kremlin", "confirmed"), ("Road open", "Kremlin", "denied")]
    more = REPEATS + "b1,Road open,Western media,confirmed,2016-12-15T09:00Z,,,roads\n"
    again = apply_incoming(any_ledger, read_csv(io.StringIO(more), chunk_rows=2))
    assert (again.claims_created, again.claims_matched, again.reports_added, again.reports_skipped) == (0, 3, 1, 7)
    assert any_ledger.counts()["reports"] == 5
    assert {(c["claim_ref"], tuple(c["topics"])) for c in json.loads(exported(any_ledger, "json"))["claims"]} == {
        ("a1", ("bridges",)), ("b1", ("bridges", "roads")), ("c1", ("ports",))}
    if any_ledger.engine.dialect.name == "postgresql":
        assert statements and not any("ON CONFLICT" in sql for sql in statements)


def test_new_report_refs_count_up_from_a_random_start_clear_of_the_stores(any_ledger, monkeypatch):
    """An import's new reports get `r-` and 16 hex digits in sequence (one place in the ref index), from
    a random start drawn again while its range would hold a ref the store or the file has already."""
    any_ledger.log_claim("Held", first_reported_at="2016-12-01", reports=[
        {"source": "Kremlin", "stance": "confirmed", "reported_at": "2016-12-01"}])
    with any_ledger.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE report SET ref = 'r-0000000000000105'")
    starts = iter([0x100, 0x1c8, 0x300])  # the store's ref in the first range, the file's own in the second
    monkeypatch.setattr(importer.secrets, "randbelow", lambda _n: next(starts))
    rows = "".join(f"x{n},Claim {n},Kremlin,confirmed,2016-12-13T10:00Z,,,\n" for n in range(3))
    rows += "x9,Claim 9,Kremlin,denied,2016-12-13T10:00Z,,,r-00000000000001ca\n"  # a ref of the file's own
    summary = import_text(any_ledger, HEADER_REF + rows, "csv")
    assert summary.reports_added == 4
    with any_ledger.engine.connect() as connection:
        refs = [r for (r,) in connection.exec_driver_sql("SELECT ref FROM report ORDER BY id")]
    assert refs == ["r-0000000000000105", "r-0000000000000301", "r-0000000000000302", "r-0000000000000303",
                    "r-00000000000001ca"]


def test_a_bad_import_changes_nothing(any_ledger):
    import_text(any_ledger, GOOD, "csv")
    before = exported(any_ledger, "json")
    bad = GOOD + "d2,Another,Kremlin,maybe,14 December 2016,,,,\nd3,Third,Kremlin,confirmed,someday,,,,\n"
    with pytest.raises(ImportRejected) as caught:
        import_text(any_ledger, bad, "csv")
    assert [e.row for e in caught.value.errors] == ["row 5", "row 6"]
    assert exported(any_ledger, "json") == before


def test_the_example_scores_the_same_on_both(any_ledger, tmp_path):
    import_file(any_ledger, REPO / "seed" / "aleppo-2016-12.json")
    table = score_sources(load_evidence(any_ledger.engine)).set_index("source")
    assert len(table) == 16
    # the figures the SQLite store gives (see README): identical on PostgreSQL
    assert table.loc["The Duran", "grade"] == "D"
    assert table.loc["The Duran", "resolved"] == 6 and table.loc["The Duran", "pending"] == 2
    assert round(table.loc["The Duran", "reliability"], 2) == 0.62


def _schema(engine) -> dict:
    """Everything the inspector says of every table (columns in order, keys, indexes, constraints), the
    triggers, the rows of the store's bookkeeping tables and, on SQLite, each index's and trigger's
    own SQL (partial indexes)."""
    found = inspect(engine)
    described = {}
    for table in sorted(found.get_table_names()):
        described[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], c["default"], c.get("autoincrement"))
                        for c in found.get_columns(table)],
            "primary": found.get_pk_constraint(table),
            "foreign": sorted(map(repr, found.get_foreign_keys(table))),
            "indexes": sorted(repr({**index, "dialect_options": {k: str(v) for k, v in index["dialect_options"].items()}})
                              for index in found.get_indexes(table)),  # a partial index's WHERE as text
            "unique": sorted(map(repr, found.get_unique_constraints(table))),
            "checks": sorted(map(repr, found.get_check_constraints(table))),
        }
    with engine.connect() as connection:
        for table in ("alembic_version", "store_revision"):
            described[f"{table} rows"] = [tuple(r) for r in connection.exec_driver_sql(f"SELECT * FROM {table}")]
        described["triggers"] = sorted(pairs.trigger_names(connection))
        if engine.dialect.name == "sqlite":
            described["sqlite triggers"] = sorted(tuple(r) for r in connection.exec_driver_sql(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"))
            described["sqlite indexes"] = sorted(tuple(r) for r in connection.exec_driver_sql(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'"))
            described["sqlite foreign keys"] = {table: sorted(tuple(r)[2:] for r in connection.exec_driver_sql(
                f"PRAGMA foreign_key_list({table})")) for table in found.get_table_names()}
    return described


@pytest.fixture
def other_url(any_url, request, tmp_path) -> str:
    """A second empty store on the same backend as `any_url`."""
    yield from empty_store(request, tmp_path, "sqlite" if any_url.startswith("sqlite") else "postgresql", "other")


def test_a_new_store_built_at_head_has_the_migrated_schema(any_url, other_url):
    """A new store is made from the models and stamped (no migrations run): the same tables, columns
    in the same order, keys, indexes, constraints and seeded rows as walking every migration gives."""
    built, migrated = store.make_engine(any_url), store.make_engine(other_url)
    try:
        store.upgrade(built)
        store.upgrade(migrated, migrate_new=True)
        with built.connect() as connection:  # built directly: no migration left a trace
            assert not connection.exec_driver_sql("SELECT 1 FROM store_revision WHERE revision <> 0").first()
        assert store.current_revision(built) == store.current_revision(migrated) == store.head_revision()
        assert _schema(built) == _schema(migrated)
    finally:
        built.dispose()
        migrated.dispose()


def test_a_new_store_is_built_without_running_the_migrations(tmp_path, monkeypatch):
    """Opening a new store does not walk the migrations; a store that has tables still does."""
    from alembic import command

    walked = []
    monkeypatch.setattr(command, "upgrade", lambda *args: walked.append(args[1]))
    Ledger.open(f"sqlite:///{tmp_path / 'new.db'}").engine.dispose()
    assert walked == []
    engine = store.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE something_else (id INTEGER)")
    store.upgrade(engine)
    engine.dispose()
    assert walked == ["head"]


def test_a_store_of_the_previous_schema_upgrades_with_its_data(any_url):
    engine = store.make_engine(any_url)
    store.upgrade(engine, "0004")  # as the previous release left it, with rows it wrote (ids from the database)
    with engine.begin() as connection:
        for sql in (
            "INSERT INTO source (name, name_key, kind, created_at) VALUES ('Kremlin', 'kremlin', 'government', "
            "'2016-12-13 10:00:00'), ('Presidency', 'presidency', 'other', '2016-12-13 10:00:00')",
            "INSERT INTO claim (statement, first_reported_at, logged_at) VALUES "
            "('Ceasefire agreed', '2016-12-13 12:00:00', '2016-12-13 12:05:00')",
            "INSERT INTO report (claim_id, source_id, stance, reported_at, logged_at) VALUES "
            "(1, 1, 'confirmed', '2016-12-13 12:00:00', '2016-12-13 12:05:00'), "
            "(1, 2, 'confirmed', '2016-12-13 12:00:00', '2016-12-13 12:05:00')",
            "INSERT INTO outcome (claim_id, verdict, decided_at, recorded_at) VALUES "
            "(1, 'false', '2016-12-14 00:00:00', '2016-12-14 01:00:00')",
        ):
            connection.exec_driver_sql(sql)
    engine.dispose()
    ledger = Ledger.open(any_url)
    try:
        assert store.current_revision(ledger.engine) == store.head_revision()
        assert ledger.counts() == {"sources": 2, "claims": 1, "reports": 2, "outcomes": 1}
        view = ledger.get_claim(1)
        assert view.claim.version == 1 and not view.retracted and view.outcome.verdict == "false"
        assert ledger.local_mode() and ledger.history() == []
        # the new kinds of change work on the old rows
        ledger.merge_sources("Presidency", "Kremlin")
        ledger.record_outcome(1, "true", "2016-12-15", version=ledger.get_claim(1).claim.version)
        assert [c.action for c in ledger.history()] == ["outcome.record", "source.merge"]
        assert ledger.get_claim(1).outcome.verdict == "true"
    finally:
        ledger.engine.dispose()


def test_a_store_of_schema_0005_gets_a_ref_for_every_claim_and_report(any_url):
    engine = store.make_engine(any_url)
    store.upgrade(engine, "0005")  # as the previous release left it: a claim logged without a ref
    with engine.begin() as connection:
        for sql in (
            "INSERT INTO source (name, name_key, kind, created_at) VALUES ('Kremlin', 'kremlin', 'government', "
            "'2016-12-13 10:00:00'), ('Presidency', 'presidency', 'other', '2016-12-13 10:00:00')",
            "INSERT INTO claim (ref, statement, first_reported_at, logged_at) VALUES "
            "(NULL, 'Ceasefire agreed', '2016-12-13 12:00:00', '2016-12-13 12:05:00'), "
            "('mine-1', 'Talks resume', '2016-12-13 12:00:00', '2016-12-13 12:05:00')",
            "INSERT INTO report (claim_id, source_id, stance, reported_at, logged_at) VALUES "
            "(1, 1, 'confirmed', '2016-12-13 12:00:00', '2016-12-13 12:05:00'), "
            "(1, 2, 'confirmed', '2016-12-13 12:00:00', '2016-12-13 12:05:00'), "
            "(2, 2, 'rumoured', '2016-12-13 12:00:00', '2016-12-13 12:05:00')",
        ):
            connection.exec_driver_sql(sql)
    engine.dispose()
    ledger = Ledger.open(any_url)
    try:
        assert store.current_revision(ledger.engine) == store.head_revision()
        views = ledger.claim_views()
        assert views[0].claim.ref.startswith("c-") and views[1].claim.ref == "mine-1"  # a given ref is kept
        refs = [r.ref for view in views for r, _, _ in view.reports]
        assert len(set(refs)) == 3 and all(ref.startswith("r-") for ref in refs)
        csv_text = exported(ledger, "csv")
        summary = import_text(ledger, csv_text, "csv")  # its own export names every row: nothing to change
        assert not summary.changed and summary.reports_skipped == 3
        assert exported(ledger, "csv") == csv_text
    finally:
        ledger.engine.dispose()


def test_each_sources_report_and_claim_counts_are_its_live_reports(random_store):
    """`list_sources` counts each source's live reports and the claims they are on in one pass: the
    same as a count and a DISTINCT count of the reports that are neither retracted nor on a
    retracted claim (merged sources left out), on both backends."""
    from sqlalchemy import func, select

    from tracker.models import Claim, Report

    live = (Report.retracted_at.is_(None),
            Report.claim_id.not_in(select(Claim.id).where(Claim.retracted_at.is_not(None))))
    with random_store.engine.connect() as connection:
        reports = dict(connection.execute(select(Report.source_id, func.count()).where(*live)
                                          .group_by(Report.source_id)).all())
        claims = dict(connection.execute(select(Report.source_id, func.count(func.distinct(Report.claim_id)))
                                         .where(*live).group_by(Report.source_id)).all())
        retracted = connection.execute(select(func.count()).select_from(Report)
                                       .where(Report.retracted_at.is_not(None))).scalar()
    listed = random_store.list_sources()
    assert retracted and any(reports[s] > claims[s] for s in reports)  # a retraction, repeated reports
    assert {s["id"]: (s["reports"], s["claims"]) for s in listed} == {
        s["id"]: (reports.get(s["id"], 0), claims.get(s["id"], 0)) for s in listed}
