"""The dashboard's settings show no traceback: an unexpected error is a short notice, without server paths."""

from __future__ import annotations

import tomllib

from streamlit import config
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


def test_an_unexpected_error_shows_no_traceback_or_server_path():
    settings = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    before = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", settings["client"]["showErrorDetails"])
    try:
        at = AppTest.from_string("raise RuntimeError('cannot open /srv/tracker/secret/tracker.db')").run()
    finally:
        config.set_option("client.showErrorDetails", before)
    shown = at.exception[0]
    assert "/srv/tracker" not in shown.message and not shown.stack_trace
    assert "error" in shown.message.lower()  # Streamlit's notice that something went wrong
