"""CSV written a column at a time (`tracker.safe_text._csv_by_column`): for the kinds of column the
tracker writes, the same bytes as pandas' own writer after the same guards (`_pandas_csv`), and
the column-by-column writer is what the command line's CSV actually goes through."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker import safe_text
from tracker.cli import main

AWKWARD = ["", " ", " a", "a ", ",", '"', '""', "a,b", 'say "hi"', "\n", "\r", "\r\n", "a\rb", "line\nbreak",
           "=1+1", "+972", "-5", "@x", "'=1", "''+2", "'Tis", "\tx", "tab\tin", "naïve", "日本語", "🙂", "\u2028",
           "\x00", "nan", "None", "1e5", "\ufeff"]
texts = st.one_of(st.sampled_from(AWKWARD), st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
                  st.lists(st.sampled_from(AWKWARD), max_size=4).map("".join))
FLOATS = [math.nan, math.inf, -math.inf, -0.0, 0.0, 1e-300, 1e300, 0.1, 1.0, 3.0, -2.0, 1e16, 1e-5, 2**53 + 1.0,
          5e-324, 2.2250738585072014e-308 / 3, 0.30000000000000004, 123456.789]
floats = st.one_of(st.sampled_from(FLOATS), st.floats(allow_nan=True, allow_infinity=True))
INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
MISSING = [None, np.nan, pd.NA]


@st.composite
def columns(draw, rows: int):
    """One column of `rows` cells, of a kind the tracker writes (or, now and then, one it leaves to pandas)."""
    kind = draw(st.sampled_from(["int", "float64", "float32", "bool", "object", "str", "string", "utc", "other"]))
    if kind == "int":
        dtype = np.dtype(draw(st.sampled_from(INTS)))
        info = np.iinfo(dtype)
        values = draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=rows, max_size=rows))
        return pd.Series(np.array(values, dtype=dtype))
    if kind.startswith("float"):
        values = draw(st.lists(floats, min_size=rows, max_size=rows))
        with np.errstate(over="ignore"):
            return pd.Series(np.array(values, dtype=kind))
    if kind == "bool":
        return pd.Series(np.array(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool))
    cells = st.one_of(texts, st.sampled_from(MISSING))
    if kind == "object":  # text or missing, as a frame built from records holds it
        return pd.Series(draw(st.lists(cells, min_size=rows, max_size=rows)), dtype=object)
    if kind in ("str", "string"):  # pandas' text kind (pyarrow), and the one of Python strings with pd.NA
        values = draw(st.lists(st.one_of(texts, st.none()), min_size=rows, max_size=rows))
        return pd.Series(pd.array(values, dtype="str" if kind == "str" else "string[python]"))
    if kind == "utc":
        stamps = draw(st.lists(st.one_of(st.none(), st.integers(-2 * 10**15, 4 * 10**15),
                                          st.integers(-5 * 10**16, 3 * 10**17)), min_size=rows,
                               max_size=rows))
        micros = np.array([np.datetime64("NaT") if s is None else np.datetime64(s, "us") for s in stamps],
                          dtype="datetime64[us]")
        unit = draw(st.sampled_from(["s", "ms", "us"]))
        return pd.Series(micros).dt.tz_localize("UTC").astype(f"datetime64[{unit}, UTC]")
    other = draw(st.sampled_from(["Int64", "category", "timedelta", "mixed", "naive", "complex"]))
    if other == "Int64":
        return pd.Series(pd.array(draw(st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=rows,
                                                max_size=rows)), dtype="Int64"))
    if other == "category":
        return pd.Series(draw(st.lists(st.sampled_from(["a", ",b", None]), min_size=rows, max_size=rows)),
                         dtype="category")
    if other == "timedelta":
        return pd.Series(pd.to_timedelta(draw(st.lists(st.integers(0, 10**6), min_size=rows, max_size=rows)), "s"))
    if other == "mixed":
        return pd.Series(draw(st.lists(st.one_of(texts, st.integers(), floats, st.none()), min_size=rows,
                                       max_size=rows)), dtype=object)
    if other == "naive":
        return pd.Series(pd.to_datetime(draw(st.lists(st.integers(0, 10**9), min_size=rows, max_size=rows)), unit="s"))
    return pd.Series(np.array(draw(st.lists(floats, min_size=rows, max_size=rows)), dtype=complex))


@st.composite
def frames(draw):
    """A frame of 1-6 columns of random kinds and 0-40 rows, with awkward (unique) column names."""
    rows = draw(st.integers(0, 40))
    names = draw(st.lists(st.one_of(texts, st.integers(-3, 3)), min_size=1, max_size=6, unique_by=str))
    return pd.DataFrame({name: draw(columns(rows)) for name in names})


def _cell_by_cell(frame) -> str:
    """The CSV with each text cell through `guard_cell` one at a time and everything else, times
    included, written by pandas: what `guarded_csv` wrote before its columns were done in bulk."""
    from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

    expected = frame.copy()
    for name in expected.columns:
        column = expected[name]
        if not (is_numeric_dtype(column) or is_bool_dtype(column) or is_datetime64_any_dtype(column)):
            expected[name] = column.astype(object).map(lambda v: safe_text.guard_cell(v) if isinstance(v, str) else v)
    return expected.to_csv(index=False)


def _writable(frame) -> bool:
    """Whether every column of a guarded frame is of a kind the column-by-column writer takes:
    numpy numbers or booleans, or text and missing cells."""
    def takes(column):
        if isinstance(column.dtype, pd.StringDtype):
            return True
        if column.dtype == object:
            return all(isinstance(v, str) or v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                       for v in column)
        return isinstance(column.dtype, np.dtype) and column.dtype.kind in "iubf"

    return len(frame) > 0 and all(takes(frame[name]) for name in frame.columns)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), block=st.sampled_from([1, 7, safe_text._CHUNK_CELLS]))
def test_a_frame_is_written_as_pandas_writes_it_after_the_guards(frame, block):
    """Whatever the kinds of column and cells, and however many cells are written at a time."""
    expected = safe_text._pandas_csv(frame)
    assert expected == _cell_by_cell(frame)
    kept, safe_text._CHUNK_CELLS = safe_text._CHUNK_CELLS, block
    try:
        assert safe_text.guarded_csv(frame) == expected
        guarded = safe_text._guarded(frame)
        by_column = safe_text._csv_by_column(guarded)
    finally:
        safe_text._CHUNK_CELLS = kept
    if _writable(guarded):  # the writer takes every such frame: a silent fallback would pass the line above
        assert by_column == expected
    else:
        assert by_column is None


@pytest.mark.parametrize("frame, written", [
    (pd.DataFrame({"a": pd.Series(["", None, "x"], dtype=object)}), 'a\n""\n""\nx\n'),
    (pd.DataFrame({"": [np.nan, 1.5]}), '""\n""\n1.5\n'),
    (pd.DataFrame({"a": ["", "x"], "b": [np.nan, 2.0]}), "a,b\n,\nx,2.0\n"),
    (pd.DataFrame({"a,b": pd.Series([" lead", "trail ", "a\rb", "a\r\nb", 'q"q'], dtype=object), "n": range(5)}),
     '"a,b",n\n lead,0\ntrail ,1\na\rb,2\n"a\r\nb",3\n"q""q",4\n'),
    (pd.DataFrame({"p": np.array([0.1, -0.0, 1e300, 5e-324, np.inf], dtype="float64"),
                   "q": np.array([0.1, np.nan, 1.0, -1.5, 3.0], dtype="float32"),
                   "u": np.array([2**64 - 1, 0, 1, 2, 3], dtype="uint64"), "t": [True, False, True, False, True]}),
     "p,q,u,t\n0.1,0.1,18446744073709551615,True\n-0.0,,0,False\n1e+300,1.0,1,True\n5e-324,-1.5,2,False\n"
     "inf,3.0,3,True\n"),
])
def test_the_awkward_cells_are_written_as_pandas_writes_them(frame, written):
    assert frame.to_csv(index=False) == written  # the rule, as pandas' own writer has it
    assert safe_text._csv_by_column(frame) == written


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": pd.array([1, None], dtype="Int64")}),
    pd.DataFrame({"a": pd.Series(["x", None], dtype="category")}),
    pd.DataFrame({"a": pd.to_timedelta([1, 2], unit="s")}),
    pd.DataFrame({"a": pd.Series(["x", 7], dtype=object)}),
    pd.DataFrame({"a": pd.to_datetime(["2016-12-13", None])}),
    pd.DataFrame({"a": [1 + 2j, 3j]}),
    pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])),
    pd.DataFrame([[1, 2]], columns=["a", "a"]),
    pd.DataFrame({"a": pd.Series([], dtype=object), "b": pd.Series([], dtype=float)}),
    pd.DataFrame(index=range(3)),
])
def test_any_other_frame_is_left_to_pandas(frame):
    assert safe_text._csv_by_column(frame) is None
    if frame.columns.is_unique:  # `guarded_csv`'s guards take a column by its name
        assert safe_text.guarded_csv(frame) == frame.to_csv(index=False)


@pytest.mark.parametrize("command", [["scores"], ["predict"], ["predict", "--at-report-time"], ["calibration"]])
def test_the_command_lines_csv_is_written_column_by_column(seeded, db_path, monkeypatch, command):
    """Each CSV command's frame goes through the column-by-column writer (not pandas' own), with
    pandas' bytes."""
    seeded.add_report(1, '=HYPERLINK("x"), said',  "denied", "2016-12-13T20:00:00.5Z")
    written = []
    by_column = safe_text._csv_by_column

    def recording(frame):
        text = by_column(frame)
        written.append((text, frame.to_csv(index=False)))
        return text

    monkeypatch.setattr(safe_text, "_csv_by_column", recording)
    result = CliRunner().invoke(main, ["--db", str(db_path), *command, "--format", "csv"])
    assert result.exit_code == 0, result.output
    [(text, expected)] = written
    assert text is not None and text == expected == result.output


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.floats(width=64), min_size=1, max_size=50))
def test_a_float64_cell_is_the_text_pandas_writes(values):
    """Float64 cells are written by Python's repr, which gives the text numpy's `astype(str)`
    (pandas' call) gives for every float64: the shortest that reads back, the same exponents."""
    frame = pd.DataFrame({"x": np.array(values, dtype=np.float64)})
    assert safe_text._csv_by_column(frame) == frame.to_csv(index=False)
