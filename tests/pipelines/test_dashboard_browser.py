"""End to end: `streamlit run` the dashboard, click through every page in headless Chromium, and
open the offline report from a file:// URL with every network request refused.

Uses Debian's /usr/bin/chromium through the Playwright Python package (no browser download);
skips with the reason when either is missing. Screenshots go to tmp_path.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from cxlens.pipelines.dashboard import BROWSER_ARGS, PAGE_DRAWN_JS, streamlit_command, streamlit_env
from cxlens.pipelines.dashboard import PAGES

CHROMIUM = Path("/usr/bin/chromium")
def _needs_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium (no browser is downloaded by the tests)")
    pytest.importorskip("playwright.sync_api",
                        reason="the playwright package is not installed (pip install playwright)")
    pytest.importorskip("streamlit", reason="streamlit is not installed (pip install -e '.[dashboard]')")


@pytest.fixture(scope="module")
def score_dir(dashboard_score_dir) -> Path:
    return dashboard_score_dir


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"streamlit exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"streamlit did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def dashboard_url(score_dir, tmp_path_factory):
    _needs_browser()
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    command = streamlit_command(score_dir, port=port, open_browser=False, address="127.0.0.1")
    env = streamlit_env(score_dir, monthly_cost=40000, cost_target=200)
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _needs_browser()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=list(BROWSER_ARGS),
            viewport={"width": 1400, "height": 2000})
        try:
            yield context
        finally:
            context.close()


def _settled(page, title: str) -> None:
    """Wait until the page shows ``title``, the script run is over (the app's footer is there, nothing is
    stale) and Vega drew every chart (each fixture page has at least one)."""
    page.wait_for_function(PAGE_DRAWN_JS, arg=[title, 1], timeout=60_000)


def test_dashboard_browser_clicks_through_every_page(dashboard_url, browser, dashboard_fixture, tmp_path):
    page = browser.new_page()
    page.goto(dashboard_url, wait_until="domcontentloaded")
    _settled(page, PAGES[0][1])
    sidebar = page.locator('[data-testid="stSidebar"]')
    for key, title, _ in PAGES:
        sidebar.get_by_text(title, exact=True).click()
        _settled(page, title)
        shot = tmp_path / f"dashboard-{key}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert page.locator('[data-testid="stException"]').count() == 0, f"{title}: Streamlit shows an exception"
        assert page.locator('[data-testid="stMetric"]').count() > 0, f"{title}: no metrics shown"
        assert page.locator('[data-testid="stVegaLiteChart"]').count() > 0, f"{title}: no charts shown"
        if key == "top_topics":
            _check_topics_page(page, dashboard_fixture, tmp_path)
    page.close()


def _check_topics_page(page, fixture, tmp_path: Path) -> None:
    """The topics page shows both levels, the per-topic KPI tables and the emerging-topic alert with samples."""
    for heading in ("KPIs per top-level topic", "KPIs per subtopic", "Emerging-topic alerts"):
        assert page.get_by_role("heading", name=heading).count() == 1, heading
    page.get_by_role("heading", name="Emerging-topic alerts").scroll_into_view_if_needed()
    shot = tmp_path / "dashboard-top_topics-alerts.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    text = page.locator("section.main, [data-testid='stMain']").first.inner_text()
    for name in list(fixture.PARENTS) + [fixture.SPIKE["topic"], fixture.SPIKE["texts"][0], "CSAT coverage %"]:
        assert name in text, name


def test_report_opens_offline_in_chromium(score_dir, browser, dashboard_fixture, tmp_path, tmp_path_factory):
    out = dashboard_fixture.write_fixture_report(score_dir, tmp_path_factory.getbasetemp() / "dashboard-report.html")
    requested: list[str] = []
    page = browser.new_page()

    def refuse(route):
        requested.append(route.request.url)
        route.abort()

    page.route("http*://**/*", refuse)
    page.goto(out.as_uri(), wait_until="load")
    for _, title, _ in PAGES:
        assert page.locator("h2").filter(has_text=title).count() == 1, title
    images = page.locator("img.chart")
    assert images.count() > 10
    assert page.evaluate("() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    for key in ("topic_kpis_top", "topic_kpis", "topic_alerts"):
        heading = page.locator(f'[id="top_topics-{key}"]')
        assert heading.count() == 1, key
        heading.scroll_into_view_if_needed()
        assert heading.is_visible(), key
    page.goto(out.as_uri() + "#top_topics-topic_alerts", wait_until="load")
    page.screenshot(path=str(tmp_path / "report-topic-alerts.png"), full_page=False)
    assert (tmp_path / "report-topic-alerts.png").stat().st_size > 10_000
    assert requested == [], f"the report asked the network for {requested}"
    page.close()

