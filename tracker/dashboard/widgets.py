"""Small widgets every Streamlit page shares: tables, pagers, pickers, date previews, chart clicks.

Widgets here only collect input and show results: every check is the service layer's, and its
`LedgerError` messages are shown as they are. User text is shown through `md` (Markdown escaped)
or in tables, never as HTML. The ledger and cached scores are in `cache`, where each page's
script lives in `pages`.
"""

from __future__ import annotations

import copy
import functools
import re
from datetime import datetime

import pandas as pd
import streamlit as st

from tracker import queries, safe_text
from tracker.dashboard.cache import ledger
from tracker.dashboard.pages import SOURCE_PAGE
from tracker.dates import DateError, Typed, format_when, read_when, zone_label
from tracker.ledger import ClaimView

PAGE_SIZES = (25, 50, 100)


# -- display helpers -----------------------------------------------------------------------
def md(text) -> str:
    """User text made safe to show in Markdown: every Markdown character is escaped."""
    return safe_text.markdown(text)


def when(moment: datetime | None, date_only: bool = False) -> str:
    """A time as the tracker writes it (ISO 8601, UTC, `Z`), a date as `2016-12-13`, or "" for none."""
    if moment is None or pd.isna(moment):  # NaT is a datetime too
        return ""
    return format_when(moment, bool(date_only))


def safe_url(url: str | None) -> str | None:
    """A URL fit for a link (http or https), else None: other schemes are shown as text only."""
    if isinstance(url, str) and re.match(r"^https?://", url.strip(), re.IGNORECASE):
        return url.strip()
    return None


def flash() -> None:
    """Show (once) the message the last action left for this rerun."""
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message)



WRAPPED = 72  # px: a row this tall (over 4rem) lets long text wrap onto three lines instead of being cut
# a wrapped statement's lines: a "large" column (400 px) holds some 50 characters a line, each line ~18 px
_LINE_CHARS, _LINE_PX, _ROW_PADDING, _MOST_LINES = 45, 18, 16, 12


def wrapped_row_height(texts) -> int:
    """A row height (px) that shows the longest of `texts` whole, wrapped (at least WRAPPED).

    st.dataframe draws cells on a canvas: a cell shows no tooltip of its own, and a pandas Styler's
    `set_tooltips` is shown as raw `<span class="pd-t">` markup (Streamlit does not support Styler
    hovering), so the rows grow instead, up to a dozen lines.
    """
    longest = max((len(str(text)) for text in texts), default=0)
    lines = min(-(-longest // _LINE_CHARS), _MOST_LINES)
    return max(WRAPPED, _ROW_PADDING + lines * _LINE_PX)
CLAIM_COLUMNS = {  # how a claims table's columns are shown, wherever one is
    "id": st.column_config.NumberColumn("#", format="%d", width="small"),
    "claim_id": st.column_config.NumberColumn("claim", format="#%d", width="small"),
    "first reported": st.column_config.TextColumn("first reported", width=130),
    "claim": st.column_config.TextColumn("claim", width="large", help="The statement, whole (long ones wrap)"),
    "overdue": st.column_config.CheckboxColumn("overdue", width="small"),
    **{column: st.column_config.Column(column, width=95) for column in ("status", "outcome")},
    **{column: st.column_config.Column(column, width="small") for column in ("reports", "ref")},
    "expected by": st.column_config.TextColumn("expected by", width=130),
}


def table(frame, key: str, *, select: bool = False, wrap: bool = False, **options):
    """A table as tall as its rows (no scroll box inside the page), as wide as the page; `wrap` lets
    long text wrap; `select` makes one row selectable (the event is returned). A read-only table sits
    in a keyed container: its `st-key-<key>` class is what a browser test finds it by."""
    # scores carry their level and date in attrs: Arrow cannot serialize them (and need not)
    if isinstance(frame, pd.DataFrame):
        shown = frame.copy(deep=False)
        shown.attrs = {}
    else:  # a Styler, over a frame made for showing
        shown = frame
        shown.data.attrs = {}
    options = {"hide_index": True, "height": "content", "width": "stretch", **options}
    if wrap:  # every statement on the page shown whole
        data = shown.data if not isinstance(shown, pd.DataFrame) else shown
        options["row_height"] = wrapped_row_height(data["claim"]) if "claim" in data else WRAPPED
    if select:
        return st.dataframe(shown, key=key, on_select="rerun", selection_mode="single-row", **options)
    with st.container(key=key):
        return st.dataframe(shown, **options)


# a time column, and the column that says which of its values are dates given without a time
DATE_ONLY_COLUMNS = {"first_reported_at": "first_reported_date_only", "expected_by": "expected_by_date_only",
                     "reported_at": "reported_date_only", "as of": "as_of_date_only", "logged_at": None}


def claims_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A page of `queries.claim_rows` as shown: the date first, times written out (a date given without a
    time as the date), columns named for people."""
    table = frame.copy()
    for column, flag in DATE_ONLY_COLUMNS.items():
        if column in table:
            flags = table[flag] if flag in table else [False] * len(table)
            table[column] = [when(moment, date_only) for moment, date_only in zip(table[column], flags)]
    table = table.drop(columns=[flag for flag in DATE_ONLY_COLUMNS.values() if flag in table])
    table = table.rename(columns={"first_reported_at": "first reported", "expected_by": "expected by",
                                  "reported_at": "reported at", "logged_at": "logged at", "statement": "claim"})
    first = [c for c in ("id", "first reported", "logged at", "claim") if c in table]
    last = [c for c in ("ref",) if c in table]  # a reference is for machines: read the statement first
    return table[first + [c for c in table.columns if c not in first + last] + last]


def paged(key: str, fetch) -> queries.Page:
    """The current page of `fetch(offset=, limit=)` -> Page, per the pager's state (see `pager`)."""
    limit = st.session_state.get(f"{key}_size", PAGE_SIZES[0])
    number = int(st.session_state.get(f"{key}_page", 1))
    page = fetch(offset=(number - 1) * limit, limit=limit)
    if number > page.pages:  # the filter now matches fewer rows: show its last page
        number = page.pages
        st.session_state[f"{key}_page"] = number
        page = fetch(offset=(number - 1) * limit, limit=limit)
    return page


def paged_frame(key: str, frame: pd.DataFrame) -> queries.Page:
    """The current page of a frame already in memory (a table of scores), per the pager's state."""
    return paged(key, lambda offset, limit: queries.Page(frame.iloc[offset:offset + limit], len(frame), offset, limit))


def pager(key: str, page: queries.Page, what: str = "claims") -> None:
    """Rows-per-page and page-number controls, with where this page sits in the whole."""
    left, mid, right = st.columns([1, 1, 3], vertical_alignment="bottom")
    left.selectbox("Rows per page", PAGE_SIZES, key=f"{key}_size", on_change=reset_page, args=(key,))
    mid.number_input("Page", min_value=1, max_value=page.pages, step=1, key=f"{key}_page")
    first = page.offset + 1 if page.total else 0
    right.caption(f"{first}-{page.offset + len(page.rows)} of {page.total} {what} "
                  f"(page {page.offset // page.limit + 1} of {page.pages})")


def reset_page(key: str) -> None:
    """Back to the first page (a filter changed)."""
    st.session_state[f"{key}_page"] = 1


def picked(event, field: str):
    """The `field` value of the mark clicked in a chart shown with on_select="rerun", if any."""
    from tracker.charts import PICK

    try:
        chosen = event.selection.get(PICK) if event is not None else None
    except AttributeError:
        return None
    if isinstance(chosen, list) and chosen and isinstance(chosen[0], dict):
        return chosen[0].get(field)
    if isinstance(chosen, dict):
        values = chosen.get(field)
        return values[0] if isinstance(values, list) and values else values
    return None


def open_picked(event, field: str, page: str, param: str) -> None:
    """Open the page of the source or claim clicked in a chart."""
    value = picked(event, field)
    if value is not None:
        st.switch_page(page, query_params={param: str(int(value))})


def chart(built, **options):
    """Show a chart of `tracker.charts` (`st.altair_chart` with `options`) without Altair's schema check.

    Streamlit turns the chart into its Vega-Lite spec with `to_dict()`, which checks the whole spec
    against the schema with jsonschema every time a page is drawn: 0.05-0.2 s a chart, the largest
    part of a warm page's script (benchmarks/README.md). Every chart the pages draw is checked
    against the schema in tests/test_dashboard.py, so here `to_dict` skips the check; the spec drawn
    is the same."""
    if not isinstance(built.to_dict, _KeptSpec):
        object.__setattr__(built, "to_dict", functools.partial(type(built).to_dict, built, validate=False))
    return st.altair_chart(built, **options)


class _KeptSpec:
    """A chart's `to_dict` that turns it into its Vega-Lite spec (unchecked, as `chart` draws) once and
    gives a copy of that spec at every later draw: for charts built once and drawn on every visit
    (the leaderboards), where Altair's turning the chart into its spec was 0.1-0.3 s of each warm page.
    The spec carries its rows inline (Streamlit moves them to Arrow as it draws them), not as the
    Arrow data Streamlit's own conversion would make, which lives only for that one draw."""

    def __init__(self, built) -> None:
        self.built, self.spec = built, None

    def __call__(self, **options) -> dict:
        if options:  # not Streamlit drawing the whole chart: Altair's own conversion
            return type(self.built).to_dict(self.built, **{"validate": False, **options})
        if self.spec is None:
            import altair as alt

            with alt.data_transformers.enable("default", max_rows=None):
                self.spec = type(self.built).to_dict(self.built, validate=False)
        return copy.deepcopy(self.spec)


@st.cache_resource(max_entries=32, show_spinner=False)
def _leaderboard(shown: pd.DataFrame, level: float, title: str):
    """`charts.leaderboard_chart` of these rows, built once, its spec made at its first draw (Altair's
    building and conversion were most of the Overview's warm script; drawing never changes either)."""
    from tracker.charts import leaderboard_chart

    built = leaderboard_chart(shown, level=level, title=title)
    object.__setattr__(built, "to_dict", _KeptSpec(built))
    return built


def source_chart(scores: pd.DataFrame, key: str, title: str, level: float = 0.9) -> None:
    """A leaderboard of these sources (`charts.leaderboard_chart`); clicking one opens its page."""
    from tracker.charts import PICK

    shown = scores.copy(deep=False)
    shown.attrs = {}  # see `table`
    event = chart(_leaderboard(shown, level, title), key=key, on_select="rerun", selection_mode=[PICK],
                  width="stretch")
    open_picked(event, "source_id", SOURCE_PAGE, "source")


def open_selected_row(event, frame: pd.DataFrame, page: str, param: str, column: str = "id") -> None:
    """Open the page of the row selected in a table shown with on_select="rerun"."""
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if rows and rows[0] < len(frame):
        st.switch_page(page, query_params={param: str(int(frame.iloc[rows[0]][column]))})


def open_control(label: str, options: dict[int, str], page: str, param: str, key: str) -> None:
    """A picker and an Open button: the keyboard (and test-driver) way to a claim or source page."""
    if not options:
        return
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    choice = left.selectbox(label, list(options), format_func=lambda i: options[i], key=key)
    if right.button("Open", key=f"{key}_button") and choice is not None:
        st.switch_page(page, query_params={param: str(choice)})


def query_id(name: str) -> int | None:
    """The integer in query parameter `name` (`?claim=42`), or None when missing or not a number."""
    raw = st.query_params.get(name)
    try:
        return int(str(raw).lstrip("#")) if raw is not None else None
    except ValueError:
        return None


# -- input helpers -------------------------------------------------------------------------
def one_click(label: str, choices: list[str], key: str, action) -> None:
    """A caption and a button per choice (recent sources, recent topics), each a click away."""
    if not choices:
        return
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key=f"{key}_row"):
        st.caption(label, width="content")
        for number, choice in enumerate(choices):
            st.button(choice, key=f"{key}{number}", on_click=action, args=(choice,), type="tertiary", width="content")


def date_preview(text: str | None, zone: str | None = None) -> None:
    """Under a free-text date: what the tracker reads it as (in the entry's `zone`), or why it cannot."""
    if not (text or "").strip():
        return
    try:
        read = read_when(text, zone=zone)
    except DateError as exc:
        st.caption(f":red[{md(exc)}]")
        return
    if read.date_only:
        st.caption(f"Read as the date {format_when(read.at, True)} ({read.at:%A %d %B %Y}; kept as a date, no time)")
    else:
        st.caption(f"Read as {format_when(read.at)} ({read.at:%A %d %B %Y, %H:%M} UTC)")


@functools.cache
def _zones() -> tuple[str, ...]:
    """Every time zone name Python knows, sorted (read once: it walks the zone files, 30-80 ms)."""
    from zoneinfo import available_timezones

    return tuple(sorted({"UTC"} | available_timezones()))


def zone_picker(key: str, label: str = "Times typed here are in") -> str:
    """A per-entry time zone for the times typed in one form, starting at the user's setting."""
    default = zone_label()
    choices = [default] + [zone for zone in _zones() if zone != default]
    if st.session_state.get(key) not in choices:
        st.session_state[key] = default
    st.selectbox(label, choices, key=key, help="A time written without a zone or offset is taken in this zone; "
                 "it starts at TRACKER_TIMEZONE. An offset or abbreviation in the text (+02:00, EET) wins.")
    return st.session_state[key]


def entered_when(text: str | None, zone: str | None) -> Typed | str:
    """What a time field holds, for the ledger to read in the entry's zone ("" when empty)."""
    return Typed(text, zone) if (text or "").strip() else ""


def source_picker(label: str, key: str, names: dict[str, str | None], *, placeholder: str, help: str) -> None:
    """Pick a source by name or alias: typing narrows the list and Enter takes the best existing match.

    A source the list lacks is an explicit choice ("A new source"), which asks for its name and
    lists the known names close to it, each a click away. `picked_source(key)` reads the choice.
    """
    state = st.session_state
    if state.get(f"{key}_new"):
        st.text_input(f"{label}: the new source's name", key=f"{key}_name", placeholder="as the source is usually called")
        typed = state.get(f"{key}_name")
        known = queries.find_source(ledger(), typed)
        if known is not None:
            st.caption(f"{md(typed)} is already known ({md(known['name'])}); that source will be used")
        # one button per source, however many of its names are close
        near = list(dict.fromkeys(names.get(n) or n for n in queries.near_names(typed, names)))
        near = [n for n in near if known is None or n != known["name"]]
        if near:
            st.caption("Known names close to it:")
            for number, name in enumerate(near):
                st.button(f"Use {name}", key=f"{key}_near{number}", on_click=_use_known, args=(key, name))
        elif typed and known is None:
            st.caption(f"New source: {md(' '.join(typed.split()))} will be created")
    else:
        st.selectbox(label, list(names), index=None, key=key, placeholder=placeholder, help=help,
                     format_func=lambda n: f"{n} (alias of {names[n]})" if names.get(n) else n)
        source_preview(state.get(key))
    st.checkbox("A new source", key=f"{key}_new", help="Not in the list yet: name it, and it is created with the claim")


def _use_known(key: str, name: str) -> None:
    st.session_state[f"{key}_new"] = False
    st.session_state[key] = name


def picked_source(key: str) -> str | None:
    """The source a `source_picker` holds: the picked name or alias, or the new source's name."""
    state = st.session_state
    return (state.get(f"{key}_name") if state.get(f"{key}_new") else state.get(key)) or None


def clear_source_picker(key: str) -> None:
    """Empty a `source_picker` for the next report."""
    state = st.session_state
    state[key], state[f"{key}_new"], state[f"{key}_name"] = None, False, ""


def source_preview(name: str | None) -> None:
    """Under a source picker: which source a typed name or alias is, or that it will be created."""
    if not (name or "").strip():
        return
    found = queries.find_source(ledger(), name)
    if found is None:
        st.caption(f"New source: {md(' '.join(name.split()))} will be created")
    elif found["alias"]:
        st.caption(f"{md(found['alias'])} is an alias of {md(found['name'])}")


# -- a claim's reports and verdicts as shown ------------------------------------------------
STRUCK = "text-decoration: line-through; color: #808495"  # a retracted row in a table


def retraction(row) -> str:
    """"Retracted by X at T: reason" for a retracted claim or report, else ""."""
    if row.retracted_at is None:
        return ""
    return f"Retracted by {row.retracted_by or 'someone'} at {when(row.retracted_at)}: {row.retraction_reason or ''}"


def reports_frame(view: ClaimView) -> pd.DataFrame:
    """A claim's reports, retracted ones too (flagged): id, reported_at, source, source_id, stance, via, ..."""
    return pd.DataFrame([{
        "id": r.id, "reported_at": r.reported_at, "source": source, "source_id": r.source_id, "stance": r.stance,
        "via": via or "", "quote": r.quote or "", "url": r.url or "", "note": r.note or "",
        "logged_by": r.logged_by or "", "retracted": retraction(r),
    } for r, source, via in view.reports],
        columns=["id", "reported_at", "source", "source_id", "stance", "via", "quote", "url", "note", "logged_by",
                 "retracted"])


def outcomes_frame(view: ClaimView) -> pd.DataFrame:
    """A claim's verdicts, oldest first, the last marked as the one in force."""
    last = len(view.outcomes) - 1
    return pd.DataFrame([{
        "verdict": o.verdict, "decided_at": o.decided_at, "evidence": o.evidence_url or "", "note": o.note or "",
        "reviewer": o.reviewer or "", "recorded_at": o.recorded_at, "in force": i == last,
    } for i, o in enumerate(view.outcomes)],
        columns=["verdict", "decided_at", "evidence", "note", "reviewer", "recorded_at", "in force"])
