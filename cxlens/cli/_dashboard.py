"""``cxlens dashboard DIR`` (the Streamlit app) and ``cxlens report DIR --out FILE`` (offline HTML)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_commands"]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR",
                        help="the --out folder of `cxlens score` or `cxlens demo`, or a folder of canonical tables")
    parser.add_argument("--config", metavar="TOML", help="KPI settings, SLA policy, business hours")
    parser.add_argument("--monthly-cost", type=float, metavar="AMOUNT",
                        help="support operating cost per month (cost per ticket, cost as %% of revenue)")
    parser.add_argument("--cost-target", type=float, metavar="AMOUNT", help="cost-per-ticket target line")


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
    return run_dashboard(args.folder, port=args.port, open_browser=not args.no_browser, config=args.config,
                         monthly_cost=args.monthly_cost, cost_target=args.cost_target)


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
    from cxlens.config import load_config
    from cxlens.pipelines.dashboard import DashboardFilters, DashboardSettings
    from cxlens.pipelines.dashboard import write_report

    filters = DashboardFilters(start=_date(args.start, "--start"), end=_date(args.end, "--end"),
                               channels=tuple(args.channel), teams=tuple(args.team), agents=tuple(args.agent))
    settings = DashboardSettings(config=load_config(args.config), monthly_cost=args.monthly_cost,
                                 cost_per_ticket_target=args.cost_target)
    path = write_report(args.folder, args.out, filters=filters, settings=settings)
    sys.stderr.write(f"cxlens: wrote {path} ({path.stat().st_size / 1e6:.1f} MB)\n")
    return 0
