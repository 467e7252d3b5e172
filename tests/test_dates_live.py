"""tracker.dates: what analysts type live (now, yesterday 21:00, 2 hours ago, EET), in the entry's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tracker.dates import DateError, When, format_when, read_when

# a Thursday, late evening in UTC and already Friday in Moscow
NOW = datetime(2016, 12, 15, 22, 30, tzinfo=UTC)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def day(*fields: int) -> When:
    return When(utc(*fields), True)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("now", "UTC", When(NOW)),
        ("Now", "Europe/Moscow", When(NOW)),
        ("today", "UTC", day(2016, 12, 15)),
        ("today", "Europe/Moscow", day(2016, 12, 16)),  # already Friday there
        ("yesterday", "UTC", day(2016, 12, 14)),
        ("yesterday 21:00", "UTC", When(utc(2016, 12, 14, 21))),
        ("yesterday 21:00", "Europe/Helsinki", When(utc(2016, 12, 15, 19))),  # 00:30 on Friday there
        ("Yesterday at 9pm", "UTC", When(utc(2016, 12, 14, 21))),
        ("today 14:00", "America/New_York", When(utc(2016, 12, 15, 19))),
        ("2 hours ago", "Asia/Kolkata", When(utc(2016, 12, 15, 20, 30))),
        ("45 minutes ago", "UTC", When(utc(2016, 12, 15, 21, 45))),
        ("an hour ago", "UTC", When(utc(2016, 12, 15, 21, 30))),
        ("3 days ago", "UTC", day(2016, 12, 12)),
        ("1 week ago", "UTC", day(2016, 12, 8)),
        ("Monday", "UTC", day(2016, 12, 12)),  # the last Monday
        ("thursday", "UTC", day(2016, 12, 15)),  # today's weekday is today
        ("Thursday", "Europe/Moscow", day(2016, 12, 15)),  # Friday in Moscow: Thursday was yesterday
        ("Friday", "UTC", day(2016, 12, 9)),
        ("last Tue 18:30", "UTC", When(utc(2016, 12, 13, 18, 30))),
        ("Wednesday, 06:15", "Europe/Berlin", When(utc(2016, 12, 14, 5, 15))),
    ],
)
def test_live_words_are_read_against_the_clock_in_the_entrys_zone(text, zone, expected):
    assert read_when(text, zone=zone, now=NOW) == expected


def test_live_words_at_a_dst_change_are_refused_like_any_other_time():
    # 30 October 2016: Berlin's clocks went back from 03:00 to 02:00
    with pytest.raises(DateError, match="happened twice"):
        read_when("yesterday 02:30", zone="Europe/Berlin", now=utc(2016, 10, 31, 12))
    with pytest.raises(DateError, match="did not exist"):
        read_when("today 02:30", zone="Europe/Berlin", now=utc(2016, 3, 27, 12))


@pytest.mark.parametrize("text", ["today 25:00", "yesterday 13pm", "now 14:00", "Monday 13"])
def test_live_words_with_an_impossible_time_are_refused(text):
    with pytest.raises(DateError):
        read_when(text, now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 December 2016 10:00 EET", utc(2016, 12, 15, 8)),
        ("15 December 2016 10:00 EEST", utc(2016, 12, 15, 7)),
        ("15 December 2016 10:00 CET", utc(2016, 12, 15, 9)),
        ("15 December 2016 10:00 CEST", utc(2016, 12, 15, 8)),
        ("15 December 2016 10:00 MSK", utc(2016, 12, 15, 7)),
        ("15 December 2016 10:00 TRT", utc(2016, 12, 15, 7)),
        ("15 December 2016 10:00 GMT", utc(2016, 12, 15, 10)),
        ("15 December 2016 10:00 UTC", utc(2016, 12, 15, 10)),
        ("15 December 2016 10:00 BST", utc(2016, 12, 15, 9)),
        ("15 December 2016 10:00 EST", utc(2016, 12, 15, 15)),
        ("15 December 2016 10:00 EDT", utc(2016, 12, 15, 14)),
        ("15 December 2016 10:00 PST", utc(2016, 12, 15, 18)),
        ("Dec 15 2016 10am EET", utc(2016, 12, 15, 8)),
    ],
)
def test_zone_abbreviations_from_the_table_are_read_as_their_offsets(text, expected):
    assert read_when(text).at == expected


@pytest.mark.parametrize("name", ["IST", "CST", "AST"])
def test_ambiguous_abbreviation_is_refused_until_the_setting_says_which(monkeypatch, name):
    monkeypatch.delenv("TRACKER_ZONE_ABBREVIATIONS", raising=False)
    with pytest.raises(DateError, match="TRACKER_ZONE_ABBREVIATIONS") as caught:
        read_when(f"15 December 2016 10:00 {name}")
    assert "offset" in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "text", "expected"),
    [
        ("IST=India", "15 December 2016 10:00 IST", utc(2016, 12, 15, 4, 30)),
        ("IST=israel", "15 December 2016 10:00 IST", utc(2016, 12, 15, 8)),
        ("CST=US, IST=Ireland", "15 December 2016 10:00 CST", utc(2016, 12, 15, 16)),
        ("CST=China", "15 December 2016 10:00 CST", utc(2016, 12, 15, 2)),
        ("AST=Arabia", "15 December 2016 10:00 AST", utc(2016, 12, 15, 7)),
        ("AST=Atlantic", "15 December 2016 10:00 AST", utc(2016, 12, 15, 14)),
        ("NPT=+05:45", "15 December 2016 10:00 NPT", utc(2016, 12, 15, 4, 15)),
        ("EET=+03:00", "15 December 2016 10:00 EET", utc(2016, 12, 15, 7)),
    ],
)
def test_zone_abbreviation_setting_resolves_ambiguous_ones(monkeypatch, setting, text, expected):
    monkeypatch.setenv("TRACKER_ZONE_ABBREVIATIONS", setting)
    assert read_when(text).at == expected


def test_zone_abbreviation_setting_resolves_only_what_it_names(monkeypatch):
    monkeypatch.setenv("TRACKER_ZONE_ABBREVIATIONS", "IST=India")
    with pytest.raises(DateError, match="CST=US"):
        read_when("15 December 2016 10:00 CST")


@pytest.mark.parametrize("setting", ["IST=Mars", "IST", "CST=+25"])
def test_bad_zone_abbreviation_setting_is_an_error(monkeypatch, setting):
    monkeypatch.setenv("TRACKER_ZONE_ABBREVIATIONS", setting)
    with pytest.raises(DateError, match="TRACKER_ZONE_ABBREVIATIONS"):
        read_when("15 December 2016 10:00 IST")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13 December 2016", day(2016, 12, 13)),
        ("2016-12-13", day(2016, 12, 13)),
        ("Tuesday 13th December 2016", day(2016, 12, 13)),
        ("13/12/2016", day(2016, 12, 13)),
        ("13 December 2016 00:00", When(utc(2016, 12, 12, 23))),  # a time, even at midnight
        (date(2016, 12, 13), day(2016, 12, 13)),
    ],
)
def test_date_without_a_time_is_kept_as_the_same_date_in_every_zone(monkeypatch, text, expected):
    monkeypatch.setenv("TRACKER_TIMEZONE", "Europe/Berlin")
    assert read_when(text) == expected


def test_a_date_is_shown_as_a_date_and_a_time_as_a_time():
    assert format_when(utc(2016, 12, 13), date_only=True) == "2016-12-13"
    assert format_when(utc(2016, 12, 13)) == "2016-12-13T00:00Z"
    assert read_when(format_when(utc(2016, 12, 13), date_only=True)) == day(2016, 12, 13)


def test_entry_zone_wins_over_the_configured_one(monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "Europe/Berlin")
    assert read_when("13 December 2016 18:00", zone="Europe/Moscow").at == utc(2016, 12, 13, 15)
    assert read_when("13 December 2016 18:00").at == utc(2016, 12, 13, 17)
    with pytest.raises(DateError, match="Mars/Base"):
        read_when("13 December 2016 18:00", zone="Mars/Base")
