"""Hostile input: markup shown as text, SQL-looking text kept as data, oversized imports refused."""

from __future__ import annotations

import io
import json

import pytest

from tests.conftest import NOW
from tracker.errors import ValidationError
from tracker.interchange import import_file, import_text, write_csv, write_json
from tracker.ledger import Ledger
from tracker.dashboard.widgets import md

HOSTILE = [
    "<script>alert('x')</script> the convoy left",
    "**bold** [click](javascript:alert(1)) <img src=x onerror=alert(1)>",
    "Robert'); DROP TABLE claim;--",
    "=cmd|' /C calc'!A0",
    "1 OR 1=1; SELECT * FROM source WHERE name = '' --",
]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_hostile_text_round_trips_as_data(ledger, tmp_path, fmt):
    for i, text in enumerate(HOSTILE):
        ledger.log_claim(text, reports=[{"source": text[:40] + f" {i}", "stance": "rumoured",
                                         "reported_at": "2016-12-13", "note": text}])
    stream = io.StringIO()
    (write_csv if fmt == "csv" else write_json)(ledger, stream)
    other = Ledger.open(str(tmp_path / "other.db"), clock=lambda: NOW)
    import_text(other, stream.getvalue(), fmt)
    assert [v.claim.statement for v in other.claim_views()] == HOSTILE
    assert other.counts() == ledger.counts()  # the DROP TABLE did nothing but travel as text


def test_markup_in_user_text_is_escaped_for_display():
    shown = md("<script>alert(1)</script> **bold** [x](javascript:y)")
    assert "**" not in shown.replace("\\*\\*", "")  # every markdown character escaped
    assert "\\<script\\>" in shown or "&lt;script" in shown


def test_oversized_imports_are_refused_before_reading(ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_MAX_IMPORT_MB", "0.001")  # about 1 KB
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"claims": [{"statement": "x" * 2000, "first_reported_at": "2016-12-13"}]}))
    with pytest.raises(ValidationError, match="over the import limit"):
        import_file(ledger, big)
    with pytest.raises(ValidationError, match="TRACKER_MAX_IMPORT_MB"):
        import_text(ledger, big.read_text(), "json")
    assert ledger.counts()["claims"] == 0
    monkeypatch.setenv("TRACKER_MAX_IMPORT_MB", "lots")
    with pytest.raises(ValidationError, match="not a number"):
        import_file(ledger, big)
