"""The example-archive generator: deterministic, valid, realistic, and the bundled archive is its output."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from cxlens import example_data
from cxlens.dataset import derive_ticket_fields, load_dataset
from cxlens.errors import ConfigError
from cxlens.example_data import REQUEST_TYPES, write_example_archive

TABLES = ("tickets", "messages", "accounts", "surveys", "mentions")


def digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def load(written):
    return load_dataset(**{name: written[name] for name in TABLES})


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("small")
    return write_example_archive(out, n_tickets=600, seed=11)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path, small):
    again = write_example_archive(tmp_path / "again", n_tickets=600, seed=11)
    other = write_example_archive(tmp_path / "other", n_tickets=600, seed=12)
    assert digest(small["tickets"].parent) == digest(again["tickets"].parent)
    assert digest(small["tickets"].parent)["tickets.csv"] != digest(other["tickets"].parent)["tickets.csv"]


def test_archive_validates_with_nothing_quarantined(small):
    data = load(small)
    assert data.n_quarantined() == 0
    for row in data.summary():
        assert row["read"] == row["used"] > 0, row


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_other_formats_validate_and_match_csv(tmp_path, fmt, small):
    written = write_example_archive(tmp_path / fmt, n_tickets=600, seed=11, fmt=fmt)
    assert written["tickets"].suffix == f".{fmt}"
    data = load(written)
    assert data.n_quarantined() == 0
    csv_tickets = load(small).tickets
    pd.testing.assert_series_equal(data.tickets["created_at"], csv_tickets["created_at"], check_dtype=False)
    assert list(data.tickets["ticket_id"]) == list(csv_tickets["ticket_id"])


def test_chunks_join_seamlessly(tmp_path, monkeypatch):
    monkeypatch.setattr(example_data, "CHUNK", 70)
    written = write_example_archive(tmp_path / "chunked", n_tickets=300, seed=5)
    data = load(written)
    assert data.n_quarantined() == 0
    assert data.tickets["ticket_id"].is_unique and len(data.tickets) == 300
    ids = data.messages["message_id"].str[1:].astype(int)
    assert list(ids) == list(range(len(ids)))
    assert data.tickets["created_at"].is_monotonic_increasing


def test_ticket_fields_agree_with_messages(small):
    data = load(small)
    tickets = data.tickets
    stripped = tickets.drop(columns=["first_response_at", "agent_replies"])
    derived = derive_ticket_fields(stripped, data.messages)
    pd.testing.assert_series_equal(derived["first_response_at"], tickets["first_response_at"], check_dtype=False)
    has_messages = tickets["ticket_id"].isin(data.messages["ticket_id"])
    assert (derived["agent_replies"][has_messages] == tickets["agent_replies"][has_messages]).all()
    # every message is on or after its ticket's creation, and resolution is after the last agent reply
    msgs = data.messages.merge(tickets[["ticket_id", "created_at", "resolved_at"]], on="ticket_id")
    assert (msgs["sent_at"] >= msgs["created_at"]).all()
    last_agent = msgs[msgs["author_role"] == "agent"].groupby("ticket_id")["sent_at"].max()
    resolved = tickets.set_index("ticket_id")["resolved_at"].reindex(last_agent.index).dropna()
    assert (resolved >= last_agent.reindex(resolved.index)).all()


@pytest.fixture(scope="module")
def bundled():
    from cxlens.example_data import example_archive_path

    folder = example_archive_path()
    return load_dataset(**{name: folder / f"{name}.csv" for name in TABLES})


def test_bundled_archive_is_the_generator_output(repo_root, tmp_path, bundled):
    import re

    import pyarrow

    from cxlens.example_data import EXAMPLE_ARCHIVE, example_archive_path

    write_example_archive(tmp_path / "fresh", **EXAMPLE_ARCHIVE)
    if digest(tmp_path / "fresh") != digest(example_archive_path()):
        readme = (repo_root / "examples" / "README.md").read_text(encoding="utf-8")
        made_with = re.search(r"numpy (\S+)\s+and pyarrow (\S+?),", readme)
        if made_with and made_with.groups() != (np.__version__, pyarrow.__version__):
            pytest.skip(f"the bundled archive was made with numpy/pyarrow {made_with.groups()}; these are "
                        f"{np.__version__}/{pyarrow.__version__}, whose random streams may differ")
        raise AssertionError("cxlens/data/example_archive differs from `cxlens example-data --tickets 2000 --seed 7`: "
                             "regenerate it (see examples/README.md)")


def test_channels_speeds_and_states_are_realistic(bundled):
    t = bundled.tickets
    assert set(t["channel"]) == {"email", "chat", "phone", "social", "web"}
    frt = (t["first_response_at"] - t["created_at"]).dt.total_seconds().groupby(t["channel"]).median()
    assert frt["chat"] < 120 and frt["phone"] < 300
    assert 3600 < frt["email"] < 12 * 3600 and frt["social"] < frt["email"]
    assert {"open", "pending", "solved", "closed"} <= set(t["status"])
    assert 0.02 < t["reopened"].mean() < 0.15
    live = t[t["channel"].isin(["chat", "phone"])]
    assert 0.03 < live["abandoned"].mean() < 0.15
    assert (live.loc[live["abandoned"].astype(bool), "wait_time_s"] > 0).all()
    assert not t.loc[t["abandoned"].fillna(False).astype(bool), "answered"].astype(bool).any()
    assert t["self_service"].any() and t["paused_s"].notna().any()
    sla_miss = (t["first_response_at"] - t["created_at"]).dt.total_seconds() > t["channel"].map(
        {"email": 86400, "web": 86400, "chat": 60, "phone": 180, "social": 3600})
    assert 0.03 < sla_miss.mean() < 0.4
    assert set(t["true_request_type"]) == set(REQUEST_TYPES)
    assert t["csat"].between(1, 5).sum() > 0.15 * len(t) and t["nps"].notna().any() and t["ces"].notna().any()
    assert bundled.tickets["agent_id"].nunique() >= 5 and t["team"].nunique() == 5


def test_messages_have_every_role_and_varied_text(bundled):
    m = bundled.messages
    assert set(m["author_role"]) == {"customer", "agent", "bot", "system", "note"}
    assert 4 < len(m) / len(bundled.tickets) < 7
    first = bundled.tickets["text"].dropna()
    assert first.nunique() > 0.8 * len(first)  # slot filling makes texts differ


def test_surveys_repeat_the_ticket_answers(bundled):
    s, t = bundled.surveys, bundled.tickets.set_index("ticket_id")
    csat = s[s["kind"] == "csat"].set_index("ticket_id")["score"]
    assert (t.loc[csat.index, "csat"] == csat).all()
    assert len(csat) == t["csat"].notna().sum()
    assert (s["responded_at"] >= t.loc[s["ticket_id"], "resolved_at"].to_numpy()).all()


def test_churners_show_it_in_their_tickets(bundled):
    a = bundled.accounts.set_index("account_id")
    churn_share = a["churned_at"].notna().mean()
    assert 0.12 < churn_share < 0.25
    assert (a["churned_at"].dropna() > a.loc[a["churned_at"].notna(), "signup_at"]).all()
    t = bundled.tickets.join(a[["churned_at"]], on="account_id")
    pre = t["churned_at"].notna() & (t["created_at"] >= t["churned_at"] - pd.Timedelta(days=90))
    assert (t.loc[t["churned_at"].notna(), "created_at"] <= t.loc[t["churned_at"].notna(), "churned_at"]).all()
    neg = t["true_sentiment"] == "negative"
    assert neg[pre].mean() > 2 * neg[~pre].mean()
    assert t.loc[pre, "csat"].mean() < t.loc[~pre, "csat"].mean() - 1
    assert t.loc[pre, "reopened"].mean() > t.loc[~pre, "reopened"].mean()
    per_day = t.groupby(pre).size() / np.array([365 * len(a), 90 * a["churned_at"].notna().sum()])
    assert per_day[True] > per_day[False]
    logins = pd.to_numeric(a["logins_30d"]) / pd.to_numeric(a["seats"])
    assert logins[a["churned_at"].notna()].mean() < logins[a["churned_at"].isna()].mean()


def test_mentions_carry_truth_and_replies(bundled):
    x = bundled.mentions
    assert set(x["true_sentiment"]) == {"negative", "neutral", "positive"}
    assert x["in_reply_to"].dropna().isin(x["mention_id"]).all()
    assert (x["replied_at"].dropna() >= x.loc[x["replied_at"].notna(), "posted_at"]).all()


def test_bad_arguments(tmp_path):
    with pytest.raises(ConfigError, match="at least 1"):
        write_example_archive(tmp_path, n_tickets=0, seed=1)
    with pytest.raises(ConfigError, match="Unknown format"):
        write_example_archive(tmp_path, n_tickets=5, seed=1, fmt="xlsx")


def test_tiny_archive_still_valid(tmp_path):
    data = load(write_example_archive(tmp_path, n_tickets=3, seed=0))
    assert data.n_quarantined() == 0 and len(data.tickets) == 3
