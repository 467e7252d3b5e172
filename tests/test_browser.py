"""End to end in a real browser: `streamlit run dashboard.py` driven by Playwright in Debian's Chromium.

The whole loop a newsroom goes through: load the example, log a claim carried by two sources, mark
what happened, and see the sources' record change. With `TRACKER_UPDATE_SCREENSHOTS=1` it saves a
screenshot of every page into `docs/screenshots/` (which the README shows). Needs `/usr/bin/chromium` (`.ci/run` installs it).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO
from tracker import queries
from tracker.interchange import load_example
from tracker.ledger import Ledger

CHROMIUM = Path("/usr/bin/chromium")
DOC_SHOTS = REPO / "docs" / "screenshots"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium")
playwright_api = pytest.importorskip("playwright.sync_api", reason="needs the test extras: pip install -e '.[test]'")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(store: str, *, port: int | None = None, cwd: Path = REPO, log: Path | None = None):
    """`streamlit run dashboard.py` on a localhost port over `store`, from `cwd`; yields its URL.
    With `log`, the server's output goes to that file (to check it for warnings)."""
    port = port or free_port()
    env = {**os.environ, "TRACKER_DATABASE_URL": store}
    output = open(log, "w") if log is not None else subprocess.PIPE  # noqa: SIM115  (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    said = server.stdout.read() if log is None else log.read_text()
                    raise RuntimeError(f"streamlit did not start:\n{said}") from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        if log is not None:
            output.close()


@pytest.fixture
def dashboard(tmp_path):
    """The dashboard served on a free localhost port over a fresh store; yields (url, store URL)."""
    store = f"sqlite:///{tmp_path / 'e2e.db'}"
    with serve(store) as url:
        yield url, store


UPDATING_SHOTS = os.environ.get("TRACKER_UPDATE_SCREENSHOTS") == "1"


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where this run's screenshots go."""
    return DOC_SHOTS if UPDATING_SHOTS else tmp_path / "screenshots"


@pytest.fixture
def page():
    """A Chromium page (headless, no sandbox: CI runs as root)."""
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.set_default_timeout(30_000)
        yield tab
        browser.close()


def settle(page) -> None:
    """Wait until Streamlit has run the page's script and drawn it (no placeholders left)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')"
        " && !document.querySelector('[data-testid=stSkeleton]')"
        " && document.querySelector('[data-testid=stMainBlockContainer]')", timeout=30_000)
    page.wait_for_timeout(500)


def shoot(page, folder: Path, name: str) -> None:
    """Save a full-page screenshot as `folder/name.png` when the README's screenshots are being made
    (TRACKER_UPDATE_SCREENSHOTS=1). Otherwise nothing: every caller has already waited for its page,
    and the waits and full-page captures cost about half a minute a run."""
    if not UPDATING_SHOTS:
        return
    folder.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.wait_for_timeout(700)  # charts draw after the script has finished
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def pick(page, key: str, text: str) -> None:
    """Choose (or type a new) option in the selectbox with this widget key."""
    box = page.locator(f".st-key-{key} input")
    box.click()
    box.fill(text)
    page.keyboard.press("Enter")
    settle(page)


def fill(page, key: str, text: str) -> None:
    """Type into the text input or text area with this widget key."""
    field = page.locator(f".st-key-{key} input, .st-key-{key} textarea").first
    field.fill(text)
    field.press("Tab")
    settle(page)


def press(page, key: str) -> None:
    """Click the button with this widget key and wait for the rerun."""
    page.locator(f".st-key-{key} button").click()
    settle(page)


def source_metrics(page, url: str, source_id: int) -> dict[str, str]:
    """The metrics the source page shows (Grade, Reliability, Resolved, Pending)."""
    page.goto(f"{url}/source?source={source_id}")
    settle(page)
    page.get_by_text("Reliability", exact=True).first.wait_for()
    metrics = {}
    for block in page.locator("[data-testid=stMetric]").all():
        label = block.locator("[data-testid=stMetricLabel]").inner_text().strip()
        metrics[label] = block.locator("[data-testid=stMetricValue]").inner_text().strip()
    return metrics


def test_the_whole_loop_in_a_browser(dashboard, page, shots):
    url, store = dashboard
    page.goto(url)
    settle(page)
    page.get_by_role("button", name="Load the Aleppo example").first.click()
    settle(page)
    page.get_by_text("Loaded the Aleppo example").wait_for()
    shoot(page, shots, "overview")

    page.goto(f"{url}/sources")
    settle(page)
    shoot(page, shots, "sources-before")

    # log a claim carried by two sources: one new (an explicit choice), one known by its alias
    page.goto(f"{url}/log")
    settle(page)
    fill(page, "log_statement", "The last convoy has left eastern Aleppo")
    fill(page, "log_topics", "aleppo; evacuation")
    pick(page, "log_r0_source", "E2E Wire")  # Enter takes no new name: nothing is called that yet
    assert not page.get_by_text("New source: E2E Wire").count()
    page.locator(".st-key-log_r0_source_new label").click()
    settle(page)
    fill(page, "log_r0_source_name", "E2E Wire")
    page.get_by_text("New source: E2E Wire will be created").wait_for()
    pick(page, "log_r0_stance", "confirmed")
    fill(page, "log_r0_when", "22 December 2016 15:00")
    page.get_by_text("Read as 2016-12-22T15:00Z").wait_for()
    page.locator(".st-key-log_add_row button").click()
    settle(page)
    pick(page, "log_r1_source", "lavr")  # typed in part: Enter takes the best existing match
    page.get_by_text("Lavrov is an alias of Sergei Lavrov").wait_for()
    pick(page, "log_r1_stance", "denied")
    fill(page, "log_r1_when", "22 Dec 2016 16:00")
    shoot(page, shots, "log-a-claim")
    page.locator(".st-key-log_submit button").click()
    settle(page)
    page.get_by_text("Logged claim #14").wait_for()

    ledger = Ledger.open(store)
    view = ledger.get_claim(14)
    assert [name for _, name, _ in view.reports] == ["E2E Wire", "Sergei Lavrov"]
    wire = next(s["id"] for s in ledger.list_sources() if s["name"] == "E2E Wire")
    lavrov = next(s["id"] for s in ledger.list_sources() if s["name"] == "Sergei Lavrov")
    before_wire, before_lavrov = source_metrics(page, url, wire), source_metrics(page, url, lavrov)
    assert before_wire["Resolved"] == "0" and before_wire["Pending"] == "1"

    # a reviewer marks what happened
    page.goto(f"{url}/review")
    settle(page)
    pick(page, "review_claim", "#14")
    pick(page, "review_verdict", "true")
    fill(page, "review_when", "22 December 2016 20:00")
    fill(page, "review_evidence", "https://www.icrc.org")
    shoot(page, shots, "review-queue")
    page.locator(".st-key-review_record button").click()
    settle(page)
    assert ledger.get_claim(14).outcome.verdict == "true"

    # the record changed: the wire was right, Lavrov wrong
    after_wire, after_lavrov = source_metrics(page, url, wire), source_metrics(page, url, lavrov)
    shoot(page, shots, "source")
    assert after_wire["Resolved"] == "1" and after_wire["Pending"] == "0"
    assert int(after_lavrov["Resolved"]) == int(before_lavrov["Resolved"]) + 1
    assert float(after_lavrov["Reliability"]) < float(before_lavrov["Reliability"])
    assert float(after_wire["Reliability"]) > float(before_wire["Reliability"])

    page.goto(f"{url}/sources")
    settle(page)
    shoot(page, shots, "sources-after")
    for name, path in (("claims", "claims"), ("claim", "claim?claim=14"), ("calibration", "calibration"),
                       ("import-export", "import-export")):
        page.goto(f"{url}/{path}")
        settle(page)
        assert not page.locator("[data-testid=stException]").count(), f"the {name} page raised"
        shoot(page, shots, name)
    ledger.engine.dispose()
    assert not UPDATING_SHOTS or {shot.stem for shot in shots.glob("*.png")} >= {
        "overview", "sources-before", "log-a-claim", "review-queue", "source", "sources-after", "claims", "claim",
        "calibration", "import-export"}


def test_the_analysts_desk_in_a_browser(tmp_path, page, shots):
    """Every problem of an empty form at once, a claim logged from a pasted link, claims filtered by
    an alias picked from the list, tables without a scroll box, no developer chrome, a quiet server
    log; and the Overview of the larger PHEME example."""
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    ledger = Ledger.open(store)
    load_example(ledger)
    ledger.update_source("ICRC", url="https://www.icrc.org/en")
    ledger.edit_claim(11, version=None, expected_by="20 Dec 2016")  # a date alone, still open: overdue
    lavrov = queries.claim_rows(ledger, source="Lavrov").total
    log = tmp_path / "server.log"
    with serve(store, log=log) as url:
        page.goto(url)
        settle(page)
        page.get_by_text("Grade F means not judged yet").wait_for()
        waiting = page.locator(".st-key-overview_waiting table").first.inner_text()  # the grid's text, for screen readers
        assert "2016-12-20" in waiting and "2016-12-20T" not in waiting  # an expected-by date shown as a date
        assert not page.locator("[data-testid=stAppDeployButton]").count()  # viewers' toolbar: no Deploy
        page.locator("[data-testid=stMainMenu]").click()
        assert not page.get_by_text("Clear cache").count() and not page.get_by_text("Rerun").count()
        page.keyboard.press("Escape")

        page.goto(f"{url}/log")
        settle(page)
        press(page, "log_submit")
        errors = page.locator("[data-testid=stAlertContentError]")
        errors.first.wait_for()
        assert errors.count() == 1
        said = errors.inner_text()
        for words in ("statement: the claim's statement is empty", "report 1: the source name is empty",
                      "report 1: the stance is empty", "report 1: the report's time is empty"):
            assert words in said, said
        shoot(page, shots, "log-a-claim-errors")

        link = "https://www.icrc.org/en/document/aleppo-evacuation-resumes"
        fill(page, "log_link", link)
        page.wait_for_function(f"() => document.querySelector('.st-key-log_r0_url input')?.value === '{link}'")
        page.get_by_text("ICRC", exact=True).first.wait_for()  # the source, from the link's host
        fill(page, "log_statement", "The evacuation of eastern Aleppo has resumed")
        pick(page, "log_r0_stance", "confirmed")
        fill(page, "log_r0_when", "2 hours ago")  # as analysts type it live, read in the form's zone
        page.get_by_text("Read as 20").first.wait_for()
        fill(page, "log_expected", "31 December 2099 10:00 EET")
        page.get_by_text("Read as 2099-12-31T08:00Z").wait_for()
        shoot(page, shots, "log-a-claim-from-a-link")
        press(page, "log_submit")
        page.get_by_text("Logged claim #14").wait_for()
        view = ledger.get_claim(14)
        report = view.reports[0]
        assert (report[1], report[0].url) == ("ICRC", link)
        ago = datetime.now(UTC) - report[0].reported_at.replace(tzinfo=UTC)
        assert timedelta(hours=2) <= ago < timedelta(hours=2, minutes=10), ago
        assert view.claim.expected_by.replace(tzinfo=UTC) == datetime(2099, 12, 31, 8, 0, tzinfo=UTC)

        page.goto(f"{url}/claims")
        settle(page)
        grid = page.locator("[data-testid=stDataFrame]").first
        grid.wait_for()
        shoot(page, shots, "claims")
        assert grid.bounding_box()["height"] >= 14 * 70  # every row of the page shown, no 10-row scroll box
        pick(page, "claims_source", "Lavrov (alias")
        page.get_by_text(f"1-{lavrov} of {lavrov} claims").wait_for()
    ledger.engine.dispose()
    quiet = [line for line in log.read_text().splitlines() if "warning" in line.lower() or "Traceback" in line]
    assert not quiet, quiet

    from tracker import pheme  # the larger example, as `tracker demo --example pheme` loads it

    larger = f"sqlite:///{tmp_path / 'pheme.db'}"
    opened = Ledger.open(larger)
    pheme.load_example(opened)
    opened.engine.dispose()
    with serve(larger) as url:
        page.goto(url)
        # scoring 1,450 claims and fitting the model on a first visit: allow for a loaded machine
        page.get_by_text("Most reliable").first.wait_for(timeout=180_000)
        page.get_by_text("Calibration at a glance").wait_for(timeout=180_000)
        shoot(page, shots, "overview-pheme")


def sign_in(page, url: str, path: str, name: str, password: str) -> None:
    """Open `path` in a fresh browser session, which shows the sign-in page, and sign in there."""
    page.goto(f"{url}/{path}")
    settle(page)
    page.get_by_role("heading", name="Sign in").wait_for()
    assert not page.get_by_text("Local mode").count() and not nav_links(page)
    fill(page, "sign_in_name", name)
    page.locator(".st-key-sign_in_password input").fill(password)
    page.locator(".st-key-sign_in_submit button").click()
    settle(page)


def nav_links(page) -> set[str]:
    """The page names in the sidebar's navigation."""
    return {link.inner_text().strip() for link in page.locator("[data-testid=stSidebarNav] a").all()}


def test_an_analyst_and_a_reviewer_each_see_only_what_they_may_do(dashboard, page, shots):
    url, store = dashboard
    ledger = Ledger.open(store)
    load_example(ledger)
    ledger.add_account("Ada", "admin", "the admin's long secret")
    admin = ledger.acting_as(ledger.authenticate("Ada", "the admin's long secret"))
    admin.add_account("Andy", "analyst", "the analyst's secret")
    admin.add_account("Rita", "reviewer", "the reviewer's secret")

    # no local-mode banner, no navigation: only the sign-in page, which refuses a wrong password
    sign_in(page, url, "claims", "Andy", "not the password")
    page.get_by_text("wrong account name or password").wait_for()
    shoot(page, shots, "sign-in")

    # the analyst, from a deep link: the claim, read-only; the review queue, read-only; no Users page
    sign_in(page, url, "claim?claim=3", "Andy", "the analyst's secret")
    page.get_by_text("Signed in as Andy (analyst)").wait_for()
    page.get_by_role("heading", name="Outcome history").wait_for()
    # the page streams in: wait for its last part and the script's end before looking for what is absent
    page.get_by_text("Only reviewers and admins record outcomes").wait_for()
    settle(page)
    for control in ("Revise the outcome", "Record the outcome", "Edit the claim", "Retract the claim"):
        assert not page.get_by_text(control, exact=True).count(), f"an analyst sees {control!r}"
    assert "Log a claim" in nav_links(page) and "Users" not in nav_links(page)
    shoot(page, shots, "claim-as-analyst")
    page.locator("[data-testid=stSidebarNav] a", has_text="Review queue").click()
    settle(page)
    page.get_by_text("Only reviewers and admins record outcomes").wait_for()
    assert not page.locator(".st-key-review_record").count()
    # a reload (a new Streamlit session) stays signed in through the session cookie ...
    page.reload()
    settle(page)
    page.get_by_text("Signed in as Andy (analyst)").wait_for()
    # ... and signing out ends it for good: the next load asks to sign in
    page.get_by_role("button", name="Sign out").click()
    settle(page)
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_text("You signed out").wait_for()
    page.reload()
    settle(page)
    page.get_by_role("heading", name="Sign in").wait_for()
    assert not page.get_by_text("Signed in as").count()

    # the reviewer revises claim #3's outcome on the same page
    sign_in(page, url, "claim?claim=3", "Rita", "the reviewer's secret")
    page.get_by_text("Signed in as Rita (reviewer)").wait_for()
    assert "Users" not in nav_links(page)
    page.get_by_text("Revise the outcome", exact=True).click()
    settle(page)
    pick(page, "claim_outcome_verdict", "false")
    fill(page, "claim_outcome_when", "23 December 2016 12:00")
    fill(page, "claim_outcome_note", "Revised in the browser test")
    shoot(page, shots, "claim-as-reviewer")
    page.locator(".st-key-claim_outcome_record button").click()
    settle(page)
    view = ledger.get_claim(3)
    assert (view.outcome.verdict, view.outcome.note) == ("false", "Revised in the browser test")
    [event] = ledger.history(claim_id=3, action="outcome.record", limit=1)
    assert event.actor == "Rita" and event.after["verdict"] == "false"

    page.locator("[data-testid=stSidebarNav] a", has_text="History").click()
    settle(page)
    page.get_by_text("Rita").first.wait_for()
    assert not page.locator("[data-testid=stException]").count()
    shoot(page, shots, "history")
    ledger.engine.dispose()



def test_single_sign_on_through_an_openid_connect_provider(tmp_path, page):
    from tests.oidc_provider import Provider

    pytest.importorskip("authlib", reason="needs the test extras (streamlit[auth])")
    store = f"sqlite:///{tmp_path / 'sso.db'}"
    ledger = Ledger.open(store)
    load_example(ledger)
    ledger.add_account("Ada", "admin", "the admin's long secret")
    admin = ledger.acting_as(ledger.authenticate("Ada", "the admin's long secret"))
    admin.add_account("rita@example.org", "reviewer", "never typed: she signs in through the provider")
    provider = Provider("rita@example.org")
    port = free_port()
    settings = tmp_path / "site" / ".streamlit"
    settings.mkdir(parents=True)
    (settings / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{"x" * 40}"\n'
        'client_id = "tracker"\n'
        'client_secret = "the client secret"\n'
        f'server_metadata_url = "{provider.url}/.well-known/openid-configuration"\n'
        'tracker_label = "Example SSO"\n', encoding="utf-8")
    try:
        with serve(store, port=port, cwd=settings.parent) as url:
            page.goto(url)
            settle(page)
            page.get_by_role("button", name="Sign in with Example SSO").click()
            settle(page)  # provider -> /oauth2callback (code exchange, token checks) -> back to the app
            page.get_by_text("Signed in as rita@example.org (reviewer)").wait_for()
            page.get_by_role("heading", name="Overview").wait_for()  # st.login returns to the front page
            page.get_by_role("button", name="Sign out").click()
            settle(page)
            page.get_by_role("heading", name="Sign in").wait_for()
            page.reload()
            settle(page)
            page.get_by_role("heading", name="Sign in").wait_for()
            assert not page.get_by_text("Signed in as").count()
    finally:
        provider.stop()
        ledger.engine.dispose()
