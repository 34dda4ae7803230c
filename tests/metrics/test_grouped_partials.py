"""Grouped KPIs from partial aggregates equal the per-group loop, for every registered KPI.

The example archive (generated small) gets the scored columns the AI, QA, risk and
revenue KPIs read, so every registered KPI is computed; both engines run on the same
tables and their groups are compared value by value (counts exact, floats to 1e-9
relative: sums are added in another order; quantiles are exact sorted runs).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.metrics import compute_kpis, get_kpi, get_kpi_names, make_tables
from cxlens.metrics._grouped import grouped_partials
from cxlens.metrics.compute import _grouped_loop, available_kpis

CONFIGS = {
    "default": KPIConfig(operating_cost=1000.0, top_performers_min_n=3),
    "business_hours": KPIConfig(operating_cost=1000.0, top_performers_min_n=1, use_business_hours=True),
}
GROUPINGS = [((), "month", "default"), (("channel",), None, "default"), (("agent_id",), None, "default"),
             (("channel",), "month", "default"), (("team",), "week", "default"),
             (("agent_id",), "quarter", "default"), (("priority", "channel"), None, "default"),
             (("agent_id",), None, "business_hours"), (("channel",), "quarter", "business_hours")]


@pytest.fixture(scope="module")
def archive_tables(tmp_path_factory):
    from cxlens.dataset import load_dataset
    from cxlens.example_data import write_example_archive
    from cxlens.pipelines.score import archive_tables as paths_of

    folder = tmp_path_factory.mktemp("partials-archive")
    write_example_archive(folder, n_tickets=500, seed=7, fmt="parquet")
    dataset = load_dataset(**paths_of(folder))
    rng = np.random.default_rng(3)
    tickets = dataset.tickets.copy()
    n = len(tickets)
    labels = np.array(["negative", "neutral", "positive", None], dtype=object)
    tickets["sentiment"] = labels[rng.integers(0, 4, n)]
    tickets["topic"] = np.array(["billing", "login", "delivery", None], dtype=object)[rng.integers(0, 4, n)]
    tickets["request_type"] = np.array(["question", "complaint", None], dtype=object)[rng.integers(0, 3, n)]
    adherence = rng.uniform(0, 100, n)
    adherence[rng.random(n) < 0.2] = np.nan
    tickets["script_adherence"] = adherence
    tickets["auto_fail"] = pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.3), dtype="boolean")
    tickets["csat_good_probability"] = np.where(rng.random(n) < 0.3, np.nan, rng.random(n))
    mentions = dataset.mentions.copy()
    m = len(mentions)
    mentions["sentiment"] = labels[rng.integers(0, 4, m)]
    mentions["is_question"] = rng.random(m) < 0.4
    accounts = dataset.accounts.copy()
    a = len(accounts)
    accounts["churn_probability"] = rng.random(a)
    accounts["health_score"] = rng.uniform(0, 100, a)
    accounts["health_band"] = np.array(["good", "average", "poor"], dtype=object)[rng.integers(0, 3, a)]
    accounts["mrr_start"] = accounts["mrr"] * rng.uniform(0.8, 1.2, a)
    accounts["orders"] = rng.integers(0, 4, a)
    return make_tables(tickets=tickets, messages=dataset.messages, accounts=accounts, surveys=dataset.surveys,
                       mentions=mentions)


@pytest.fixture(scope="module")
def untidy_tables(archive_tables):
    """The same tables with an object-dtype channel (ties ordered by first appearance) and some missing
    channels and agents (the "unknown" channel; a group whose agent is missing)."""
    rng = np.random.default_rng(5)
    tickets = archive_tables.tickets.copy()
    channel = tickets["channel"].astype(object)
    channel[rng.random(len(tickets)) < 0.05] = None
    tickets["channel"] = channel
    tickets.loc[rng.random(len(tickets)) < 0.03, "agent_id"] = None
    return make_tables(tickets=tickets, messages=archive_tables.messages, accounts=archive_tables.accounts,
                       surveys=archive_tables.surveys, mentions=archive_tables.mentions)


def _same(a, b, path: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for key in a:
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b and type(a) is type(b), (path, a, b)


def test_grouped_partials_cover_every_kpi(archive_tables):
    kpis, skipped = available_kpis(archive_tables)
    assert not skipped, skipped  # the fixture feeds every registered KPI
    assert len(kpis) == len(get_kpi_names())


@pytest.mark.parametrize(("by", "period", "config_name"), GROUPINGS)
def test_grouped_partials_equal_the_per_group_loop(archive_tables, by, period, config_name):
    config = CONFIGS[config_name]
    kpis, _ = available_kpis(archive_tables)
    expected = _grouped_loop(kpis, archive_tables, config, by=list(by), period=period)
    found = grouped_partials(kpis, archive_tables, config, by=list(by), period=period)
    assert len(found) == len(expected) > 1
    for old, new in zip(expected, found):
        label = {k: v for k, v in old.items() if k not in ("kpis", "n")}
        assert label == {k: v for k, v in new.items() if k not in ("kpis", "n")}
        assert list(old["kpis"]) == list(new["kpis"]), label
        _same(old["n"], new["n"], f"{label} n")
        _same(old["kpis"], new["kpis"], f"{label} kpis")


@pytest.mark.parametrize(("by", "period"), [(("agent_id",), None), (("team",), "month"), (("channel",), None)])
def test_grouped_partials_equal_the_loop_on_untidy_columns(untidy_tables, by, period):
    config = CONFIGS["default"]
    kpis, _ = available_kpis(untidy_tables)
    expected = _grouped_loop(kpis, untidy_tables, config, by=list(by), period=period)
    found = grouped_partials(kpis, untidy_tables, config, by=list(by), period=period)
    assert len(found) == len(expected) > 1
    for old, new in zip(expected, found):
        _same(old, new, str({k: v for k, v in old.items() if k not in ("kpis", "n")}))


def test_grouped_partials_equal_the_loop_without_period_bounds(archive_tables):
    """Tables without a period end: backlog falls back to each group's latest timestamp (the loop)."""
    from dataclasses import replace

    tables = replace(archive_tables, period_start=None, period_end=None)
    kpis, _ = available_kpis(tables)
    expected = _grouped_loop(kpis, tables, CONFIGS["default"], by=["channel"], period=None)
    found = grouped_partials(kpis, tables, CONFIGS["default"], by=["channel"], period=None)
    assert len(found) == len(expected) > 1
    for old, new in zip(expected, found):
        _same(old, new, str(old["channel"]))


def test_grouped_partials_are_what_compute_kpis_reports(archive_tables):
    report = compute_kpis(archive_tables, config=CONFIGS["default"], by=["channel"])
    kpis, _ = available_kpis(archive_tables)
    expected = _grouped_loop(kpis, archive_tables, CONFIGS["default"], by=["channel"], period=None)
    assert [g["kpis"]["ticket_volume"] for g in report.groups] == [g["kpis"]["ticket_volume"] for g in expected]
    assert sum(g["kpis"]["ticket_volume"] for g in report.groups) == report.kpis["ticket_volume"]


def test_grouped_partials_vectorise_the_ticket_kpis():
    """The KPIs over tickets, surveys and mentions need no per-group loop (accounts and topic trends may)."""
    looped = [name for name in get_kpi_names()
              if get_kpi(name).rows is None and get_kpi(name).grouped is None
              and not all(need.startswith("accounts.") for need in get_kpi(name).requires)]
    assert looped == ["topic_trend"], looped


def _halves(tables, first: bool):
    """The first or second half of the rows of every table (a chunk of the archive)."""
    from cxlens.metrics import Tables

    parts = {}
    for name in ("tickets", "messages", "accounts", "surveys", "mentions"):
        frame = getattr(tables, name)
        half = len(frame) // 2
        parts[name] = frame.iloc[:half] if first else frame.iloc[half:]
    return Tables(**parts, tickets_all=parts["tickets"], period_start=tables.period_start,
                  period_end=tables.period_end)


@pytest.mark.parametrize(("by", "period"), [(("channel",), "month"), (("agent_id",), None)])
def test_grouped_partials_merge_chunks_to_the_one_pass_result(archive_tables, by, period):
    """Each KPI's rows are row-wise, so states of two chunks merge to the state of all rows."""
    from cxlens.metrics._grouped import group_codes
    from cxlens.metrics._partials import Partial, finish_partials, reduce_rows
    from cxlens.metrics._split import split_tables

    config = CONFIGS["default"]
    groups = group_codes(split_tables(archive_tables, list(by), period), archive_tables)
    first, second = _halves(archive_tables, True), _halves(archive_tables, False)
    checked = 0
    for name in get_kpi_names():
        kpi = get_kpi(name)
        if kpi.rows is None:
            continue
        whole = kpi.rows(archive_tables, config)
        merged = []
        a, b = kpi.rows(first, config), kpi.rows(second, config)
        while a is not None:
            codes = groups.codes.get(a.table)
            if codes is None:
                merged.append(None)
            else:
                cut = len(getattr(first, a.table))
                merged.append(Partial.of(a, codes[:cut], groups.size).merge(Partial.of(b, codes[cut:], groups.size)))
            a, b = a.otherwise, b.otherwise
        _same(reduce_rows(whole, groups)[0], finish_partials(whole, merged, groups.size)[0], name)
        assert list(reduce_rows(whole, groups)[1]) == list(finish_partials(whole, merged, groups.size)[1]), name
        checked += 1
    assert checked >= 25


@pytest.mark.parametrize(("by", "period"), [((), None), (("agent_id",), None), (("team",), "week"),
                                            (("channel",), "month")])
def test_categorical_columns_give_the_same_report(untidy_tables, by, period):
    """Frames read from Parquet written by pandas bring categoricals back: every KPI, overall and grouped, equals
    the plain columns' (unused categories, category-ordered ties and missing group keys did not)."""
    def categorical(frame):
        if frame is None:
            return None
        strings = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
        return frame.assign(**{c: frame[c].astype("category") for c in strings})

    t = untidy_tables
    cat = make_tables(tickets=categorical(t.tickets), messages=categorical(t.messages),
                      accounts=categorical(t.accounts), surveys=categorical(t.surveys),
                      mentions=categorical(t.mentions))
    assert isinstance(cat.tickets["team"].dtype, pd.CategoricalDtype)
    plain = compute_kpis(t, config=CONFIGS["default"], by=by, period=period).to_dict()
    found = compute_kpis(cat, config=CONFIGS["default"], by=by, period=period).to_dict()
    _same(plain, found, f"{by} {period}")


@pytest.mark.parametrize("name", ["volume_by_channel", "channel_share", "resolution_rate"])
def test_explain_kpi_reads_categorical_columns_as_plain(untidy_tables, name):
    from cxlens.metrics import explain_kpi

    t = untidy_tables
    channel = t.tickets["channel"].astype("category").cat.add_categories(["fax"])  # a channel no ticket has
    cat = make_tables(tickets=t.tickets.assign(channel=channel), messages=t.messages, accounts=t.accounts,
                      surveys=t.surveys, mentions=t.mentions)
    plain, rows = explain_kpi(name, t)
    found, found_rows = explain_kpi(name, cat)
    _same(plain.value, found.value, name)
    assert plain.n == found.n and len(rows) == len(found_rows)
