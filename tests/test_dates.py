"""tracker.dates: reading the dates analysts paste, and keeping UTC inside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tracker.dates import DateError, format_when, parse_when

UTC = UTC


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def assert_utc(moment: datetime) -> None:
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tuesday 13th December 2016", utc(2016, 12, 13)),
        ("14 December, 2016", utc(2016, 12, 14)),
        ("2016-12-13T18:00+02:00", utc(2016, 12, 13, 16, 0)),
        ("2016-12-13T18:00Z", utc(2016, 12, 13, 18, 0)),
        ("2016-12-13T18:00", utc(2016, 12, 13, 18, 0)),
        ("2016-12-13 18:00", utc(2016, 12, 13, 18, 0)),
        ("2016-12-13", utc(2016, 12, 13)),
        ("Fri Jan 09 12:29:56 +0000 2015", utc(2015, 1, 9, 12, 29, 56)),
        ("13 December 2016 18:00 +0200", utc(2016, 12, 13, 16, 0)),
        ("  Tuesday   13th  December 2016 ", utc(2016, 12, 13)),
    ],
)
def test_parse_when_reads_common_formats_as_aware_utc(text, expected):
    parsed = parse_when(text)
    assert parsed == expected
    assert_utc(parsed)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # CET (UTC+1) in December
        ("2016-12-13 18:00", utc(2016, 12, 13, 17, 0)),
        ("2016-12-13T18:00", utc(2016, 12, 13, 17, 0)),
        ("13 December 2016 18:00", utc(2016, 12, 13, 17, 0)),
        ("13 December 2016", utc(2016, 12, 12, 23, 0)),
        # CEST (UTC+2) in July
        ("2016-07-13 18:00", utc(2016, 7, 13, 16, 0)),
    ],
)
def test_naive_time_is_taken_in_configured_zone(monkeypatch, text, expected):
    monkeypatch.setenv("TRACKER_TIMEZONE", "Europe/Berlin")
    parsed = parse_when(text)
    assert parsed == expected
    assert_utc(parsed)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-12-13T18:00+02:00", utc(2016, 12, 13, 16, 0)),
        ("2016-12-13T18:00Z", utc(2016, 12, 13, 18, 0)),
        ("Fri Jan 09 12:29:56 +0000 2015", utc(2015, 1, 9, 12, 29, 56)),
    ],
)
def test_explicit_zone_wins_over_configured_zone(monkeypatch, text, expected):
    monkeypatch.setenv("TRACKER_TIMEZONE", "Europe/Berlin")
    assert parse_when(text) == expected


def test_naive_datetime_object_is_taken_in_configured_zone(monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "Europe/Berlin")
    assert parse_when(datetime(2016, 12, 13, 18, 0)) == utc(2016, 12, 13, 17, 0)


def test_unknown_time_zone_setting_is_an_error(monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(DateError, match="Mars/Olympus_Mons"):
        parse_when("2016-12-13 18:00")


def test_unknown_zone_abbreviation_is_an_error_not_ignored():
    # dateutil does not know "EST"; reading 18:00 EST as 18:00 UTC would be five hours off
    with pytest.raises(DateError, match="13 December 2016 18:00 EST"):
        parse_when("13 December 2016 18:00 EST")


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (None, utc(2016, 4, 3)),  # default: day first
        ("DMY", utc(2016, 4, 3)),
        ("dmy", utc(2016, 4, 3)),
        ("MDY", utc(2016, 3, 4)),
        (" mdy ", utc(2016, 3, 4)),
    ],
)
def test_ambiguous_numeric_date_follows_date_order(monkeypatch, order, expected):
    if order is not None:
        monkeypatch.setenv("TRACKER_DATE_ORDER", order)
    assert parse_when("03/04/2016") == expected


def test_bad_date_order_setting_is_an_error(monkeypatch):
    monkeypatch.setenv("TRACKER_DATE_ORDER", "YMD")
    with pytest.raises(DateError, match="TRACKER_DATE_ORDER"):
        parse_when("03/04/2016")


@pytest.mark.parametrize("order", [None, "DMY", "MDY"])
@pytest.mark.parametrize("text", ["2016-04-03", "2016-04-03T00:00Z", "2016/04/03", "2016-4-3", "2016.04.03"])
def test_year_first_date_is_always_year_month_day(monkeypatch, order, text):
    if order is not None:
        monkeypatch.setenv("TRACKER_DATE_ORDER", order)
    assert parse_when(text) == utc(2016, 4, 3)


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "December 2016",  # no day
        "2016-12",  # no day
        "Monday",  # no date at all
        "December 13",  # no year
        "2016",
        "Wednesday 13th December 2016",  # 13 December 2016 was a Tuesday
        "2016-12-13T25:00",
        "not a date",
    ],
)
def test_unreadable_or_incomplete_date_is_an_error_naming_the_input(text):
    with pytest.raises(DateError) as caught:
        parse_when(text)
    assert text in str(caught.value)


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_date_is_an_error(text):
    with pytest.raises(DateError, match="empty"):
        parse_when(text)


def test_contradicting_weekday_error_says_which_day_it_was():
    with pytest.raises(DateError, match="Tuesday"):
        parse_when("Wednesday 13th December 2016")


def test_date_error_is_a_value_error():
    assert issubclass(DateError, ValueError)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (utc(2016, 12, 13, 16, 0), "2016-12-13T16:00Z"),
        (utc(2015, 1, 9, 12, 29, 56), "2015-01-09T12:29:56Z"),
        (datetime(2016, 12, 13, 18, 0, tzinfo=timezone(timedelta(hours=2))), "2016-12-13T16:00Z"),
        (utc(2016, 12, 13, 16, 0, 0, 999), "2016-12-13T16:00Z"),  # microseconds dropped
        (None, ""),
    ],
)
def test_format_when_writes_iso_utc_with_z(moment, text):
    assert format_when(moment) == text


@pytest.mark.parametrize("zone", [None, "Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize(
    "moment",
    [
        utc(2016, 12, 13, 16, 0),
        utc(2015, 1, 9, 12, 29, 56),
        utc(2016, 7, 1, 0, 0),
        datetime(2016, 12, 13, 18, 30, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_format_when_round_trips_through_parse_when(monkeypatch, zone, moment):
    if zone is not None:
        monkeypatch.setenv("TRACKER_TIMEZONE", zone)
    assert parse_when(format_when(moment)) == moment
