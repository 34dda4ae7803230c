"""The at-risk page is self-contained and escapes what comes from the data."""

from __future__ import annotations

import pandas as pd

from cxlens.pipelines.accounts import AtRiskReview, recent_problem_tickets
from cxlens.pipelines.dashboard import render_at_risk_html


def _review() -> AtRiskReview:
    table = pd.DataFrame({
        "rank": [1, 2], "account_id": ["A<1>", "A2"], "plan": ["pro", "starter"],
        "churn_probability": [0.8, 0.1], "mrr": [100.0, 20.0], "mrr_at_risk": [80.0, 2.0],
        "health_score": [30.0, 80.0], "health_band": ["poor", "good"],
        "health_reasons": ["low satisfaction (CSAT/NPS/effort) (10/100)", "no weak component"],
        "reason_1": ["3 unresolved tickets (raises risk)", "CSAT 4.0 of 5 (lowers risk)"],
        "reason_2": ["", ""], "reason_3": ["", ""], "recent_problem_tickets": ["T1", ""],
        "explanation_method": ["exact-linear"] * 2,
    })
    tickets = pd.DataFrame({"account_id": ["A<1>"], "ticket_id": ["T1"],
                            "created_at": [pd.Timestamp("2025-05-01", tz="UTC")],
                            "subject": ["see https://example.com/x <script>alert(1)</script>"],
                            "why": ["negative"]})
    summary = {"as_of": "2025-06-01T00:00:00+00:00", "accounts_scored": 2, "risk_threshold": 0.5,
               "at_risk_accounts": 1, "mrr_of_at_risk_accounts": 100.0, "expected_mrr_loss": 82.0,
               "total_mrr": 120.0, "health_bands": {"good": 1, "average": 0, "poor": 1},
               "explanation_method": "exact-linear", "period_days": 90.0}
    return AtRiskReview(table=table, summary=summary, retention={"churn_rate": 5.0, "mrr_churned": 300.0},
                        retention_skipped={"net_revenue_retention": ["accounts.mrr_start"]}, tickets=tickets,
                        model_info={"trained": "given", "model": "logistic"})


def test_accounts_html_has_no_external_reference_and_escapes_data():
    page = render_at_risk_html(_review())
    assert "http" not in page
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "A&lt;1&gt;" in page
    assert "href='#t-T1'" in page.replace('"', "'") and "id='t-T1'" in page
    assert "needs accounts.mrr_start" in page


def test_accounts_recent_problem_tickets_point_in_time():
    as_of = pd.Timestamp("2025-06-01", tz="UTC")
    tickets = pd.DataFrame({
        "ticket_id": ["old", "neg", "open_then", "fine", "future"],
        "account_id": ["A"] * 5,
        "created_at": pd.to_datetime(["2025-01-01", "2025-05-10", "2025-05-20", "2025-05-21", "2025-06-02"],
                                     utc=True),
        "resolved_at": pd.to_datetime(["2025-01-02", "2025-05-11", "2025-06-05", "2025-05-22", None], utc=True),
        "sentiment": ["negative", "negative", "neutral", "positive", "negative"],
    })
    listed = recent_problem_tickets(tickets, as_of=as_of)
    assert list(listed["ticket_id"]) == ["open_then", "neg"]
    assert list(listed["why"]) == ["unresolved", "negative"]
