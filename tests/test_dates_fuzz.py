"""Fuzzing the date reader: any text gives a UTC time or a DateError, and the bulk reader agrees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.dates import DateError, parse_many, read_when

NOW = datetime(2016, 12, 15, 9, 30, tzinfo=UTC)
ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])


def near_dates() -> st.SearchStrategy[str]:
    """Texts built from the pieces dates are made of, so most of them come close to being one."""
    number = st.integers(0, 40).map(str)
    year = st.sampled_from(["0001", "1", "16", "2016", "9999", "10000", "0000"])
    month = st.sampled_from(["Dec", "December", "13", "02", "Feb"])
    sep = st.sampled_from(["/", "-", ".", " ", "T", ", "])
    clock = st.sampled_from(["", " 18:00", " 02:30", " 25:00", " 9pm", " 00:00:59.5", "T23:59"])
    offset = st.sampled_from(["", "Z", "+02", "+0200", "+02:00", " GMT+2", " UTC-5", " +3", "-23:59", " +99",
                              " EET", " IST", " CST", " XYZT", " GMT+15"])
    live = st.sampled_from(["now", "today", "yesterday", "2 hours ago", "3 days ago", "Monday", "last sun",
                            "yesterday 21:00", "today 14:00", "today 25:00", "Monday 13", "a week ago"])
    iso = st.builds(lambda y, m, d, c, o: f"{y}-{m}-{d}{c}{o}", st.sampled_from(["2016", "0001", "9999"]),
                    st.sampled_from(["12", "02", "13", "1"]), st.sampled_from(["13", "30", "31", "01", "00"]),
                    st.sampled_from(["", "T18:00", " 02:30", "T18", "T00:00:00.123456"]), offset)
    written = st.builds(lambda a, s1, b, s2, y, c, o: f"{a}{s1}{b}{s2}{y}{c}{o}", number, sep, month, sep, year,
                        clock, offset)
    return st.one_of(iso, written, live, st.builds(lambda l, c, o: f"{l}{c}{o}", live, clock, offset))


def check_one(text: str, zone: str) -> None:
    try:
        single = read_when(text, zone=zone, now=NOW)
    except DateError:
        single = None
    else:
        assert single.at.utcoffset() == timedelta(0)
    times, date_only, problems = parse_many(pd.Series([text], dtype=object), zone=zone, now=NOW)
    if single is None:
        assert not text.strip() or 0 in problems
        assert times.isna().all()
    else:
        assert problems == {}
        assert times.iat[0].to_pydatetime() == single.at
        assert bool(date_only.iat[0]) == single.date_only


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=40), zone=ZONES)
def test_any_text_is_read_as_utc_or_refused_and_both_readers_agree(text, zone):
    check_one(text, zone)


@settings(max_examples=350, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=near_dates(), zone=ZONES)
def test_near_dates_are_read_as_utc_or_refused_and_both_readers_agree(text, zone):
    check_one(text, zone)
