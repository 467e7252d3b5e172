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
        ("13 December 2016", utc(2016, 12, 13)),  # a date is the same day everywhere (kept as a date)
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
    # dateutil does not know "XYZT"; reading 18:00 XYZT as 18:00 UTC would be silently off
    with pytest.raises(DateError, match="13 December 2016 18:00 XYZT"):
        parse_when("13 December 2016 18:00 XYZT")


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
        "December 2016",  # no day
        "2016-12",  # no day
        "Monday 13",  # not a time of day, and no month or year
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


# -- silent wrong times (issue 11) ---------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["13 Dec 2016 18:00 GMT+2", "13 Dec 2016 18:00 UTC+2", "13 Dec 2016 18:00 +2", "13 Dec 2016 18:00 +02",
     "13 Dec 2016 18:00 +02:00", "13 Dec 2016 18:00 +0200", "13 Dec 2016 18:00 gmt +2", "2016-12-13T18:00+02",
     "13 Dec 2016 18:00 EET", "13 Dec 2016 18:00GMT+2"],
)
def test_every_spelling_of_an_offset_means_ahead_of_utc(text):
    assert parse_when(text) == utc(2016, 12, 13, 16, 0)


@pytest.mark.parametrize(("text", "expected"), [("13 Dec 2016 18:00 UTC+3", utc(2016, 12, 13, 15)),
                                                ("13 Dec 2016 18:00 GMT-5", utc(2016, 12, 13, 23)),
                                                ("13 Dec 2016 18:00 UTC-03:30", utc(2016, 12, 13, 21, 30))])
def test_named_offsets_are_not_read_with_the_posix_sign(text, expected):
    assert parse_when(text) == expected


@pytest.mark.parametrize(("order", "text", "hint"), [(None, "12/13/2016", "TRACKER_DATE_ORDER=MDY"),
                                                     ("DMY", "12.13.2016", "TRACKER_DATE_ORDER=MDY"),
                                                     ("MDY", "13/12/2016", "TRACKER_DATE_ORDER=DMY")])
def test_numeric_date_impossible_in_the_configured_order_is_refused_not_swapped(monkeypatch, order, text, hint):
    if order:
        monkeypatch.setenv("TRACKER_DATE_ORDER", order)
    with pytest.raises(DateError, match="no month 13") as caught:
        parse_when(text)
    assert hint in str(caught.value) and "13 December 2016" in str(caught.value)


def test_numeric_date_possible_in_the_configured_order_follows_it():
    assert parse_when("12/05/2016") == utc(2016, 5, 12)


@pytest.mark.parametrize("text", ["1 2 3", "03/04/16", "13 Dec 16", "13-12-16 18:00"])
def test_numbers_without_a_full_year_are_refused(text):
    with pytest.raises(DateError, match="year in full"):
        parse_when(text)


@pytest.mark.parametrize(
    ("zone", "text", "readings"),
    [  # clocks went back: 02:30 happened at +02:00 and again at +01:00
        ("Europe/Berlin", "2016-10-30 02:30", ("2016-10-30T00:30Z", "2016-10-30T01:30Z")),
        ("Europe/Berlin", "30 October 2016 02:30", ("2016-10-30T00:30Z", "2016-10-30T01:30Z")),
        ("America/New_York", "2016-11-06T01:15", ("2016-11-06T05:15Z", "2016-11-06T06:15Z")),
    ],
)
def test_time_that_happened_twice_is_refused_naming_both_readings(monkeypatch, zone, text, readings):
    monkeypatch.setenv("TRACKER_TIMEZONE", zone)
    with pytest.raises(DateError, match="happened twice") as caught:
        parse_when(text)
    assert all(reading in str(caught.value) for reading in readings)
    assert "offset" in str(caught.value)


@pytest.mark.parametrize(("zone", "text"), [("Europe/Berlin", "2016-03-27 02:30"),
                                            ("Europe/Berlin", "27 March 2016 02:30"),
                                            ("America/New_York", "2016-03-13T02:30")])
def test_time_skipped_when_clocks_go_forward_is_refused(monkeypatch, zone, text):
    monkeypatch.setenv("TRACKER_TIMEZONE", zone)
    with pytest.raises(DateError, match="did not exist in " + zone):
        parse_when(text)


def test_time_at_a_dst_change_with_its_offset_is_read(monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "Europe/Berlin")
    assert parse_when("2016-10-30 02:30+01:00") == utc(2016, 10, 30, 1, 30)
    assert parse_when("2016-10-30 03:30") == utc(2016, 10, 30, 2, 30)  # after the change: one reading


@pytest.mark.parametrize("text", ["0001-01-01T00:00+05:00", "0001-01-01 00:00 +05:00",
                                  "9999-12-31T23:00-05:00", "13 Dec 2016 18:00 +99"])
def test_times_outside_what_a_datetime_holds_are_refused(text):
    with pytest.raises(DateError, match="outside the years 1 to 9999|offset no zone has"):
        parse_when(text)


@pytest.mark.parametrize("text", ["2016-12-13T18:00+02", "2016-12-13 18:00+02", "2016-12-13T18:00:00.5+02"])
def test_hours_only_offset_is_read_whatever_the_configured_zone(monkeypatch, text):
    monkeypatch.setenv("TRACKER_TIMEZONE", "Europe/Berlin")
    import pandas as pd
    from tracker.dates import parse_many
    expected = utc(2016, 12, 13, 16, 0, 0, 500000 if ".5" in text else 0)
    assert parse_when(text) == expected
    times, date_only, problems = parse_many(pd.Series([text, "2016-12-13 18:00"]))
    assert problems == {} and not date_only.any()
    assert times.iat[0].to_pydatetime() == expected and times.iat[1].to_pydatetime() == utc(2016, 12, 13, 17)


@pytest.mark.parametrize("text", ["２０１６-12-13", "2016-12-13T１８:00Z", "١٣ December 2016"])
def test_digits_other_than_ascii_are_refused_by_both_readers(text):
    import pandas as pd
    from tracker.dates import parse_many
    with pytest.raises(DateError, match="digits other than 0-9"):
        parse_when(text)
    times, _date_only, problems = parse_many(pd.Series([text]))
    assert times.isna().all() and "digits other than 0-9" in problems[0]


def test_nearly_iso_time_is_still_year_month_day():
    # found by the fuzz test: read day-first, this was 12 January
    assert parse_when("2016-12-01T18:00 +3") == utc(2016, 12, 1, 15)
