"""User text made safe for where it is shown: CSV cells, Markdown, terminals.

Stored text is kept as written; each output escapes it for its own reader, in one place each:

- **CSV cells** (every CSV the tracker writes: exports, `scores`, `predict`, `calibration`): a cell
  that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
  return) gets a leading `'`. So that the guard can be taken off exactly, a cell that only *looks*
  guarded (apostrophes, then one of those characters, such as "'+972 Magazine") gets one too.
  The CSV importer takes off exactly the guards this added (`GUARDED_CELL`); JSON is read verbatim.
- **Markdown** (every user text in a dashboard message, caption or label): every character
  Markdown, Streamlit's directives (`:red[...]`, `:emoji:`) or LaTeX (`$`) act on is escaped, so a
  planted `![](https://...)` or `[link](...)` shows as the characters it is.
- **Terminals** (the command line's human-readable output and its error messages): control
  characters other than newline and tab (ANSI escapes among them) are shown as `\\x1b`-style
  escapes instead of being sent to the terminal.
"""

from __future__ import annotations

import functools
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet run a cell
_LOOKS_GUARDED = re.compile(r"'*[=+\-@\t\r]")
GUARDED_CELL = r"'+[=+\-@\t\r]"  # a cell `guard_cell` guarded (as a pattern for pandas' str.match)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:&=^])")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # and lone surrogates, which no terminal takes


def guard_cell(value) -> str:
    """A value as a CSV cell that no spreadsheet runs as a formula (a leading `'` where needed)."""
    text = "" if value is None else str(value)
    return "'" + text if _LOOKS_GUARDED.match(text) else text


def guarded_csv(frame) -> str:
    """A pandas frame as CSV text (no index), every text cell through `guard_cell`."""
    guarded = _guarded(frame)
    text = _csv_by_column(guarded)
    return guarded.to_csv(index=False) if text is None else text


def _pandas_csv(frame) -> str:
    """`guarded_csv` as pandas' own writer makes it, cell by cell: what `_csv_by_column` must equal."""
    return _guarded(frame).to_csv(index=False)


def _guarded(frame):
    """A copy of `frame` with every text cell through `guard_cell` and UTC times as pandas writes them."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

    frame = frame.copy()
    for name in frame.columns:
        column = frame[name]
        texts = _utc_texts(column) if _utc_times(column) else None
        if texts is not None:
            frame[name] = texts
        elif isinstance(column.dtype, pd.StringDtype):
            # every cell is text or missing: the guard's pattern matched in one pass, not per cell
            looks = column.str.match(_LOOKS_GUARDED.pattern).fillna(False).to_numpy(dtype=bool)
            if looks.any():
                frame[name] = column.where(~looks, "'" + column)
        elif not (is_numeric_dtype(column) or is_bool_dtype(column) or is_datetime64_any_dtype(column)):
            frame[name] = column.astype(object).map(lambda v: guard_cell(v) if isinstance(v, str) else v)
    return frame


def _csv_by_column(frame) -> str | None:
    """`frame.to_csv(index=False)` byte for byte, built a column at a time and joined once (pandas'
    writer takes each row through the csv module: about 0.2 s for 60,000 rows of 10 columns).
    Columns of numpy numbers or booleans, and of text (missing cells empty): each formatted by the
    call pandas makes (`astype(str)` for floats, `str` of each number otherwise), quoted where the
    csv module quotes (`_csv_rule`). None for any other frame (no rows or columns, column names not
    one flat set of unique labels, or a column of another kind): pandas writes those itself."""
    import pandas as pd

    columns = frame.columns
    rule = _csv_rule()
    if (rule is None or not len(frame) or not len(columns) or isinstance(columns, pd.MultiIndex)
            or not columns.is_unique):
        return None
    special, end, lone_empty = rule
    written = [frame.iloc[:0].to_csv(index=False)]  # the names as pandas writes them
    rows = max(1, _CHUNK_CELLS // len(columns))
    for start in range(0, len(frame), rows):  # a block of rows at a time: their cells' strings, then one text
        part = frame.iloc[start:start + rows]
        cells = []
        for i in range(len(columns)):
            texts = _column_texts(part.iloc[:, i], special)
            if texts is None:
                return None
            cells.append(texts)
        if len(cells) == 1:  # a row of one empty field is written quoted, so that it is not a blank line
            cells[0] = [lone_empty if text == "" else text for text in cells[0]]
        written.append(end.join(map(",".join, zip(*cells))) + end)
    return "".join(written)


_CHUNK_CELLS = 200_000  # cells turned to strings at a time (pandas' own writer takes 100,000)


def _column_texts(column, special) -> list[str] | None:
    """A column's cells as `to_csv` writes them (`get_values_for_csv` in pandas' own code, then the
    csv module), or None when the column is not of a kind `_csv_by_column` writes."""
    import numpy as np
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":  # pandas hands the csv module Python ints and bools
        return list(map(str, column.to_numpy().tolist()))
    if dtype == np.float64:
        # pandas' own call for floats with no float_format is `astype(str)`: for float64 the
        # shortest text that reads back, which Python's repr writes too, in 70% of the time
        texts = list(map(float.__repr__, column.to_numpy().tolist()))
        for i in np.flatnonzero(np.isnan(column.to_numpy())).tolist():
            texts[i] = ""
        return texts
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = column.to_numpy()
        texts = values.astype(str)  # pandas' own call for floats with no float_format
        texts[np.isnan(values)] = ""
        return texts.tolist()
    if isinstance(dtype, pd.StringDtype):  # text or missing by its kind
        return _quoted(column.to_numpy(dtype=object, na_value="").tolist(), special)
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        values = np.array(column.to_numpy(dtype=object), dtype=object)  # a copy: the missing cells are blanked
        missing = pd.isna(values)
        if pd.api.types.infer_dtype(values[~missing], skipna=False) not in ("string", "empty"):
            return None
        values[missing] = ""
        return _quoted(values.tolist(), special)
    return None


def _quoted(texts: list[str], special: str) -> list[str]:
    """`texts` with each that holds one of the `special` characters quoted, its quotes doubled (the
    characters looked for in the column's text joined first: most columns hold none)."""
    joined = "".join(texts)
    hits: set[int] = set()
    for character in [c for c in special if c in joined]:
        hits.update([i for i, text in enumerate(texts) if character in text])
    for i in hits:
        texts[i] = '"' + texts[i].replace('"', '""') + '"'
    return texts


@functools.cache
def _csv_rule():
    """How pandas' writer quotes a field, read off the csv module with pandas' settings and checked
    against pandas' own output: (the characters that get a field quoted, the line end, a lone empty
    field as written), or None when pandas' output does not follow that rule (a field quoted for
    where a character stands in it, say), so that only pandas writes CSV."""
    import csv
    import io
    import os

    import pandas as pd

    end = os.linesep  # pandas' line end when none is given

    def written(row: list[str]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=end, delimiter=",", quotechar='"', doublequote=True, escapechar=None,
                   quoting=csv.QUOTE_MINIMAL).writerow(row)
        return buffer.getvalue()[:-len(end)]

    probes = [chr(c) for c in range(256)] + ["\u2028", "\u2029", "\ufeff", "\ud800"]
    special = "".join(p for p in probes if written(["a" + p + "b", ""]).startswith('"'))
    lone_empty = written([""])
    forms = ("{0}", "{0}a", "a{0}b", "a{0}", " {0} ", "{0}{0}")
    fields = [form.format(p) for p in probes for form in forms] + ["", " ", "a b", ""]
    first, second = pd.Series(fields, dtype=object), pd.Series(fields[::-1], dtype=object)
    quoted, quoted_back = _quoted(list(fields), special), _quoted(fields[::-1], special)
    one = pd.DataFrame({"a": first}).to_csv(index=False)
    two = pd.DataFrame({"a": first, "b": second}).to_csv(index=False)
    if (one != end.join(["a"] + [lone_empty if q == "" else q for q in quoted]) + end
            or two != end.join(["a,b"] + list(map(",".join, zip(quoted, quoted_back)))) + end):
        return None
    return special, end, lone_empty


def _utc_times(column) -> bool:
    """Whether `column` holds UTC times at a resolution of a microsecond or coarser, which pandas 3
    writes as it writes times without a zone (earlier pandas wrote each as its own `str`)."""
    import pandas as pd

    dtype = column.dtype
    return (isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC" and dtype.unit in ("s", "ms", "us")
            and int(pd.__version__.split(".")[0]) >= 3)


def _utc_texts(column):
    """UTC times as pandas' CSV writes them, formatted by numpy in one pass (pandas' own path
    for zoned times costs about 7 µs a cell): `YYYY-MM-DD HH:MM:SS+00:00`, with milliseconds or microseconds
    when some time in the column has them (a missing time: empty). None for years outside
    1000-9999 (pandas does not pad a year to four digits): pandas then writes them itself."""
    import numpy as np

    stamps = column.dt.tz_localize(None).to_numpy()
    missing = np.isnat(stamps)
    micros = stamps.astype("datetime64[us]").astype(np.int64)[~missing]
    if len(micros) and (micros.min() < _YEAR_1000 or micros.max() > _YEAR_9999_END):
        return None
    unit = "us" if (micros % 1000).any() else "ms" if (micros % 1_000_000).any() else "s"
    texts = np.full(len(stamps), None, dtype=object)
    if len(micros):  # only the times there are formatted, each as long as the next (years of four digits)
        written = np.datetime_as_string(stamps[~missing].astype(f"datetime64[{unit}]"), unit=unit)
        width = len(written[0])
        codes = np.empty((len(written), width + 6), dtype=np.uint32)  # the characters' code points, a row a time
        codes[:, :width] = written.astype(f"U{width}").view(np.uint32).reshape(len(written), width)
        codes[:, 10] = ord(" ")  # for the `T`
        codes[:, width:] = [ord(c) for c in "+00:00"]
        texts[~missing] = codes.view(f"U{width + 6}").ravel().astype(object)
    return texts


_YEAR_1000 = -30610224000 * 10**6  # 1000-01-01 in microseconds since 1970
_YEAR_9999_END = 253402300799999999  # 9999-12-31 23:59:59.999999


def markdown(text) -> str:
    """User text made safe to show in Markdown: every Markdown character is escaped."""
    return _MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text)).replace("\n", "  \n")


def terminal(text) -> str:
    """Text for a terminal: control characters (ANSI escapes among them) shown as `\\xNN`, not run."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        "" if text is None else str(text))
