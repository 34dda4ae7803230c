"""Retention and revenue KPIs over one period, hand-computed from the definitions."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.io import validate_frame
from cxlens.metrics import Tables, explain_kpi, get_kpi
from cxlens.schema import ACCOUNTS

START = pd.Timestamp("2026-01-01", tz="UTC")
END = START + pd.Timedelta(days=365.25 / 12)  # exactly one average month


def _accounts(rows: list[dict]) -> pd.DataFrame:
    valid, bad = validate_frame(pd.DataFrame(rows), ACCOUNTS)
    assert bad.empty, bad
    return valid


@pytest.fixture()
def accounts() -> pd.DataFrame:
    return _accounts([
        dict(account_id="A", signup_at="2025-06-01", mrr=100, mrr_start=80),          # expanded
        dict(account_id="B", signup_at="2025-07-01", churned_at="2026-01-15", mrr=50, mrr_start=50),  # lost
        dict(account_id="C", signup_at="2025-08-01", mrr=60, mrr_start=100),          # contracted
        dict(account_id="D", signup_at="2026-01-10", mrr=70),                         # new
        dict(account_id="E", signup_at="2025-01-01", churned_at="2025-12-01", mrr=40),  # gone before
        dict(account_id="F", signup_at="2026-01-05", churned_at="2026-01-20", mrr=30),  # new, then lost
        dict(account_id="G", mrr=200, mrr_start=200),                                 # signup unknown
    ])


def _run(name, accounts, start=START, end=END):
    return get_kpi(name)(Tables(accounts=accounts, period_start=start, period_end=end), KPIConfig())


# customers at start CS: A, B, C, G (4); at end CE: A, C, D, G (4); new CN: D, F (2); lost: B


def test_revenue_kpis_churn_rate(accounts):
    measure = _run("churn_rate", accounts)
    assert measure.value == pytest.approx(100 * 1 / 4)
    assert measure.n == 4
    assert measure.id_kind == "account_id"
    assert set(measure.ids) == {"A", "B", "C", "G"}


def test_revenue_kpis_retention_rate(accounts):
    assert _run("retention_rate", accounts).value == pytest.approx(100 * (4 - 2) / 4)


def test_revenue_kpis_mrr_movements(accounts):
    assert _run("mrr_new", accounts).value == pytest.approx(70 + 30)        # D, F
    assert _run("mrr_churned", accounts).value == pytest.approx(50 + 30)    # B, F
    assert _run("mrr_expansion", accounts).value == pytest.approx(100 - 80)  # A
    assert _run("mrr_contraction", accounts).value == pytest.approx(100 - 60)  # C
    assert _run("mrr_expansion", accounts).n == 3  # kept with both MRR values: A, C, G


def test_revenue_kpis_net_revenue_retention(accounts):
    # start MRR of A, B, C, G = 80 + 50 + 100 + 200; their MRR at the end = 100 + 0 + 60 + 200
    assert _run("net_revenue_retention", accounts).value == pytest.approx(100 * 360 / 430)


def test_revenue_kpis_upsell_rate(accounts):
    assert _run("upsell_rate", accounts).value == pytest.approx(100 * 1 / 3)  # A of A, C, G


def test_revenue_kpis_customer_lifetime_value(accounts):
    # ARPA = mean mrr_start of A, B, C, G = 107.5; the period is one month, churn 25 % -> 107.5 / 0.25
    assert _run("customer_lifetime_value", accounts).value == pytest.approx(107.5 / 0.25)
    # over two months the same 25 % churn is 1 - 0.75 ** 0.5 per month
    two_months = _run("customer_lifetime_value", accounts, end=START + 2 * (END - START))
    assert two_months.value == pytest.approx(107.5 / (1 - 0.75 ** 0.5))


def test_revenue_kpis_lifetime_value_without_churn_is_none():
    accounts = _accounts([dict(account_id="A", signup_at="2025-01-01", mrr=10)])
    assert _run("customer_lifetime_value", accounts).value is None
    assert _run("churn_rate", accounts).value == 0.0


def test_revenue_kpis_repurchase_rate():
    accounts = _accounts([dict(account_id=k, orders=v) for k, v in
                          (("a", 0), ("b", 1), ("c", 2), ("d", 3), ("e", None))])
    assert _run("repurchase_rate", accounts).value == pytest.approx(100 * 2 / 3)


def test_revenue_kpis_need_a_period(accounts):
    for name in ("churn_rate", "retention_rate", "mrr_new", "net_revenue_retention"):
        measure = _run(name, accounts, start=None, end=None)
        assert measure.value is None and measure.n == 0


def test_revenue_kpis_mrr_kpis_need_mrr_start():
    missing = get_kpi("mrr_expansion").missing_inputs(Tables(accounts=_accounts([dict(account_id="a", mrr=1)])))
    assert missing == ["accounts.mrr_start"]


def test_revenue_kpis_explain_churn_lists_accounts(accounts):
    tables = Tables(accounts=accounts, period_start=START, period_end=END)
    _, rows = explain_kpi("churn_rate", tables)
    assert sorted(rows["account_id"]) == ["A", "B", "C", "G"]
