"""Helpdesk adapters (issue 24): conversion speed on a synthetic Zendesk export.

The Zendesk fixture's shape (tests/core/data/zendesk) scaled up: ``--tickets`` tickets in incremental-export pages
of 1,000, four comments each (HTML bodies, a private note, a bot reply), one metric set each. Times
``read_zendesk`` (parse, ledger, HTML to text, derived fields, vendor comparison) in one process.

    python benchmarks/bench_adapters.py [--tickets 5000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from cxlens.adapters import read_zendesk


def write_export(folder: Path, n: int) -> None:
    base = 1_709_542_800  # 2024-03-04T09:00:00Z
    for page in range(0, n, 1000):
        tickets, comments, metrics = [], [], []
        for i in range(page, min(n, page + 1000)):
            t0 = base + i * 60
            tickets.append({"id": i + 1, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
                            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + 5400)),
                            "status": "solved", "priority": "normal", "requester_id": 10_000 + i,
                            "assignee_id": 7, "group_id": 3, "subject": f"Order #A-{i}",
                            "description": "Where is my order?", "via": {"channel": "email"}, "tags": ["orders"]})
            for j, (author, public, channel, html) in enumerate((
                    (10_000 + i, True, "email", f"<p>Hi, order #A-{i} hasn&#39;t arrived &amp; I&rsquo;m worried.</p>"),
                    (7, True, "answer_bot", "<p>Here are some articles.</p>"),
                    (7, False, "web", "<p>Carrier says lost.</p>"),
                    (7, True, "email", "<p>Sorry! We&#39;ve reshipped it.</p>"))):
                comments.append({"id": (i + 1) * 10 + j, "ticket_id": i + 1, "author_id": author, "public": public,
                                 "html_body": html, "via": {"channel": channel},
                                 "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + j * 900))})
            metrics.append({"ticket_id": i + 1, "reply_time_in_minutes": {"calendar": 45, "business": 45},
                            "full_resolution_time_in_minutes": {"calendar": 90, "business": 90},
                            "first_resolution_time_in_minutes": {"calendar": 90, "business": 90},
                            "solved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + 5400)), "reopens": 0})
        (folder / f"tickets-{page // 1000}.json").write_text(json.dumps({"tickets": tickets, "end_of_stream": False}))
        (folder / f"ticket_comments-{page // 1000}.jsonl").write_text("\n".join(map(json.dumps, comments)) + "\n")
        (folder / f"ticket_metrics-{page // 1000}.json").write_text(json.dumps({"ticket_metrics": metrics}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_export(Path(tmp), args.tickets)
        start = time.perf_counter()
        result = read_zendesk(tmp)
        seconds = time.perf_counter() - start
    s = result.summary()
    print(f"read_zendesk: {s['records_read']:,} records ({s['tickets']:,} tickets, {s['messages']:,} messages) in "
          f"{seconds:.1f} s: {s['records_read'] / seconds:,.0f} records/s, {s['tickets'] / seconds:,.0f} tickets/s; "
          f"vendor checks {s['vendor_matches']:,} match of {s['vendor_checks']:,}")


if __name__ == "__main__":
    main()
