"""The dashboard's at-risk page follows the at-risk review's flag (relative to the portfolio) and shows
revenue at risk as MRR x probability; a configured risk_threshold stays absolute."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cxlens.config import KPIConfig
from cxlens.pipelines.dashboard import DashboardSettings, dashboard_page
from cxlens.pipelines.score import read_scored


@pytest.fixture(scope="module")
def flagged(dashboard_score_dir):
    archive = read_scored(dashboard_score_dir)
    accounts = archive.accounts.copy()
    p = accounts["churn_probability"].to_numpy(dtype=float)
    top = np.nanquantile(p, 0.9)
    accounts["at_risk"] = np.where(np.isnan(p), False, p >= top)
    return dataclasses.replace(archive, accounts=accounts)


def test_dashboard_at_risk_page_uses_the_review_flag(flagged):
    page = dashboard_page("at_risk", flagged, settings=DashboardSettings())
    accounts = flagged.accounts
    current = accounts["churned_at"].isna().to_numpy()
    flag = accounts["at_risk"].to_numpy(dtype=bool)
    assert page.metric("At-risk accounts").value == int((current & flag).sum()) > 0
    expected = float(np.nansum(accounts["mrr_at_risk"].to_numpy(dtype=float)[flag]))
    assert page.metric("Revenue at risk (MRR x probability)").value == pytest.approx(expected)
    ranked = page.chart("ranked_accounts")
    assert "relative to the portfolio" in ranked.note and "at_risk" in ranked.data.columns


def test_dashboard_at_risk_page_fixed_threshold_overrides_the_flag(flagged):
    page = dashboard_page("at_risk", flagged, settings=DashboardSettings(config=KPIConfig(risk_threshold=0.2)))
    accounts = flagged.accounts
    current = accounts["churned_at"].isna().to_numpy()
    expected = int((current & (accounts["churn_probability"].to_numpy(dtype=float) >= 0.2)).sum())
    assert page.metric("At-risk accounts").value == expected
    assert "churn probability >= 0.2" in page.chart("ranked_accounts").note
