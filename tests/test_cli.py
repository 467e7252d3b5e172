"""The `tracker` command line: each command on a real SQLite file, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.cli import main


@pytest.fixture
def run(db_path):
    """Run `tracker --db <fresh file> ARGS...` in-process; returns the click Result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, ["--db", str(db_path), *args], input=input)

    invoke.db_path = db_path
    return invoke


def test_init_creates_the_store_then_reports_it_current(run, db_path):
    first = run("init")
    assert first.exit_code == 0 and "upgraded from empty" in first.output and db_path.exists()
    second = run("init")
    assert second.exit_code == 0 and "already current" in second.output


def test_default_store_is_db_tracker_db_in_the_working_directory(tmp_path):
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "db" / "tracker.db").exists()


def test_database_url_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert CliRunner().invoke(main, ["demo"]).exit_code == 0
    assert (tmp_path / "env.db").exists()


def test_demo_loads_the_example_and_is_safe_to_run_twice(run):
    assert "13 claim(s) created" in run("demo").output
    assert "0 claim(s) created, 0 updated, 13 unchanged" in run("demo").output
    claims = json.loads(run("claims", "--format", "json").output)
    sources = json.loads(run("sources", "--format", "json").output)
    assert len(claims) >= 10 and len(sources) >= 8
    names = {s["name"] for s in sources}
    for expected in ("Kremlin", "Sergei Lavrov", "Russian Reconciliation Centre at Khmeimim", "Vitaly Churkin",
                     "Turkish military intelligence", "Western media", "Jihadi sources", "UN Secretary-General",
                     "UN human rights office", "The Duran"):
        assert expected in names
    outcomes = {c["outcome"] for c in claims}
    assert {"true", "false", "partly_true", "unverifiable", None} <= outcomes


def test_claims_table_and_filters(run):
    run("demo")
    table = run("claims").output
    assert table.splitlines()[0].split() == ["id", "ref", "claim", "status", "outcome", "reports", "first"]
    assert "aleppo-01" in table
    open_claims = json.loads(run("claims", "--status", "open", "--format", "json").output)
    assert {c["claim_ref"] for c in open_claims} == {"aleppo-11", "aleppo-13"}
    by_source = json.loads(run("claims", "--source", "churkin", "--format", "json").output)
    assert [c["claim_ref"] for c in by_source] == ["aleppo-01"]
    contested = json.loads(run("claims", "--status", "contested", "--topic", "evacuation", "--format", "json").output)
    assert all(c["status"] == "contested" and "evacuation" in c["topics"] for c in contested) and contested


def test_log_report_outcome_and_show(run):
    logged = run("claims", "log", "The convoy left at dawn", "--source", "ICRC", "--stance", "rumoured",
                 "--at", "Thursday 15th December 2016 06:00", "--topic", "aleppo")
    assert logged.exit_code == 0 and "logged claim #1" in logged.output
    assert run("claims", "report", "1", "--source", "Kremlin", "--stance", "denied", "--at", "15 Dec 2016 08:00").exit_code == 0
    assert run("claims", "outcome", "1", "true", "--at", "2016-12-15T12:00Z", "--note", "seen").exit_code == 0
    assert run("claims", "outcome", "1", "partly_true", "--at", "2016-12-16").exit_code == 0
    shown = run("claims", "show", "1").output
    assert "rumoured (2016-12-15T06:00Z) -> contested (2016-12-15T08:00Z)" in shown
    assert "true as of 2016-12-15T12:00Z" in shown and "partly_true as of 2016-12-16 " in shown  # given as a date: kept as one
    assert shown.index("<- in force") > shown.index("partly_true as of")
    data = json.loads(run("claims", "show", "1", "--format", "json").output)
    assert data["outcome"] == "partly_true" and len(data["outcomes"]) == 2


@pytest.mark.parametrize("args, message", [
    (["claims", "log", "  ", "--source", "A", "--stance", "confirmed", "--at", "13 Dec 2016"], "statement is empty"),
    (["claims", "log", "X", "--source", "A", "--stance", "confirmed", "--at", "soon"], "not a date"),
    (["claims", "log", "X", "--source", "A", "--stance", "confirmed", "--at", "1 Jan 2999"], "in the future"),
    (["claims", "show", "99"], "there is no store at"),  # reading never creates a store
    (["claims", "outcome", "99", "true", "--at", "2016-12-15"], "no claim #99"),
    (["sources", "merge", "Nobody", "Kremlin"], "no source is called 'Nobody'"),
    (["import", "missing.csv"], "does not exist"),
])
def test_user_mistakes_are_one_clear_line_and_no_traceback(run, args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (KeyError, TypeError, ValueError))


def test_import_of_a_bad_file_exits_non_zero_names_rows_and_changes_nothing(run, tmp_path):
    run("demo")
    before = run("export", "-", "--format", "json").output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "claim_ref,claim,source,stance,reported_at,outcome,outcome_at\n"
        "x1,Fine claim,Kremlin,confirmed,2016-12-14,,\n"
        "x2,Bad stance,Kremlin,perhaps,2016-12-14,,\n"
        "x3,Bad date,Kremlin,confirmed,someday,,\n"
    )
    result = run("import", str(bad))
    assert result.exit_code == 1
    assert "row 3" in result.output and "row 4" in result.output and "nothing was changed" in result.output
    assert run("export", "-", "--format", "json").output == before


def test_import_and_export_files(run, tmp_path):
    run("demo")
    out = tmp_path / "all.csv"
    result = run("export", str(out))
    assert result.exit_code == 0 and out.read_text().startswith("claim_ref,claim,source")
    other = CliRunner().invoke(main, ["--db", str(tmp_path / "b.db"), "import", str(out)])
    assert other.exit_code == 0 and "13 claim(s) created" in other.output


def test_sources_add_rename_merge(run):
    assert run("sources", "add", "Reuters", "--kind", "wire_agency", "--alias", "Reuters wire").exit_code == 0
    assert run("sources", "add", "reuters").exit_code == 1
    assert run("sources", "rename", "Reuters", "Thomson Reuters").exit_code == 0
    assert run("sources", "add", "Reuters News").exit_code == 0
    assert run("sources", "merge", "Reuters News", "reuters").exit_code == 0
    (source,) = json.loads(run("sources", "--format", "json").output)
    assert source["name"] == "Thomson Reuters"
    assert set(source["aliases"]) == {"Reuters", "Reuters wire", "Reuters News"}


def test_an_unusable_store_url_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["--db", "nosuchdialect://x/y", "claims"])
    assert result.exit_code == 1 and "not nosuchdialect" in result.output


def test_console_script_runs_as_a_program(tmp_path):
    env = {**os.environ, "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    done = subprocess.run([sys.executable, "-m", "tracker", "claims", "log", "", "--source", "A",
                           "--stance", "confirmed", "--at", "2016-12-13"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and "Traceback" not in done.stderr


def test_importing_the_command_line_loads_no_numerical_or_format_libraries():
    """Every command, `--help` included, starts without numpy, pandas, scipy or the format readers:
    they load inside the commands that use them."""
    import subprocess
    import sys

    heavy = ("numpy", "pandas", "scipy", "altair", "stix2", "extruct", "pyld", "crowdkit")
    probe = ("import sys, tracker.cli; "
             f"print(' '.join(m for m in {heavy!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def _loaded_after(code: str, libraries: tuple[str, ...]) -> list[str]:
    """Which of `libraries` a fresh interpreter has loaded after running `code` (its own output aside)."""
    probe = f"import sys\n{code}\nprint('loaded:', *(m for m in {libraries!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1].split()[1:]


def test_help_loads_nothing_of_the_store_and_lists_load_no_migrations_passwords_or_frames(run):
    """`tracker --help` loads neither SQLAlchemy nor Alembic nor argon2; listing and showing claims and
    sources on a current store load SQLAlchemy but not Alembic (no upgrade is due), argon2 (no
    sign-in) or pandas and numpy (no frames)."""
    assert _loaded_after("import tracker.cli", ("sqlalchemy", "sqlmodel", "alembic", "argon2")) == []
    run("demo")
    db = run.db_path
    commands = [["claims"], ["claims", "--status", "open"], ["claims", "show", "1"], ["sources"]]
    code = ("from tracker.cli import main\n"
            f"for args in {commands!r}:\n"
            f"    main(['--db', {str(db)!r}, *args], standalone_mode=False)")
    assert _loaded_after(code, ("alembic", "argon2", "pandas", "numpy", "scipy")) == []


def test_scoring_and_forecasting_load_no_scipy_stats():
    """The dashboard's first page pays every import: scoring's Beta quantiles come from
    scipy.special, not scipy.stats (about 1.5 s to import on this machine)."""
    assert _loaded_after("import tracker.scoring, tracker.forecast, tracker.selfscore", ("scipy.stats",)) == []


@pytest.mark.parametrize("block", [1, 2, 20_000])
def test_predict_json_written_a_block_at_a_time_is_the_array_written_at_once(run, monkeypatch, block):
    """`predict --format json` writes its array a block of claims at a time (the text of the whole
    array does not fit in memory at ten million reports): the same text, byte for byte, as one
    `json.dumps(records, indent=2)` of every claim with its sentences; an empty result is `[]`."""
    import pandas as pd

    from tracker import cli, forecast
    from tracker.evidence import load_evidence
    from tracker.ledger import Ledger

    assert run("demo").exit_code == 0
    monkeypatch.setattr(cli, "JSON_BLOCK", block)
    ledger = Ledger.open(str(run.db_path))
    evidence = load_evidence(ledger.engine)
    ledger.engine.dispose()
    for claims in ([], [1, 2, 3, 4, 5]):  # the open claims (two in the example), then five by id
        table = forecast.predict(evidence, claim_ids=claims or None, explain=True)
        records = json.loads(table.to_json(orient="records", date_format="iso", force_ascii=False))
        for record in records:
            for key, frame in (("drivers", table.attrs["drivers"]), ("prior", table.attrs["priors"])):
                record[key] = frame.loc[frame["claim_id"] == record["claim_id"], "explanation"].tolist()
        assert len(records) == (len(claims) or 2) and all(r["drivers"] and r["prior"] for r in records)
        asked = [option for claim in claims for option in ("--claim", str(claim))]
        said = run("predict", *asked, "--format", "json").output
        assert said == json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    assert run("predict", "--topic", "no such topic", "--format", "json").output == "[]\n"
    # the numbers first, without words; then each block's words, for that block's claims alone
    # (every open claim's sentences at once were 3.5 million strings at ten million reports)
    calls, predict = [], forecast.predict
    monkeypatch.setattr(forecast, "predict", lambda *args, **kwargs: calls.append(kwargs) or predict(*args, **kwargs))
    assert run("predict", "--format", "json").exit_code == 0
    assert calls[0]["explain"] is False and calls[0]["claim_ids"] is None
    assert [len(call["claim_ids"]) for call in calls[1:]] == [min(block, 2 - start) for start in range(0, 2, block)]
    assert all(call.get("explain", True) for call in calls[1:])
    sentences = pd.DataFrame({"claim_id": [5, 2, 5, 9, 2, 5], "explanation": list("abcdef")})
    assert cli._sentences_by_claim(sentences) == {2: ["b", "e"], 5: ["a", "c", "f"], 9: ["d"]}
    assert cli._sentences_by_claim(sentences.iloc[:0]) == {}


_JSON_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
                 | st.text())


@settings(max_examples=300, deadline=None)
@given(st.recursive(_JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(), inner, max_size=4), max_leaves=30))
def test_the_indented_json_is_the_json_modules_text(value):
    # `predict --format json` lays out its records itself (the json module indents in pure Python):
    # the same text as `json.dumps(..., indent=2, ensure_ascii=False)` for any plain JSON data
    from tracker.cli import _indented_json

    assert _indented_json(value) == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("args", [("predict",), ("predict", "--at-report-time"), ("scores",), ("calibration",)])
def test_a_new_store_answers_every_format_with_no_rows_not_a_traceback(run, args):
    # `predict --format csv` on a store with no claims failed in the CSV writer (its times column had
    # no rows to format); every format answers with what a store without claims holds
    assert run("init").exit_code == 0
    for fmt in ("csv", "json", "table"):
        result = run(*args, "--format", fmt)
        if result.exit_code == 2 and "--format" in result.output:
            continue  # (a command without that format)
        assert result.exit_code == 0, (args, fmt, result.output)
        assert "Traceback" not in result.output
        if fmt == "csv" and args[0] == "predict":
            assert result.output.startswith("claim_id,claim_ref,statement,") and result.output.count("\n") == 1
        if fmt == "json" and args[0] != "calibration":
            assert json.loads(result.output) == []
