"""The public Python API: ``cxlens.__all__`` is locked, every name resolves lazily, and ``import cxlens``
stays light (no pandas, scikit-learn or torch until a name is used)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import cxlens

# Adding or removing a public name is a decision: change this list with it (and the README's Python section).
EXPECTED = [
    "BusinessHours",
    "ConfigError",
    "CxlensError",
    "DataError",
    "HealthConfig",
    "KPIConfig",
    "MissingDependencyError",
    "SLAPolicy",
    "ScoreConfig",
    "SentimentClassifier",
    "TaxonomyClassifier",
    "TextClassifier",
    "TextPipeline",
    "Texts",
    "TopicModel",
    "UnknownNameError",
    "ValueRules",
    "__version__",
    "at_risk_review",
    "compute_kpis",
    "emerging_topics",
    "explain_kpi",
    "get_kpi",
    "get_kpi_names",
    "load_config",
    "load_dataset",
    "load_request_type_model",
    "load_scorecard",
    "load_sentiment_model",
    "load_taxonomy",
    "read_scored",
    "read_twcs",
    "score",
    "score_sentiment",
    "topic_trends",
    "train_churn",
]


def test_public_api_all_is_the_expected_sorted_list():
    assert cxlens.__all__ == EXPECTED
    assert cxlens.__all__ == sorted(cxlens.__all__)


def test_public_api_import_is_light_and_lazy():
    code = ("import sys, cxlens; "
            "heavy = [m for m in ('pandas', 'sklearn', 'torch', 'numpy', 'cxlens.metrics', 'cxlens.pipelines') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_from_import_works_in_a_fresh_interpreter():
    code = "from cxlens import ScoreConfig, compute_kpis, ConfigError; print(ScoreConfig.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ScoreConfig"


@pytest.mark.parametrize("name", [n for n in EXPECTED if n != "__version__"])
def test_public_api_every_name_resolves(name):
    value = getattr(cxlens, name)
    assert value is not None
    assert callable(value), f"cxlens.{name} is not a class or function"
    assert value.__doc__, f"cxlens.{name} has no docstring"


def test_public_api_dir_lists_every_public_name():
    assert set(cxlens.__all__) <= set(dir(cxlens))


def test_public_api_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'kpi_tables'"):
        cxlens.kpi_tables  # noqa: B018 - internal: cxlens.pipelines.kpi_report
    assert not hasattr(cxlens, "run_score")


def test_public_api_errors_are_the_hierarchy_users_catch():
    from cxlens import errors

    for name in ("ConfigError", "DataError", "MissingDependencyError", "UnknownNameError"):
        assert issubclass(getattr(cxlens, name), cxlens.CxlensError)
        assert getattr(cxlens, name) is getattr(errors, name)
    assert issubclass(errors.InvalidConfigError, cxlens.ConfigError)


def test_public_api_compute_kpis_takes_a_dataset_a_dict_or_a_scored_archive(repo_root):
    archive = repo_root / "examples" / "archive"
    dataset = cxlens.load_dataset(tickets=archive / "tickets.csv", messages=archive / "messages.csv")
    report = cxlens.compute_kpis(dataset, by=["channel"], period="month")
    assert report.kpis["ticket_volume"] == len(dataset.tickets)
    assert report.groups and {"channel", "period"} <= set(report.to_frame().columns)
    assert report.skipped["churn_rate"] == ["accounts.churned_at"]  # no accounts given: skipped, with its needs
    email = dataset.tickets[dataset.tickets["channel"] == "email"]
    assert cxlens.compute_kpis({"tickets": email}, names=["ticket_volume"]).kpis == {"ticket_volume": len(email)}
    raw = cxlens.read_scored(archive, tables=["tickets", "messages"])
    assert cxlens.compute_kpis(raw, names=["ticket_volume"]).kpis["ticket_volume"] == len(dataset.tickets)
    measure, rows = cxlens.explain_kpi("ticket_volume", dataset)
    assert measure.value == len(rows) == len(dataset.tickets)
    with pytest.raises(cxlens.DataError, match="Unknown table"):
        cxlens.compute_kpis({"ticket": email})


def test_public_api_kpi_config_may_be_a_toml_path(repo_root, tmp_path):
    archive = repo_root / "examples" / "archive"
    dataset = cxlens.load_dataset(tickets=archive / "tickets.csv")
    policy = tmp_path / "policy.toml"
    policy.write_text("[kpi]\nbacklog_age_s = 1\n", encoding="utf-8")
    assert cxlens.load_config(policy).backlog_age_s == 1
    one = cxlens.compute_kpis(dataset, names=["backlog_aged"], config=policy).kpis["backlog_aged"]
    default = cxlens.compute_kpis(dataset, names=["backlog_aged"]).kpis["backlog_aged"]
    assert one >= default


def test_public_api_account_jobs_name_the_missing_accounts_table(repo_root):
    archive = repo_root / "examples" / "archive"
    dataset = cxlens.load_dataset(tickets=archive / "tickets.csv")
    with pytest.raises(cxlens.DataError, match=r"accounts=") as info:
        cxlens.at_risk_review(dataset)
    assert "--accounts" not in str(info.value)


def _python_blocks(repo_root):
    import re

    pages = [repo_root / "README.md", *sorted((repo_root / "docs").rglob("*.md"))]
    for page in pages:
        for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
            yield page.relative_to(repo_root), block


def test_public_api_readme_and_docs_snippets_import_only_cxlens(repo_root):
    import ast

    blocks = list(_python_blocks(repo_root))
    assert any(str(page) == "README.md" for page, _ in blocks), "README.md has no Python section"
    bad = []
    for page, block in blocks:
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Import):
                bad += [f"{page}: import {a.name}" for a in node.names if a.name.startswith("cxlens.")]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "cxlens":
                if node.module != "cxlens" or any(a.name not in cxlens.__all__ for a in node.names):
                    bad.append(f"{page}: from {node.module} import {', '.join(a.name for a in node.names)}")
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "cxlens"
                  and node.attr not in cxlens.__all__):
                bad.append(f"{page}: cxlens.{node.attr}")
    assert not bad, f"snippets reach past the public API: {bad}"
