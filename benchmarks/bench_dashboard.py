"""Benchmark: how long the dashboard takes to show the example archive, and the offline report.

    python benchmarks/bench_dashboard.py                       # examples/archive
    python benchmarks/bench_dashboard.py --folder OUT/ --repeats 3

Phases, each timed in this one run on this machine:
  read        cxlens.pipelines.score._output.read_scored (validation included for raw tables)
  first page  the Team service page computed from the read archive (no Streamlit)
  app, cold   `streamlit run` started -> first page fully drawn in headless Chromium (title, every
              chart drawn by Vega, the app's footer shown): what a user waits for after
              `cxlens dashboard DIR`, server start included
  app script  the app's own time for that first run (its footer: read + page + render calls)
  page switch clicking to each other page -> that page fully drawn (first visit, nothing cached)
  reopen      a new browser tab on the running server -> first page fully drawn (archive cached)
  report      cxlens.pipelines.dashboard._report_html.write_report (all seven pages, matplotlib charts)
Uses Debian's /usr/bin/chromium through Playwright (no browser download).
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _app_run(folder: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    from cxlens.pipelines.dashboard import BROWSER_ARGS, PAGE_DRAWN_JS, streamlit_command, streamlit_env
    from cxlens.pipelines.dashboard import PAGES

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path="/usr/bin/chromium", headless=True, args=list(BROWSER_ARGS),
            viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto("about:blank")
        began = time.perf_counter()
        server = subprocess.Popen(streamlit_command(folder, port=port, open_browser=False, address="127.0.0.1"),
                                  env=streamlit_env(folder), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.05)
            times["server up"] = time.perf_counter() - began
            page.goto(url)
            page.wait_for_function(PAGE_DRAWN_JS, arg=[PAGES[0][1], 0], timeout=120_000)
            times["app, cold"] = time.perf_counter() - began
            footer = re.search(r"page shown in ([0-9.]+) s", page.inner_text("body"))
            times["app script"] = float(footer.group(1)) if footer else float("nan")
            switches = []
            for _, title, _ in PAGES[1:]:
                start = time.perf_counter()
                page.locator('[data-testid="stSidebar"]').get_by_text(title, exact=True).click()
                page.wait_for_function(PAGE_DRAWN_JS, arg=[title, 0], timeout=120_000)
                switches.append(time.perf_counter() - start)
            times["page switch (median)"] = statistics.median(switches)
            times["page switch (max)"] = max(switches)
            fresh = context.new_page()
            start = time.perf_counter()
            fresh.goto(url)
            fresh.wait_for_function(PAGE_DRAWN_JS, arg=[PAGES[0][1], 0], timeout=120_000)
            times["reopen (server up)"] = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=10)
            context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=REPO / "examples" / "archive")
    parser.add_argument("--repeats", type=int, default=1, help="app runs (each starts a fresh server)")
    args = parser.parse_args()

    from cxlens.pipelines.dashboard import dashboard_page
    from cxlens.pipelines.dashboard import write_report
    from cxlens.pipelines.score import read_scored

    start = time.perf_counter()
    archive = read_scored(args.folder)
    t_read = time.perf_counter() - start
    start = time.perf_counter()
    dashboard_page("team_service", archive)
    t_page = time.perf_counter() - start
    runs = [_app_run(args.folder) for _ in range(args.repeats)]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        path = write_report(args.folder, Path(out) / "report.html")
        t_report = time.perf_counter() - start
        size = path.stat().st_size / 1e6
    print(f"folder: {args.folder}")
    print(f"{'phase':<22}{'seconds':>10}")
    print(f"{'read':<22}{t_read:>10.2f}")
    print(f"{'first page':<22}{t_page:>10.2f}")
    for name in runs[0]:
        values = [run[name] for run in runs]
        print(f"{name:<22}{statistics.median(values):>10.2f}" + (f"   (runs: {', '.join(f'{v:.2f}' for v in values)})"
                                                                 if len(values) > 1 else ""))
    print(f"{'report':<22}{t_report:>10.2f}   ({size:.1f} MB)")


if __name__ == "__main__":
    main()
