"""``cxlens dashboard DIR`` (the Streamlit app) and ``cxlens report DIR --out FILE`` (offline HTML).

The dashboard is a Streamlit child process. SIGTERM, SIGINT or SIGHUP to cxlens stops it too: the child is
sent SIGTERM, given a moment, then killed and reaped (never left serving with no parent).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["STOP_SIGNALS", "add_commands"]

#: the signals that stop ``cxlens dashboard`` and its Streamlit child
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR",
                        help="the --out folder of `cxlens score` or `cxlens demo`, or a folder of canonical tables")
    parser.add_argument("--config", metavar="TOML", help="KPI settings, SLA policy, business hours")
    parser.add_argument("--monthly-cost", type=float, metavar="AMOUNT",
                        help="support operating cost per month (cost per ticket, cost as %% of revenue)")
    parser.add_argument("--cost-target", type=float, metavar="AMOUNT", help="cost-per-ticket target line")
    parser.add_argument("--redact", action="store_true",
                        help="replace personal data (emails, phones, cards, IBANs, names, ...) by typed placeholders "
                             "as the archive is read: nothing shown holds a raw value (docs/trust-and-safety.md)")


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    dashboard = sub.add_parser("dashboard", help="the analyst dashboard (Streamlit, on localhost)",
                               description="Serve the dashboard pages (team service, satisfaction, support KPIs, "
                                           "retention, topics, at-risk accounts, quality) on localhost.")
    _common(dashboard)
    dashboard.add_argument("--port", type=int, default=8501, help="port on localhost (default 8501)")
    dashboard.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    dashboard.set_defaults(func=dashboard_cmd)

    report = sub.add_parser("report", help="every dashboard page as one self-contained HTML file",
                            description="Write the dashboard pages to one HTML file that opens with no network "
                                        "(charts embedded, no scripts, no external links).")
    _common(report)
    report.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    report.add_argument("--start", metavar="DATE", help="first day of the period (YYYY-MM-DD)")
    report.add_argument("--end", metavar="DATE", help="last day of the period (YYYY-MM-DD)")
    for name in ("channel", "team", "agent"):
        report.add_argument(f"--{name}", action="append", default=[], metavar="VALUE",
                            help=f"only this {name} (repeatable)")
    report.set_defaults(func=report_cmd)


def dashboard_cmd(args: argparse.Namespace) -> int:
    from cxlens.pipelines.dashboard import run_dashboard

    sys.stderr.write(f"cxlens: dashboard on http://localhost:{args.port} (Ctrl+C to stop)\n")
    try:
        with _stopped_by_signals():
            return run_dashboard(args.folder, port=args.port, open_browser=not args.no_browser,
                                 config=args.config, monthly_cost=args.monthly_cost, cost_target=args.cost_target,
                                 redact=args.redact)
    except _Stopped as stop:
        sys.stderr.write(f"cxlens: dashboard stopped ({signal.Signals(stop.signum).name})\n")
        return 128 + stop.signum


class _Stopped(KeyboardInterrupt):
    """A stop signal arrived. As a KeyboardInterrupt it makes ``subprocess.run`` give the child a moment to end
    (Python's Ctrl-C grace), then kill it and reap it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Inside, each of :data:`STOP_SIGNALS` sends SIGTERM to this process's children and raises :class:`_Stopped`."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def stop(signum: int, frame) -> None:
        for pid in _children():
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        raise _Stopped(signum)

    before = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _children() -> list[int]:
    """This process's child pids (Linux: /proc; elsewhere none, and the child is killed without a SIGTERM)."""
    pids: list[int] = []
    for path in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        try:
            pids += [int(pid) for pid in path.read_text().split()]
        except (OSError, ValueError):
            pass
    return pids


def _date(value: str | None, flag: str):
    from datetime import date

    from cxlens.errors import ConfigError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag} {value!r} is not a date: use YYYY-MM-DD.") from None


def report_cmd(args: argparse.Namespace) -> int:
    from cxlens._outdir import prepare_output_file
    from cxlens.config import load_config
    from cxlens.pipelines.dashboard import DashboardFilters, DashboardSettings
    from cxlens.pipelines.dashboard import write_report

    filters = DashboardFilters(start=_date(args.start, "--start"), end=_date(args.end, "--end"),
                               channels=tuple(args.channel), teams=tuple(args.team), agents=tuple(args.agent))
    settings = DashboardSettings(config=load_config(args.config), monthly_cost=args.monthly_cost,
                                 cost_per_ticket_target=args.cost_target)
    folder = Path(args.folder)
    # what the report reads is the score folder's data; an earlier report (.html) in it may be written again
    read = [p for p in folder.iterdir() if p.suffix.lower() != ".html"] if folder.is_dir() else [folder]
    prepare_output_file(args.out, inputs=read)
    path = write_report(args.folder, args.out, filters=filters, settings=settings, redact=args.redact)
    sys.stderr.write(f"cxlens: wrote {path} ({path.stat().st_size / 1e6:.1f} MB)\n")
    return 0
