"""Values that parse but would break later are quarantined with a reason (issue #19, input integrity):
implausible or bare-number timestamps, day-month dates of unknown order, non-finite numbers, control
characters in ids. :class:`ValueRules` (``--date-format``, ``--dates-between``) says how to read them."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from cxlens._validate import ValueRules
from cxlens.cli._flags import flags_for
from cxlens.cli._value_flags import add_value_rule_args, value_rules_from
from cxlens.errors import InvalidConfigError
from cxlens.io import REASON_COL, load_table, validate_frame
from cxlens.schema import TICKETS


def load_csv(tmp_path, text: str, table: str = "tickets"):
    path = tmp_path / f"{table}.csv"
    path.write_text(text, encoding="utf-8")
    return load_table(path, table, allow_empty=True)


def tickets(created_at: list, rules: ValueRules | None = None, **columns) -> tuple[pd.DataFrame, dict[str, str]]:
    """Validate tickets t0, t1, ... with these ``created_at`` strings: (valid frame, {ticket_id: reason})."""
    raw = pd.DataFrame({"ticket_id": [f"t{i}" for i in range(len(created_at))], "created_at": created_at,
                        **columns})
    valid, bad = validate_frame(raw, TICKETS, rules=rules)
    return valid, dict(zip(bad["ticket_id"], bad[REASON_COL]))


def read_dates(valid: pd.DataFrame) -> dict[str, str]:
    return dict(zip(valid["ticket_id"], valid["created_at"].dt.strftime("%Y-%m-%d %H:%M")))


# ---------------------------------------------------------------- timestamps: range and bare numbers


def test_timestamps_outside_the_plausible_range_are_quarantined(tmp_path):
    # -1 was read as year -1, and `kpis compute --period month` / `report` then crashed
    loaded = load_csv(tmp_path, "ticket_id,created_at,resolved_at\n1,-1,\n2,0001-01-01,\n3,2999-01-01T10:00:00,\n"
                                "4,1989-12-31T23:59:59Z,\n5,2025-01-01,2999-01-01\n6,1990-01-01,2025-01-01\n")
    assert list(loaded.frame["ticket_id"]) == ["6"]
    got = dict(zip(loaded.quarantine["ticket_id"].astype(str), loaded.quarantine[REASON_COL]))
    for key, col in (("2", "created_at"), ("3", "created_at"), ("4", "created_at"), ("5", "resolved_at")):
        assert got[key].startswith(f"{col} is outside 1990-01-01..") and "(set dates_between / --dates-between)" \
            in got[key], got[key]
    assert "1" in got


def test_dates_between_moves_the_range():
    rows = ["1985-06-01", "2024-12-31T23:59:59", "2025-01-01T00:00:00"]
    valid, bad = tickets(rows, ValueRules(dates_between=("1980-01-01", "2024-12-31")))
    assert list(valid["ticket_id"]) == ["t0", "t1"]  # an end given as a date includes that day
    assert bad["t2"] == "created_at is outside 1980-01-01..2024-12-31 (set dates_between / --dates-between)"
    valid, bad = tickets(rows, ValueRules(dates_between="1980-01-01.."))  # the default end: a year from today
    assert list(valid["ticket_id"]) == ["t0", "t1", "t2"]
    valid, _ = tickets(["2025-06-01T12:00:00Z", "2025-06-01T12:00:01Z"],
                       ValueRules(dates_between="..2025-06-01T12:00:00Z"))
    assert list(valid["ticket_id"]) == ["t0"]


def test_parquet_timestamps_are_range_checked_too():
    raw = pd.DataFrame({"ticket_id": ["a", "b"],
                        "created_at": pd.to_datetime(["1900-01-01", "2025-01-01"]).tz_localize("UTC")})
    valid, bad = validate_frame(raw, TICKETS)
    assert list(valid["ticket_id"]) == ["b"] and bad[REASON_COL].iloc[0].startswith("created_at is outside")


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_range_bounds_are_exact_in_every_timestamp_unit(unit):
    # compared as integers in the column's own unit (not converted to the bounds' microseconds first)
    rules = ValueRules(dates_between=("2020-01-01T00:00:00.5Z", "2024-12-31"))
    stamps = ["2020-01-01T00:00:00Z", "2020-01-01T00:00:00.5Z", "2020-01-01T00:00:01Z",
              "2024-12-31T23:59:59.999999Z", "2025-01-01T00:00:00Z", None, "1950-06-01T00:00:00Z"]
    raw = pd.DataFrame({"ticket_id": [f"t{i}" for i in range(len(stamps))],
                        "created_at": pd.to_datetime(stamps, utc=True, format="ISO8601").as_unit(unit)})
    valid, bad = validate_frame(raw, TICKETS, rules=rules)
    reasons = dict(zip(bad["ticket_id"], bad[REASON_COL]))
    # the start itself is inside; a unit too coarse to hold it (seconds) reads 00:00:00, which is outside
    inside = ["t2", "t3"] if unit == "s" else ["t1", "t2", "t3"]
    assert list(valid["ticket_id"]) == inside
    outside = {"t0", "t4", "t6"} | ({"t1"} if unit == "s" else set())
    assert {k for k, r in reasons.items() if "is outside" in r} == outside
    assert reasons["t5"] == "created_at is empty"


def test_range_bounds_beyond_the_nanosecond_years_work():
    # Timestamp.value overflows outside 1677..2262; a bound such as ..2999-12-31 is a user's way to lift the limit
    rules = ValueRules(dates_between=("1500-01-01", "2999-12-31"))
    stamps = pd.Series(pd.to_datetime(["1400-06-01", "1600-01-01", "2025-01-01", "2999-12-31T23:59:59"],
                                      format="ISO8601")).dt.as_unit("s").dt.tz_localize("UTC")
    raw = pd.DataFrame({"ticket_id": ["a", "b", "c", "d"], "created_at": stamps})
    valid, bad = validate_frame(raw, TICKETS, rules=rules)
    assert list(valid["ticket_id"]) == ["b", "c", "d"]
    assert bad[REASON_COL].iloc[0].startswith("created_at is outside 1500-01-01..2999-12-31")


def test_range_check_agrees_with_timestamp_comparison_on_random_values():
    rng = np.random.default_rng(3)
    rules = ValueRules(dates_between=("2001-03-04T05:06:07.123Z", "2019-08-09"))
    earliest, latest, _ = rules.date_range()
    stamps = pd.Series(pd.to_datetime(rng.integers(9.0e11, 1.7e12, 5000), unit="ms", utc=True)).dt.as_unit("ms")
    stamps[::7] = pd.NaT
    stamps[1], stamps[2] = earliest.floor("ms"), earliest.ceil("ms")  # just outside and just inside the start
    raw = pd.DataFrame({"ticket_id": [f"t{i}" for i in range(len(stamps))], "created_at": stamps})
    valid, _ = validate_frame(raw, TICKETS, rules=rules)
    expected = stamps.notna() & (stamps >= earliest) & (stamps <= latest)
    assert list(valid["ticket_id"]) == list(raw["ticket_id"][expected])


def test_categories_are_lower_cased_only_where_needed():
    # Arrow-backed strings: capitals, spaces and non-ASCII letters are folded; values already canonical are kept
    raw = pd.DataFrame({"ticket_id": ["a", "b", "c", "d"],
                        "created_at": ["2025-01-01T00:00:00Z"] * 4,
                        "channel": pd.Series(["Email", "live chat", "\u00c9t\u00e9", "phone"], dtype="str")})
    valid, _ = validate_frame(raw, TICKETS)
    assert list(valid["channel"]) == ["email", "live_chat", "\u00e9t\u00e9", "phone"]
    only_accents = raw.assign(channel=pd.Series(["\u00c9t\u00e9", "email", "chat", "phone"], dtype="str"))
    valid, _ = validate_frame(only_accents, TICKETS)  # no ASCII capital or space: the non-ASCII byte decides
    assert list(valid["channel"]) == ["\u00e9t\u00e9", "email", "chat", "phone"]
    canonical = raw.assign(channel=pd.Series(["email", "chat", "phone", "web_form"], dtype="str"))
    valid, _ = validate_frame(canonical, TICKETS)
    assert list(valid["channel"]) == ["email", "chat", "phone", "web_form"]


def test_bare_numbers_are_not_read_as_dates(tmp_path):
    _, bad = tickets(["-1", "1700000000", "20250304", "2025", "2025.5", "1e9"])
    assert set(bad) == {f"t{i}" for i in range(6)}
    assert set(bad.values()) == {"created_at is a bare number, not a date (epoch seconds?): write ISO 8601 "
                                 "(2025-03-04T10:00:00Z) or set date_format / --date-format"}
    path = tmp_path / "tickets.jsonl"  # a JSON number
    path.write_text(json.dumps({"ticket_id": "j", "created_at": 1700000000}) + "\n", encoding="utf-8")
    loaded = load_table(path, "tickets", allow_empty=True)
    assert loaded.quarantine[REASON_COL].iloc[0].startswith("created_at is a bare number")
    valid, _ = tickets(["20250304", "2025-03-05"], ValueRules(date_format="%Y%m%d"))  # unless the format says so
    assert read_dates(valid) == {"t0": "2025-03-04 00:00", "t1": "2025-03-05 00:00"}


def test_now_and_today_are_not_timestamps():
    _, bad = tickets(["now", "today", "Today"])  # pandas reads them as the current time
    assert bad == dict.fromkeys(["t0", "t1", "t2"], "created_at is not a valid datetime")


# ---------------------------------------------------------------- day-month order


def test_ambiguous_day_month_dates_are_refused_without_a_format(tmp_path):
    # 04.03.2025 was read month first (April 3) without a word
    loaded = load_csv(tmp_path, "ticket_id,created_at\n1,04.03.2025\n2,05/06/2025 10:30\n3,2025-03-04\n")
    assert list(loaded.frame["ticket_id"]) == ["3"]
    got = dict(zip(loaded.quarantine["ticket_id"].astype(str), loaded.quarantine[REASON_COL]))
    assert got["1"] == ("created_at could be day-month or month-day, and no value of the column tells which: set "
                        "date_format / --date-format to '%d.%m.%Y' (day first) or '%m.%d.%Y' (month first)")
    assert got["2"].endswith("'%d/%m/%Y %H:%M' (day first) or '%m/%d/%Y %H:%M' (month first)")


def test_the_column_shows_the_order():
    valid, bad = tickets(["04.03.2025", "13.03.2025 09:15", "03.03.2025", "7-3-2025"])
    assert not bad
    assert read_dates(valid) == {"t0": "2025-03-04 00:00", "t1": "2025-03-13 09:15", "t2": "2025-03-03 00:00",
                                 "t3": "2025-03-07 00:00"}
    valid, bad = tickets(["03/04/2025", "03/13/2025", "12/31/2025 10:00 PM"])
    assert not bad
    assert read_dates(valid) == {"t0": "2025-03-04 00:00", "t1": "2025-03-13 00:00", "t2": "2025-12-31 22:00"}


def test_both_orders_in_one_column_and_two_digit_years_are_refused():
    valid, bad = tickets(["04.03.2025", "13.03.2025", "03.13.2025", "31.31.2025"])
    assert list(valid["ticket_id"]) == ["t1", "t2"]
    assert bad["t0"].startswith("created_at could be day-month or month-day, and the column has both orders "
                                "(13.03.2025 is day first, 03.13.2025 month first)")
    assert bad["t3"] == "created_at is not a valid datetime"
    _, bad = tickets(["13.03.25", "4.3.25"])
    assert bad == {"t0": "created_at has a two-digit year: set date_format / --date-format to '%d.%m.%y'",
                   "t1": "created_at has a two-digit year: set date_format / --date-format to '%d.%m.%y'"}


def test_date_format_reads_the_values_and_iso_8601_still_works():
    rules = ValueRules(date_format="%d.%m.%Y")
    valid, bad = tickets(["04.03.2025", "2025-03-05T10:00:00+01:00", "03/04/2025", ""], rules)
    assert read_dates(valid) == {"t0": "2025-03-04 00:00", "t1": "2025-03-05 09:00"}
    assert bad == {"t2": "created_at is not a valid datetime (neither date_format '%d.%m.%Y' nor ISO 8601)",
                   "t3": "created_at is empty"}


def test_other_forms_with_a_four_digit_year_are_still_read():
    valid, bad = tickets(["Wed Oct 11 06:55:44 +0000 2017", "4 Mar 2025", "March 4, 2025", "2025/03/04", "10:00"])
    assert read_dates(valid) == {"t0": "2017-10-11 06:55", "t1": "2025-03-04 00:00", "t2": "2025-03-04 00:00",
                                 "t3": "2025-03-04 00:00"}
    assert bad == {"t4": "created_at is not a valid datetime"}  # a time alone would be read as today


# ---------------------------------------------------------------- numbers and ids


def test_non_finite_numbers_are_quarantined(tmp_path):
    # inf was used, and kpis.json then held a bare Infinity
    loaded = load_csv(tmp_path, "ticket_id,created_at,handle_time_s,contacts\n1,2025-01-01,inf,\n"
                                "2,2025-01-01,-inf,\n3,2025-01-01,1e999,\n4,2025-01-01,nan,\n5,2025-01-01,Infinity,\n"
                                "6,2025-01-01,,inf\n7,2025-01-01,1e300,2\n")
    assert list(loaded.frame["ticket_id"]) == ["7"]
    got = dict(zip(loaded.quarantine["ticket_id"].astype(str), loaded.quarantine[REASON_COL]))
    assert got == {"1": "handle_time_s is not a finite number", "2": "handle_time_s is not a finite number",
                   "3": "handle_time_s is not a finite number", "4": "handle_time_s is not a finite number",
                   "5": "handle_time_s is not a finite number", "6": "contacts is not a finite number"}
    path = tmp_path / "tickets.jsonl"  # JSON's Infinity literal
    path.write_text('{"ticket_id": "j", "created_at": "2025-01-01", "handle_time_s": Infinity}\n', encoding="utf-8")
    assert load_table(path, "tickets", allow_empty=True).quarantine[REASON_COL].tolist() == [
        "handle_time_s is not a finite number"]


def test_control_characters_in_ids_and_categories_are_quarantined(tmp_path):
    loaded = load_csv(tmp_path, 'ticket_id,created_at,channel,agent_id\n"a\tb",2025-01-01,email,\n'
                                '"c\nd",2025-01-01,email,\ne,2025-01-01,"we\x01b",\nf,2025-01-01,email,"x\x7f"\n'
                                '" g ",2025-01-01, chat ,\n')
    assert list(loaded.frame["ticket_id"]) == ["g"]  # surrounding blanks are trimmed, not refused
    reason = "contains a control character (NUL, tab, line break, ...): remove it from the value"
    assert loaded.quarantine[REASON_COL].tolist() == [f"ticket_id {reason}", f"ticket_id {reason}",
                                                      f"channel {reason}", f"agent_id {reason}"]
    path = tmp_path / "tickets.jsonl"  # a NUL byte
    path.write_text(json.dumps({"ticket_id": "x\u0000y", "created_at": "2025-01-01"}) + "\n", encoding="utf-8")
    assert load_table(path, "tickets", allow_empty=True).quarantine[REASON_COL].tolist() == [f"ticket_id {reason}"]


# ---------------------------------------------------------------- the options


@pytest.mark.parametrize("kwargs, message", [
    (dict(dates_between="2030-01-01..2000-01-01"), "dates_between='2030-01-01..2000-01-01': the start is after"),
    (dict(dates_between="2030"), "dates_between='2030': not START..END"),
    (dict(dates_between=("soon", "2030-01-01")), "the start 'soon' is not an ISO 8601 date"),
    (dict(dates_between=("1990-01-01", 2030)), "the end '2030' is not an ISO 8601 date"),
    (dict(dates_between=["1990-01-01"]), "not a pair of dates"),
    (dict(date_format="mixed"), "date_format='mixed': not a strptime format"),
    (dict(date_format="%d.%m"), "date_format='%d.%m': cannot write and read back a whole date"),
    (dict(date_format="%Q"), "cannot write and read back a whole date"),
])
def test_value_rules_refuse_options_that_cannot_work(kwargs, message):
    with pytest.raises(InvalidConfigError) as info:
        ValueRules(**kwargs)
    assert message in str(info.value)


def test_value_rules_list_every_problem_and_normalise():
    with pytest.raises(InvalidConfigError, match="2 problems with the value rules") as info:
        ValueRules(date_format="%Q", dates_between="x..2030-01-01")
    assert {p.param for p in info.value.problems} == {"date_format", "dates_between"}
    assert ValueRules(dates_between="2000-01-01..").dates_between == ("2000-01-01", None)
    assert ValueRules(dates_between="..") == ValueRules()
    earliest, latest, span = ValueRules(dates_between=("2000-01-01", "2000-12-31")).date_range()
    assert (str(earliest), span) == ("2000-01-01 00:00:00+00:00", "2000-01-01..2000-12-31")
    assert latest == pd.Timestamp("2000-12-31 23:59:59.999999", tz="UTC")
    with pytest.raises(TypeError, match="rules must be a cxlens.io.ValueRules"):
        validate_frame(pd.DataFrame({"ticket_id": ["a"], "created_at": ["2025-01-01"]}), TICKETS,
                       rules={"date_format": "%d.%m.%Y"})


def test_flags_build_value_rules():
    parser = argparse.ArgumentParser()
    add_value_rule_args(parser.add_argument_group("values"))
    assert value_rules_from(parser.parse_args([])) == ValueRules()
    args = parser.parse_args(["--date-format", "%d.%m.%Y", "--dates-between", "2000-01-01..2030-12-31"])
    assert value_rules_from(args) == ValueRules(date_format="%d.%m.%Y", dates_between=("2000-01-01", "2030-12-31"))
    assert value_rules_from(argparse.Namespace()) == ValueRules()  # a command without the flags
    text = parser.format_help()
    assert "--date-format FMT" in text and "'%d.%m.%Y'" in text and "--dates-between START..END" in text


def test_bad_flags_are_named_as_flags():
    parser = argparse.ArgumentParser()
    add_value_rule_args(parser)
    args = parser.parse_args(["--date-format", "%d", "--dates-between", "2030-01-01..2000-01-01"])
    with pytest.raises(InvalidConfigError) as info:
        value_rules_from(args)
    cli = info.value.cli_message(flags_for(info.value.params))
    assert "--dates-between 2030-01-01..2000-01-01: the start is after the end" in cli
    assert "--date-format %d: cannot write and read back" in cli and "date_format=" not in cli
