"""The Streamlit dashboard: ``cxlens dashboard DIR`` runs ``streamlit run <this file> -- DIR``.

A thin layer: sidebar widgets (page, period, channel, team, agent, support cost) and rendering of
the :class:`~cxlens.pipelines.dashboard._data.Page` objects that
:mod:`cxlens.pipelines.dashboard._pages` computes. Every chart has the rows behind it (pick a bar
or month) and CSV downloads.

The folder comes from ``CXLENS_DASHBOARD_DIR`` or the first script argument; the optional KPI
settings file, monthly support cost and cost-per-ticket target from ``CXLENS_DASHBOARD_CONFIG``,
``CXLENS_MONTHLY_COST`` and ``CXLENS_COST_TARGET`` (the CLI sets them). Streamlit is imported
inside :func:`main`, so importing this module stays light.
"""

from __future__ import annotations

import html
import importlib.util
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["BROWSER_ARGS", "ENV_CONFIG", "PAGE_DRAWN_JS", "ENV_COST", "ENV_DIR", "ENV_TARGET", "main", "run_dashboard", "source_folder",
           "streamlit_command", "streamlit_env"]

ENV_DIR = "CXLENS_DASHBOARD_DIR"
ENV_CONFIG = "CXLENS_DASHBOARD_CONFIG"
ENV_COST = "CXLENS_MONTHLY_COST"
ENV_TARGET = "CXLENS_COST_TARGET"
ENV_REDACT = "CXLENS_DASHBOARD_REDACT"
MAX_ROWS = 5000
SMALL_TABLE = 20
PICK = "(pick a value)"
FOOTER = "cxlens dashboard: page shown"
#: Chromium flags for headless runs of the app here (no GPU, no sandbox as root, no calls home)
BROWSER_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync")
#: For a browser driver's wait_for_function, with arg ``[title, min_charts]``: true once the page
#: shows ``title``, the script run is over (the footer is there, nothing is stale), and Vega drew
#: every chart, of which there are at least ``min_charts``.
PAGE_DRAWN_JS = """([title, minCharts]) => {
    const titles = Array.from(document.querySelectorAll('h1')).map(e => e.innerText.trim());
    const charts = document.querySelectorAll('[data-testid="stVegaLiteChart"]').length;
    const drawn = document.querySelectorAll(
        '[data-testid="stVegaLiteChart"] svg.marks, [data-testid="stVegaLiteChart"] canvas.marks').length;
    const done = document.body.innerText.includes('%s');
    return titles.includes(title) && done && !document.querySelector('[data-stale="true"]')
        && charts >= minCharts && charts === drawn;
}""" % FOOTER
ALL = "(all)"


def source_folder(argv: list[str] | None = None) -> str | None:
    """The folder to show: ``$CXLENS_DASHBOARD_DIR``, else the first script argument."""
    argv = sys.argv[1:] if argv is None else argv
    return os.environ.get(ENV_DIR) or (argv[0] if argv else None)


def streamlit_command(folder: str | Path, *, port: int = 8501, open_browser: bool = True,
                      address: str = "localhost") -> list[str]:
    """``python -m streamlit run <this file> ... -- DIR`` on ``address:port``, no usage statistics sent.

    ``open_browser=False`` runs headless (Streamlit opens no browser tab).
    """
    return [sys.executable, "-m", "streamlit", "run", str(Path(__file__).resolve()),
            "--server.headless", "false" if open_browser else "true", "--server.address", address,
            "--server.port", str(port), "--browser.serverAddress", address, "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal", "--", str(folder)]


def streamlit_env(folder: str | Path, *, config: str | Path | None = None, monthly_cost: float | None = None,
                  cost_target: float | None = None, redact: bool = False) -> dict[str, str]:
    """The environment for the app process: the folder and the optional settings."""
    env = dict(os.environ)
    env[ENV_DIR] = str(Path(folder).resolve())
    env[ENV_REDACT] = "1" if redact else ""
    for name, value in ((ENV_CONFIG, config), (ENV_COST, monthly_cost), (ENV_TARGET, cost_target)):
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(Path(value).resolve()) if name == ENV_CONFIG else str(value)
    return env


def run_dashboard(folder: str | Path, *, port: int = 8501, open_browser: bool = True, config: str | Path | None = None,
                  monthly_cost: float | None = None, cost_target: float | None = None, redact: bool = False) -> int:
    """Serve the dashboard on localhost until interrupted; returns Streamlit's exit code.

    With ``redact``, the app replaces personal data as it reads the archive (``read_scored(redact=True)``).
    """
    from cxlens.errors import DataError, MissingDependencyError

    if importlib.util.find_spec("streamlit") is None:
        raise MissingDependencyError(package="streamlit", feature="The dashboard", extra="dashboard")
    if not Path(folder).is_dir():
        raise DataError(f"{folder} is not a folder: give the output folder of a scoring run, or a folder of "
                        f"canonical tables such as examples/archive.")
    command = streamlit_command(folder, port=port, open_browser=open_browser)
    env = streamlit_env(folder, config=config, monthly_cost=monthly_cost, cost_target=cost_target, redact=redact)
    return subprocess.run(command, env=env, check=False).returncode


def _number(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    return float(value) if value else None


def _settings(config_path: str | None, monthly_cost: float | None, target: float | None):
    from cxlens.config import load_config
    from cxlens.pipelines.dashboard._data import DashboardSettings

    return DashboardSettings(config=load_config(config_path), monthly_cost=monthly_cost,
                             cost_per_ticket_target=target)


def _plot_frame(chart) -> pd.DataFrame:
    frame = pd.DataFrame({"x": chart.data[chart.x].astype(str), "y": pd.to_numeric(chart.data[chart.y],
                                                                                   errors="coerce")})
    if chart.series:
        frame["series"] = chart.data[chart.series].astype(str).to_numpy()
    return frame


def _vega_spec(chart, frame: pd.DataFrame) -> dict[str, Any]:
    """A Vega-Lite spec for the chart (a plain dict: no altair import, no schema validation per rerun)."""
    from cxlens.pipelines.dashboard._data import SEMANTIC_COLOURS

    many = frame["x"].nunique() > 12 or frame["x"].str.len().max() > 14
    x = {"field": "x", "type": "nominal", "sort": None, "title": chart.x,
         "axis": {"labelAngle": -40 if many else 0, "labelLimit": 160}}
    encoding: dict[str, Any] = {
        "x": x, "y": {"field": "y", "type": "quantitative", "title": chart.y},
        "tooltip": [{"field": "x", "type": "nominal", "title": chart.x},
                    {"field": "y", "type": "quantitative", "title": chart.y, "format": ",.2f"}]}
    if chart.series:
        encoding["color"] = {"field": "series", "type": "nominal", "title": chart.series}
        names = [str(v) for v in pd.unique(frame["series"])]
        if names and all(n in SEMANTIC_COLOURS for n in names):
            encoding["color"]["scale"] = {"domain": names, "range": [SEMANTIC_COLOURS[n] for n in names]}
        encoding["tooltip"].append({"field": "series", "type": "nominal", "title": chart.series})
        if chart.kind != "line":
            encoding["xOffset"] = {"field": "series", "type": "nominal"}
    mark = {"type": "line", "point": True} if chart.kind == "line" else {"type": "bar"}
    spec: dict[str, Any] = {"height": 300, "mark": mark, "encoding": encoding}
    if chart.target is not None:
        rule = {"mark": {"type": "rule", "color": "red", "strokeDash": [6, 4]},
                "encoding": {"y": {"datum": float(chart.target)}}}
        spec = {"height": 300, "layer": [{"mark": mark, "encoding": encoding}, rule]}
    return spec


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame Streamlit can show: list cells joined, at most MAX_ROWS rows."""
    out = frame.head(MAX_ROWS).copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list) else v)
    return out


def _render_chart(st, page, chart) -> None:
    st.subheader(chart.title)
    if chart.kind == "table" and len(chart.data) <= SMALL_TABLE:
        table = _display(chart.data).set_index(chart.data.columns[0])
        st.table(table.style.format(precision=2, na_rep="", thousands=","))  # static: no grid to load
    elif chart.kind == "table":
        st.dataframe(_display(chart.data), hide_index=True)
    elif len(chart.data):
        frame = _plot_frame(chart)
        st.vega_lite_chart(frame, _vega_spec(chart, frame), width="stretch")
    if chart.note:
        st.caption(chart.note)
    base = f"{page.key}-{chart.key}"
    with st.expander(f"Rows behind: {chart.title}"):
        options = [PICK, ALL] + [str(v) for v in chart.categories()]
        picked = st.selectbox(f"Show the rows behind ({chart.drill or chart.x})", options, key=f"{base}-drill")
        series = None
        if chart.series and chart.rows is not None and chart.series in chart.rows:
            choices = [ALL] + sorted(str(v) for v in chart.rows[chart.series].dropna().unique())
            series = st.selectbox(f"and {chart.series}", choices, key=f"{base}-series")
            series = None if series == ALL else series
        rows = chart.rows_for(None if picked in (PICK, ALL) else picked, series)
        if picked == PICK:
            st.caption(f"{len(rows):,} rows behind this chart: pick a value above to see them.")
        else:
            st.caption(f"{len(rows):,} rows" + (f" (showing the first {MAX_ROWS:,})" if len(rows) > MAX_ROWS else ""))
            st.dataframe(_display(rows), hide_index=True, key=f"{base}-rows")
        left, right = st.columns(2)
        left.download_button("Download these rows (CSV)", _csv(rows), file_name=f"{base}-rows.csv",
                             mime="text/csv", key=f"{base}-csv")
        right.download_button("Download the chart data (CSV)", _csv(chart.data), file_name=f"{base}.csv",
                              mime="text/csv", key=f"{base}-data-csv")


def _csv(frame: pd.DataFrame):
    """The CSV text (formula-safe), made only when the button is clicked (Streamlit calls it then)."""
    from cxlens._csv_safety import write_csv

    return lambda: write_csv(frame)


def _render_conversation(st, conversation: pd.DataFrame) -> None:
    from cxlens.pipelines.dashboard._ai_pages import highlight_evidence

    if not len(conversation):
        st.info("No messages for this conversation.")
        return
    parts = []
    for row in conversation.itertuples(index=False):
        label = getattr(row, "found_by", "") or row.steps  # step: what found it, score
        steps = f" <small>[{html.escape(label)}]</small>" if label else ""
        text = highlight_evidence(row.text, row.evidence)
        parts.append(f"<p><b>{row.position}. {html.escape(str(row.author_role))}</b>{steps}: {text}</p>")
    st.markdown("\n".join(parts), unsafe_allow_html=True)


def main() -> None:
    import streamlit as st

    from cxlens.errors import CxlensError
    from cxlens.pipelines.dashboard._ai_pages import conversation_with_evidence
    from cxlens.pipelines.dashboard._data import DashboardFilters, filter_choices, filtered_archive
    from cxlens.pipelines.dashboard._pages import dashboard_page, page_titles
    from cxlens.pipelines.score import read_scored

    began = time.perf_counter()
    st.set_page_config(page_title="cxlens dashboard", layout="wide")
    folder = source_folder()
    if not folder:
        st.error("No folder given: run `cxlens dashboard DIR` (DIR = a `cxlens score` output or examples/archive).")
        return

    # cache_resource: the archive and the pages are shared read-only objects (nothing here mutates
    # them), so they are not pickled on every rerun as st.cache_data would.
    @st.cache_resource(show_spinner="Reading the archive...", max_entries=4)
    def load(path: str):
        return read_scored(path, redact=os.environ.get(ENV_REDACT) == "1")

    @st.cache_resource(show_spinner="Computing the page...", max_entries=64)
    def page_for(path: str, key: str, filters: DashboardFilters, config_path: str | None, cost: float | None,
                 target: float | None):
        return dashboard_page(key, load(path), filters=filters, settings=_settings(config_path, cost, target))

    @st.cache_data
    def conversation(path: str, filters: DashboardFilters, ticket_id: str) -> pd.DataFrame:
        return conversation_with_evidence(filtered_archive(load(path), filters).data, ticket_id)

    try:
        archive = load(folder)
    except CxlensError as exc:
        st.error(str(exc))
        return
    choices = filter_choices(archive)
    titles = page_titles()
    side = st.sidebar
    side.title("cxlens")
    side.caption(f"{folder} ({'scored' if archive.scored else 'raw tables: AI pages need `cxlens score`'})")
    title = side.radio("Page", list(titles.values()), key="page")
    key = next(k for k, v in titles.items() if v == title)
    start, end = choices["start"], choices["end"]
    if start is not None:
        period = side.date_input("Period", value=(start, end), min_value=start, max_value=end, key="period")
        if isinstance(period, (tuple, list)) and len(period) == 2:
            start, end = period
        elif isinstance(period, date):
            start = end = period
    filters = DashboardFilters(
        start=start, end=end,
        channels=tuple(side.multiselect("Channel", choices["channels"], key="channels")),
        teams=tuple(side.multiselect("Team", choices["teams"], key="teams")),
        agents=tuple(side.multiselect("Agent", choices["agents"], key="agents")))
    cost = side.number_input("Monthly support cost", min_value=0.0, value=_number(ENV_COST), key="cost",
                             placeholder="not set", help="Support operating cost per month: cost per ticket, "
                                                         "cost as % of revenue.")
    target = side.number_input("Cost-per-ticket target", min_value=0.0, value=_number(ENV_TARGET), key="target",
                               placeholder="not set")
    page = page_for(folder, key, filters, os.environ.get(ENV_CONFIG) or None, cost, target)

    st.title(page.title)
    st.caption(page.summary)
    for start_at in range(0, len(page.metrics), 4):
        columns = st.columns(4)
        for column, metric in zip(columns, page.metrics[start_at:start_at + 4]):
            column.metric(metric.label, metric.text, help=(metric.note or None)
                          if metric.value is not None else f"n/a: {metric.note}")
    for note in page.notes:
        (st.warning if "cxlens score" in note else st.info)(note)
    for chart in page.charts:
        _render_chart(st, page, chart)
    if page.key == "quality" and any(c.key == "lowest_conversations" for c in page.charts):
        st.subheader("Read a conversation")
        scored = page.chart("lowest_conversations").data
        if any(c.key == "adherence_by_agent" for c in page.charts):
            scored = page.chart("adherence_by_agent").rows.sort_values("script_adherence", kind="stable")
        ticket = st.selectbox("Conversation (lowest adherence first; the evidence for each step is marked)",
                              scored["ticket_id"].astype(str).tolist(), key="quality-conversation")
        if ticket:
            _render_conversation(st, conversation(folder, filters, ticket))
    st.divider()
    st.caption(f"{FOOTER} in {time.perf_counter() - began:.2f} s from {folder}")


if __name__ == "__main__":
    main()
