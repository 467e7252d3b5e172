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
    return frame.to_csv(index=False)


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
    texts = np.datetime_as_string(stamps.astype(f"datetime64[{unit}]"), unit=unit)
    texts = np.char.add(np.char.replace(texts, "T", " "), "+00:00").astype(object)
    texts[missing] = None
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
