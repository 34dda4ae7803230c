"""What the helpdesk adapters share: HTML to text, times, JSON pages, the record ledger, the vendor oracle."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cxlens._adapter_common import Ledger, Record, html_to_text, load_json_records, to_utc
from cxlens._adapter_oracle import compare_with_vendor
from cxlens.errors import RowAccountingError, UnreadableFileError


def test_html_to_text():
    html = ("<div><p>Hi&nbsp;Ann,</p><p>Order #A-1 &amp; #A-2 &ndash; shipped&#8230;<br>Bye</p>"
            "<script>alert(1)</script><style>p{}</style><ul><li>one</li><li>two</li></ul></div>")
    assert html_to_text(html) == "Hi Ann,\n\nOrder #A-1 & #A-2 \u2013 shipped\u2026\nBye\n\none\n\ntwo"
    assert html_to_text("a &lt;b&gt; c") == "a <b> c" and html_to_text(None) is None


@pytest.mark.parametrize("value, expected", [
    ("2024-03-08T16:30:00-05:00", "2024-03-08T21:30:00Z"), ("2024-06-03T14:00:00.000+0000", "2024-06-03T14:00:00Z"),
    (1711962000, "2024-04-01T09:00:00Z"), ("1714557600000", "2024-05-01T10:00:00Z"), ("2024-03-04", "2024-03-04"),
])
def test_times(value, expected):
    want = pd.Timestamp(expected) if expected.endswith("Z") else pd.Timestamp(expected, tz="UTC")
    assert to_utc(value) == want


@pytest.mark.parametrize("value", ["06/07/2024", "yesterday", 12, "", None, True, float("nan")])
def test_not_times(value):
    assert to_utc(value) is None


def test_pages_and_broken_lines(tmp_path):
    (tmp_path / "tickets-1.json").write_text(json.dumps({"tickets": [{"id": 1}, 7], "users": [{"id": 2}],
                                                         "next_page": None}))
    (tmp_path / "comments.jsonl").write_text('{"ticket_id": 1, "comments": [{"id": 5}]}\n{oops\n{"id": 6}\n')
    records = load_json_records(tmp_path, kinds={"tickets": ("tickets",), "users": ("users",),
                                                 "comments": ("comments",)})
    kinds = [(r.kind, isinstance(r.value, ValueError)) for r in records]
    assert kinds == [("comments", False), ("comments", True), ("comments", False), ("tickets", False),
                     ("tickets", True), ("users", False)]
    assert records[0].value == {"id": 5, "ticket_id": 1}  # the page lends its ticket id
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(UnreadableFileError, match="JSON Lines"):
        load_json_records(tmp_path / "broken.json", kinds={"tickets": ("tickets",)})


def test_ledger_proves_every_record_has_a_fate():
    ledger = Ledger()
    a, b = ledger.add([Record("f", "tickets", 1, {"id": 1}), Record("f", "tickets", 2, {"id": 2})])
    ledger.use(a)
    with pytest.raises(RowAccountingError, match="neither used nor quarantined"):
        ledger.check()
    ledger.reject(b, "bad")
    ledger.check()
    assert ledger.n_read == 2 and ledger.n_used == 1 and list(ledger.quarantine()["_reason"]) == ["bad"]


def test_oracle_explanations():
    t0 = pd.Timestamp("2024-01-01T09:00Z")
    tickets = pd.DataFrame({"ticket_id": ["p", "r", "u"], "created_at": [t0] * 3,
                            "first_response_at": [t0 + pd.Timedelta("1h")] * 3,
                            "resolved_at": [t0 + pd.Timedelta("10h"), t0 + pd.Timedelta("5h"), t0 + pd.Timedelta("3h")],
                            "paused_s": [4 * 3600.0, 0.0, 0.0]})
    messages = pd.DataFrame({"ticket_id": ["p", "r", "u"], "sent_at": [t0 + pd.Timedelta("1h")] * 3,
                             "author_role": ["agent"] * 3})
    vendor = pd.DataFrame({"ticket_id": ["p", "r", "u"], "vendor_first_response_s": [3600.0, 3630.0, 7200.0],
                           "vendor_resolution_s": [6 * 3600.0, 9 * 3600.0, 3 * 3600.0],
                           "vendor_first_resolution_s": [None, 5 * 3600.0, None]})
    c = compare_with_vendor(tickets, messages, vendor).set_index(["ticket_id", "metric"])["verdict"]
    assert c[("p", "first_response")] == "match" and c[("r", "first_response")] == "match"  # within a minute
    assert "paused time" in c[("p", "resolution")]
    assert "reopened" in c[("r", "resolution")]
    assert c[("u", "first_response")] == "unexplained" and c[("u", "resolution")] == "match"


def test_oracle_takes_missing_values():
    t0 = pd.Timestamp("2024-01-01T09:00Z")
    tickets = pd.DataFrame({"ticket_id": ["a"], "created_at": [t0], "first_response_at": [pd.NaT],
                            "resolved_at": [t0 + pd.Timedelta("1h")], "paused_s": [None]})
    messages = pd.DataFrame({"ticket_id": ["a"], "sent_at": [t0], "author_role": ["customer"]})
    vendor = pd.DataFrame({"ticket_id": ["a"], "vendor_first_response_s": [None], "vendor_resolution_s": [3600.0]})
    c = compare_with_vendor(tickets, messages, vendor).set_index("metric")["verdict"]
    assert c["resolution"] == "match" and "first_response" not in c.index  # nothing to compare on either side


def test_embedded_items_are_records_too():
    ledger = Ledger()
    (ticket,) = ledger.add([Record("f", "tickets", 3, {"id": 7})])
    items = ledger.embedded(ticket, "comments", [{"id": 1}, "junk", {"id": 2}], {"ticket_id": "7"})
    assert [r.value for r in items] == [{"id": 1, "ticket_id": "7"}, {"id": 2, "ticket_id": "7"}]
    assert ledger.n_read == 4 and items[0].kind == "comments in tickets 3"
    ledger.use(ticket)
    for record in items:
        ledger.use(record)
    ledger.check()
    assert list(ledger.quarantine()["_reason"]) == ["a comments item is not a JSON object"]
