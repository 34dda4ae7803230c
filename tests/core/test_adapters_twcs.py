"""Customer Support on Twitter adapter: threads -> tickets + messages; bad records -> quarantine."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.adapters import read_twcs
from cxlens.cli import main
from cxlens.dataset import load_dataset
from cxlens.errors import MissingColumnsError
from cxlens.io import REASON_COL

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
THREADS = HEADER + (
    # thread 1: customer -> brand -> customer -> brand (solved)
    "1,c1,True,Wed Oct 11 06:00:00 +0000 2017,@Acme my order is late,2,\n"
    "2,AcmeHelp,False,Wed Oct 11 06:10:00 +0000 2017,@c1 sorry! DM us ^AB,3,1\n"
    "3,c1,True,Wed Oct 11 06:20:00 +0000 2017,@AcmeHelp done,4,2\n"
    "4,AcmeHelp,False,Wed Oct 11 06:25:00 +0000 2017,@c1 refunded ^AB,,3\n"
    # thread 2: a lone customer tweet (open)
    "5,c2,True,Thu Oct 12 09:00:00 +0000 2017,@Acme hello?,,\n"
    # thread 3: brand reply to a customer tweet missing from the file, then the customer answers
    "6,AcmeHelp,False,Thu Oct 12 08:00:00 +0000 2017,@c3 can you DM us?,7,99\n"
    "7,c3,True,Thu Oct 12 08:30:00 +0000 2017,@AcmeHelp ok,8,6\n"
    "8,AcmeHelp,False,Thu Oct 12 08:40:00 +0000 2017,@c3 thanks,,7\n"
    # thread 4: only brand tweets (its customer tweet is not in the file) -> quarantined
    "9,AcmeHelp,False,Fri Oct 13 10:00:00 +0000 2017,@c4 anything else?,,98\n"
    # bad records
    "10,c5,maybe,Fri Oct 13 10:00:00 +0000 2017,what,,\n"
    "11,c6,True,yesterday,what,,\n"
    "1,c7,True,Fri Oct 13 10:00:00 +0000 2017,duplicate id,,\n"
    # a child named only by its parent's response_tweet_id (and a float-formatted id)
    "12,c8,True,Fri Oct 13 11:00:00 +0000 2017,@Acme broken,13.0,\n"
    "13,AcmeHelp,False,Fri Oct 13 11:05:00 +0000 2017,@c8 on it,,\n"
)


@pytest.fixture()
def converted(tmp_path):
    path = tmp_path / "twcs.csv"
    path.write_text(THREADS, encoding="utf-8")
    return read_twcs(path)


def test_threads_become_tickets(converted):
    t = converted.tickets.set_index("ticket_id")
    assert sorted(t.index) == ["1", "12", "5", "7"]
    one = t.loc["1"]
    assert one["created_at"] == pd.Timestamp("2017-10-11T06:00:00Z")
    assert (one["channel"], one["account_id"], one["agent_id"], one["team"]) == ("social", "c1", "AcmeHelp",
                                                                                  "acmehelp")
    assert one["first_response_at"] == pd.Timestamp("2017-10-11T06:10:00Z")
    assert one["agent_replies"] == 2 and one["contacts"] == 2
    assert one["status"] == "solved" and one["resolved_at"] == pd.Timestamp("2017-10-11T06:25:00Z")
    assert t.loc["5", "status"] == "open" and pd.isna(t.loc["5", "resolved_at"])
    assert t.loc["5", "agent_replies"] == 0 and pd.isna(t.loc["5", "first_response_at"])
    # the brand tweet before the customer's first tweet is kept but is not a response
    assert t.loc["7", "first_response_at"] == pd.Timestamp("2017-10-12T08:40:00Z")
    assert t.loc["12", "agent_replies"] == 1


def test_messages_roles_and_order(converted):
    m = converted.messages
    one = m[m["ticket_id"] == "1"]
    assert list(one["message_id"]) == ["1", "2", "3", "4"]
    assert list(one["author_role"]) == ["customer", "agent", "customer", "agent"]
    assert list(one["author_id"]) == ["c1", "AcmeHelp", "c1", "AcmeHelp"]
    assert set(m.loc[m["ticket_id"] == "7", "message_id"]) == {"6", "7", "8"}


def test_bad_records_are_quarantined_with_reasons(converted):
    q = converted.quarantine
    by_id = {str(k): v for k, v in zip(q["tweet_id"], q[REASON_COL])}
    assert by_id["9"].startswith("thread has no customer tweet")
    assert by_id["10"] == "inbound is not True/False"
    assert by_id["11"].startswith("created_at is not a valid time")
    assert q.loc[q["text"] == "duplicate id", REASON_COL].item().startswith("duplicate tweet_id")
    assert converted.n_read == 14 == len(converted.messages) + len(q)


def test_output_passes_validation(converted, tmp_path):
    from cxlens.io import write_table

    data = load_dataset(tickets=write_table(converted.tickets, tmp_path / "t.csv"),
                        messages=write_table(converted.messages, tmp_path / "m.csv"))
    assert data.n_quarantined() == 0


def test_missing_columns_named_at_once(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("tweet_id,text\n1,hi\n", encoding="utf-8")
    with pytest.raises(MissingColumnsError) as info:
        read_twcs(path)
    assert {"author_id", "inbound", "created_at", "in_response_to_tweet_id"} <= set(info.value.missing)


def test_cli_convert_then_kpis(tmp_path, capsys):
    src = tmp_path / "twcs.csv"
    src.write_text(THREADS, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["convert", "twcs", "--input", str(src), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "4 tickets" in err and "quarantined 4" in err
    q = pd.read_csv(out / "quarantine" / "twcs.csv", dtype=str)
    assert len(q) == 4 and q[REASON_COL].notna().all()
    assert main(["convert", "twcs", "--input", str(src), "--out", str(tmp_path / "pq"), "--format", "parquet"]) == 0
    assert pd.read_parquet(tmp_path / "pq" / "tickets.parquet").shape[0] == 4
    rc = main(["kpis", "compute", "--tickets", str(out / "tickets.csv"), "--messages", str(out / "messages.csv"),
               "--format", "json", "--kpi", "ticket_volume"])
    assert rc == 0
    assert '"ticket_volume": 4' in capsys.readouterr().out


def test_cli_convert_missing_file_exit_2(tmp_path, capsys):
    assert main(["convert", "twcs", "--input", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.shared_data
def test_real_sample(shared_data, tmp_path):
    path = shared_data / "twcs" / "sample.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    result = read_twcs(path)
    assert len(result.tickets) > 10
    assert result.n_read == len(result.messages) + len(result.quarantine)
    assert set(result.messages["author_role"]) == {"customer", "agent"}
    assert result.tickets["first_response_at"].notna().mean() > 0.5
    assert (result.tickets["first_response_at"].dropna() >= result.tickets.loc[
        result.tickets["first_response_at"].notna(), "created_at"]).all()


@pytest.mark.shared_data
def test_real_spotify_file_with_broken_lines(shared_data):
    path = shared_data / "twcs" / "spotifycares_support_requests.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    result = read_twcs(path)
    assert len(result.tickets) > 10_000
    assert result.n_read == len(result.messages) + len(result.quarantine)
    assert 0 < len(result.quarantine) < 100


def test_nothing_usable_exits_2(tmp_path, capsys):
    only_brand = tmp_path / "brand.csv"
    only_brand.write_text(HEADER + "9,AcmeHelp,False,Fri Oct 13 10:00:00 +0000 2017,@c4 hi,,98\n", encoding="utf-8")
    assert main(["convert", "twcs", "--input", str(only_brand), "--out", str(tmp_path / "o")]) == 2
    assert "No usable threads" in capsys.readouterr().err
    header_only = tmp_path / "header.csv"
    header_only.write_text(HEADER, encoding="utf-8")
    assert main(["convert", "twcs", "--input", str(header_only), "--out", str(tmp_path / "o")]) == 2
