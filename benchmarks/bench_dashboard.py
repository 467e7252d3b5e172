"""Dashboard speed: each page's script run on a store of 50,000 claims, cold and warm; and, with
`--browser`, each page as a person sees it in Chromium.

Builds (or reuses) a synthetic store with `make_store.py` (50,000 claims, 250,000 reports, 2,000
sources by default), points the dashboard at it, and runs every page with Streamlit's AppTest:
once cold (first run in this process: caches empty) and then warm (best of `--repeat` further
runs, caches filled), which is what a user clicking around pays. Prints seconds per page beside a
floor measured in the same run: `SELECT count(*) FROM report` on the same store.

`--browser` instead serves the dashboard with `streamlit run` (on the Aleppo example, then on the
large store) and drives Debian's Chromium with Playwright (`/usr/bin/chromium`): for each page, the
seconds from `page.goto` to its content visible (its title drawn, no skeleton left, the script
finished): the first page after the server started (cold: nothing imported, nothing cached,
nothing kept beside the store), each page's first visit, and its warm visits (best of
`--repeat`), the server's peak memory; then the first page and the Calibration page after a
restart over the same store (the fit and the sources' scores kept: `tracker.fitcache`). A page
opened by its address reloads Streamlit's whole front end (its scripts, a new session); a person
moving around the dashboard clicks the sidebar instead, which only runs the page: each sidebar
page's warm visit by a click is timed too (best and median of `--repeat` rounds), beside a floor
of its own, a click between the two one-line pages of a floor app. Beside each
first page, the server process's CPU seconds by the time it was drawn (imports, reads, scoring:
its work, which the machine's load stretches far less than the wall-clock figures). The page is
asked for as soon as the server answers its health check, so the server's warm-up
(`tracker.dashboard.startup`) has no head start; "start to first page drawn" adds the two. The floor, in the same run: a one-line
Streamlit app served and opened the same way. Run it from a plain install
(`pip install -e .` and Playwright) for start-up figures a user sees: the `test` extra brings
`rfc3987-syntax`, which `import altair` then spends seconds on.

    python benchmarks/bench_dashboard.py
    python benchmarks/bench_dashboard.py --claims 10000 --reports 50000 --sources 500
    python benchmarks/bench_dashboard.py --browser
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import make_store

PAGES = {  # page file -> query parameters it is opened with
    "overview.py": {}, "log_claim.py": {}, "claims.py": {}, "review.py": {}, "sources.py": {},
    "calibration.py": {}, "import_export.py": {}, "claim.py": {"claim": "1"}, "source.py": {"source": "1"},
}


# page address -> its title: the content a person waits for
BROWSER_PAGES = {
    "": "Overview", "claims": "Claims", "review": "Review queue", "sources": "Sources",
    "calibration": "Calibration", "import-export": "Import and export", "history": "History",
    "log": "Log a claim", "claim?claim=1": "Claim", "source?source=1": "Source",
}
# the pages a person reaches from the sidebar (address -> title); the claim's and source's pages
# open from rows and links instead
SIDEBAR_PAGES = {path: title for path, title in BROWSER_PAGES.items() if "?" not in path}
CHROMIUM = "/usr/bin/chromium"
# a floor for clicks: two one-line pages under Streamlit's own navigation
FLOOR_PAGES = {"floor_one.py": "Floor", "floor_two.py": "Floor two"}
FLOOR_NAVIGATION = """import streamlit as st
st.navigation([st.Page("floor_one.py", title="Floor", default=True),
               st.Page("floor_two.py", title="Floor two", url_path="two")]).run()
"""
# drawn: the page's title is on screen, no skeleton placeholder is left, and the script has
# finished (Streamlit's "Running..." status widget is gone)
DRAWN = """title => {
  const main = document.querySelector('[data-testid=stMainBlockContainer]');
  if (!main || document.querySelector('[data-testid=stSkeleton]')
      || document.querySelector('[data-testid=stStatusWidget]')) return false;
  return [...main.querySelectorAll('h1')].some(h => h.innerText.trim() === title);
}"""


@contextmanager
def serve(script: Path, store: str):
    """`streamlit run SCRIPT` over `store` on a free port; yields (url, seconds until it answered)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env={**os.environ, "TRACKER_DATABASE_URL": store}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"streamlit did not start for {script}") from None
                time.sleep(0.05)
        yield url, time.perf_counter() - started, server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)


def peak_mib(pid: int) -> float:
    """A running process's peak resident set (VmHWM) in MiB (nan where /proc does not say)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return float("nan")


def cpu_seconds(pid: int) -> float:
    """A running process's CPU time so far (user and system), in seconds: the server's work, which
    the machine's load stretches far less than the seconds a page takes."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def forget_fits(store: str) -> None:
    """Remove the fitted parameters kept beside a SQLite store (`tracker.fitcache`): a cold start."""
    from tracker import fitcache

    path = fitcache.path_for(store)
    if path is not None:
        path.unlink(missing_ok=True)


def open_page(tab, url: str, title: str) -> float:
    """Seconds from navigating to `url` until the page titled `title` is drawn."""
    started = time.perf_counter()
    tab.goto(url)
    tab.wait_for_function(DRAWN, arg=title, polling="raf", timeout=600_000)
    return time.perf_counter() - started


def click_page(tab, path: str, title: str) -> float:
    """Seconds from a click on the sidebar's link to `path` until the page titled `title` is drawn
    (Streamlit runs the page in the open session: no reload)."""
    link = tab.locator(f'[data-testid=stSidebarNav] a[href$="/{path}"]').first
    started = time.perf_counter()
    link.click()
    tab.wait_for_function(DRAWN, arg=title, polling="raf", timeout=600_000)
    return time.perf_counter() - started


def click_rounds(tab, pages: dict[str, str], repeat: int, pid: int | None = None) -> dict[str, list[tuple]]:
    """Each page's (seconds, server CPU seconds) by a sidebar click, `repeat` rounds through all of
    them in turn (each click leaves another page, and each page has been drawn once before the
    first round); the CPU is the server process `pid`'s, nan without one."""
    seconds = {path: [] for path in pages}
    order = list(pages.items())
    for _ in range(repeat):
        for path, title in order[1:] + order[:1]:
            work = cpu_seconds(pid) if pid else float("nan")
            wall = click_page(tab, path, title)
            seconds[path].append((wall, cpu_seconds(pid) - work if pid else float("nan")))
    return seconds


def floor_clicks(tab, repeat: int) -> list[float]:
    """The click floor: seconds between the two one-line pages of a floor app, both ways."""
    folder = Path(tempfile.mkdtemp())
    for name, title in FLOOR_PAGES.items():
        (folder / name).write_text(f'import streamlit as st\nst.title("{title}")\n', encoding="utf-8")
    (folder / "floor_app.py").write_text(FLOOR_NAVIGATION, encoding="utf-8")
    with serve(folder / "floor_app.py", "sqlite://") as (url, _, _):
        open_page(tab, f"{url}/two", "Floor two")
        open_page(tab, f"{url}/", "Floor")
        return [wall for rounds in click_rounds(tab, {"": "Floor", "two": "Floor two"}, repeat).values()
                for wall, _ in rounds]


def browser_figures(stores: dict[str, str], repeat: int) -> None:
    """Print the in-browser figures of every page on each store, beside the one-line app's floor."""
    from playwright.sync_api import sync_playwright

    floor_app = Path(tempfile.mkdtemp()) / "floor.py"
    floor_app.write_text('import streamlit as st\nst.title("Floor")\n', encoding="utf-8")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        with serve(floor_app, "sqlite://") as (url, up, pid):
            first = open_page(tab, url, "Floor")
            work = cpu_seconds(pid)
            floor = min(open_page(tab, url, "Floor") for _ in range(repeat))
        print(f"floor (a one-line Streamlit app): server up {up:.2f} s, first page {first:.2f} s "
              f"(start to first page drawn {up + first:.2f} s; server CPU by then {work:.2f} s), warm page {floor:.2f} s")
        clicks = floor_clicks(tab, repeat)
        click_floor = min(clicks)
        print(f"click floor (two one-line pages, a sidebar click between them): best {click_floor:.2f} s, "
              f"median {statistics.median(clicks):.2f} s")
        for label, store in stores.items():
            forget_fits(store)  # cold: no fit kept from an earlier run
            with serve(REPO / "dashboard.py", store) as (url, up, pid):
                first = open_page(tab, f"{url}/", "Overview")
                print(f"\n{label} (load {os.getloadavg()[0]:.2f}): server up {up:.2f} s; first page after start "
                      f"(Overview) {first:.2f} s ({first / max(floor, 1e-9):.0f}x the floor's warm page; "
                      f"start to first page drawn {up + first:.2f} s; server CPU by then {cpu_seconds(pid):.2f} s)")
                print(f"{'page':<18}{'first s':>9}{'warm s':>9}{'warm x floor':>14}")
                for path, title in BROWSER_PAGES.items():
                    cold = open_page(tab, f"{url}/{path}", title)
                    warm = min(open_page(tab, f"{url}/{path}", title) for _ in range(repeat))
                    print(f"{'/' + path:<18}{cold:>9.2f}{warm:>9.2f}{warm / floor:>14.1f}")
                open_page(tab, f"{url}/", "Overview")
                clicked = click_rounds(tab, SIDEBAR_PAGES, repeat, pid)
                print(f"warm pages by a sidebar click, {repeat} rounds (load {os.getloadavg()[0]:.2f}):")
                print(f"{'page':<18}{'best s':>9}{'median s':>10}{'best x floor':>14}{'server CPU s':>14}")
                for path, rounds in clicked.items():
                    walls = [wall for wall, _ in rounds]
                    print(f"{'/' + path:<18}{min(walls):>9.2f}{statistics.median(walls):>10.2f}"
                          f"{min(walls) / click_floor:>14.1f}{statistics.median(c for _, c in rounds):>14.2f}")
                print(f"server peak memory (VmHWM): {peak_mib(pid):,.0f} MiB")
            # a restart over the same store: the fit, the scores and the Overview's glance kept beside it
            with serve(REPO / "dashboard.py", store) as (url, up, pid):
                first = open_page(tab, f"{url}/", "Overview")
                work = cpu_seconds(pid)
                calibration = open_page(tab, f"{url}/calibration", "Calibration")
                print(f"restarted (fit and scores kept; load {os.getloadavg()[0]:.2f}): first page (Overview) {first:.2f} s "
                      f"(server CPU by then {work:.2f} s), then Calibration {calibration:.2f} s")
        browser.close()


def run_page(app, name: str, params: dict) -> tuple[float, bool]:
    """Seconds for one run of the page (through the dashboard's navigation), and whether it raised."""
    app.switch_page(f"app_pages/{name}")
    app.query_params.clear()
    for key, value in params.items():
        app.query_params[key] = value
    started = time.perf_counter()
    app.run()
    return time.perf_counter() - started, bool(app.exception)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=make_store.DATA / "dashboard.db")
    parser.add_argument("--sources", type=int, default=2_000)
    parser.add_argument("--claims", type=int, default=50_000)
    parser.add_argument("--reports", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="time pages in Chromium instead (see above)")
    args = parser.parse_args(argv)

    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        make_store.write_store(make_store.make_world(args.sources, args.claims, args.reports), args.db)
    if args.browser:
        example = make_store.DATA / "example.db"
        if not example.exists():
            subprocess.run([sys.executable, "-m", "tracker", "--db", str(example), "demo"], check=True)
        print(f"dashboard in Chromium ({time.strftime('%Y-%m-%d %H:%M')}; load {os.getloadavg()[0]:.2f})")
        browser_figures({"Aleppo example": f"sqlite:///{example}",
                         f"{args.claims:,} claims": f"sqlite:///{args.db}"}, args.repeat)
        return 0
    os.environ["TRACKER_DATABASE_URL"] = f"sqlite:///{args.db}"
    os.chdir(REPO)

    with sqlite3.connect(args.db) as connection:
        started = time.perf_counter()
        connection.execute("SELECT count(*) FROM report").fetchone()
        floor = time.perf_counter() - started
        claims = connection.execute("SELECT count(*) FROM claim").fetchone()[0]

    print(f"dashboard benchmark: {claims:,} claims in {args.db.name} ({time.strftime('%Y-%m-%d')}); "
          f"floor: count(*) of reports {floor * 1000:.1f} ms")
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    started = time.perf_counter()
    app.run()
    print(f"first run of the dashboard (opens the store): {time.perf_counter() - started:.2f} s")
    print(f"{'page':<18}{'cold s':>9}{'warm s':>9}{'warm x floor':>14}")
    for name, params in PAGES.items():
        cold, failed = run_page(app, name, params)
        warm = min(run_page(app, name, params)[0] for _ in range(args.repeat))
        flag = "  (raised!)" if failed else ""
        print(f"{name:<18}{cold:>9.2f}{warm:>9.2f}{warm / floor:>14.0f}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
