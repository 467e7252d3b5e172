"""The dashboard's pages, run with Streamlit's AppTest against a real SQLite store."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from tracker import ui


@pytest.fixture
def store_env(db_path, monkeypatch):
    """Point the dashboard at a fresh store and forget any ledger cached by an earlier test."""
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{db_path}")
    monkeypatch.chdir(REPO)
    ui.ledger.clear()
    yield db_path
    ui.ledger.clear()


def app() -> AppTest:
    """The dashboard, run from its entry script."""
    return AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=30)


def test_empty_store_offers_the_example_and_loads_it(store_env):
    at = app().run()
    assert not at.exception
    assert "empty" in at.info[0].value
    at.button[0].click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 13 and "aleppo-01" in set(table["ref"])
    assert [m.value for m in at.metric][:1] == ["13"]


def test_claims_filters_call_the_service(store_env):
    at = app().run()
    at.button[0].click().run()
    at.selectbox[0].select("open").run()
    assert set(at.dataframe[0].value["ref"]) == {"aleppo-11", "aleppo-13"}
    at.selectbox[0].select("any").run()
    at.text_input[1].input("churkin").run()
    assert list(at.dataframe[0].value["ref"]) == ["aleppo-01"]
    at.text_input[1].input("nobody at all").run()
    assert "no source is called" in at.error[0].value


def test_sources_page_lists_sources_with_aliases(store_env):
    at = app().run()
    at.button[0].click().run()
    at.switch_page("pages/sources.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert len(frame) == 16
    lavrov = frame[frame["name"] == "Sergei Lavrov"].iloc[0]
    assert lavrov["parent"] == "Russian Foreign Ministry" and "Lavrov" in lavrov["aliases"]
