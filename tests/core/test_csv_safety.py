"""CSV/formula injection: no CSV or TSV that cxlens writes has a text cell a spreadsheet would run.

Unit tests of :mod:`cxlens._csv_safety`; end-to-end tests that push a malicious cell through the writers (at-risk
CSV, the report's CSV download, ``cxlens kpis`` CSV, ``print_table``, the dashboard download); and a scan of the
source (``ast``) that fails on any ``.to_csv(`` or ``csv.writer(`` outside ``cxlens/_csv_safety.py``.
"""

from __future__ import annotations

import ast
import base64
import csv
import io
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlens._csv_safety import TRIGGERS, neutralise_formulas, safe_cell, write_csv, write_rows

REPO = Path(__file__).resolve().parents[2]
EVIL = ['=HYPERLINK("http://evil.example","click")', "=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1)",
        "\t=1+2", "\r=1+2", "ok\r=1+2", "ok\n@SUM(A1)"]  # a CR or LF inside a cell must not start a row

# Files (or folders, ending in /) that still call to_csv / csv.writer themselves, each with why. The lead wires
# them through write_csv and removes the entries (the test fails once an entry has nothing left to allow).
ALLOWED_WRITERS: dict[str, str] = {}


def _formula_cells(text: str, *, sep: str = ",") -> list[str]:
    """Cells of a CSV/TSV text a spreadsheet would read as a formula (a plain number is not one); a CR
    outside quotes ends a row, as in a spreadsheet."""
    found = []
    for row in csv.reader(io.StringIO(text, newline=None), delimiter=sep):
        for cell in row:
            if cell[:1] in TRIGGERS and not re.fullmatch(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", cell):
                found.append(cell)
    return found


def _evil_frame() -> pd.DataFrame:
    n = len(EVIL)
    return pd.DataFrame({"id": [f"T{i}" for i in range(n)], "subject": EVIL, "score": np.linspace(-1.5, 1.5, n),
                         "count": np.arange(-3, n - 3), "flag": [True, False] * (n // 2) + [True] * (n % 2)})


# ------------------------------------------------------------------------------------------- unit tests


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_csv_safety_every_trigger_is_quoted(trigger):
    frame = pd.DataFrame({"text": [f"{trigger}1+2", f"x{trigger}", "plain"]})
    assert neutralise_formulas(frame)["text"].tolist() == [f"'{trigger}1+2", f"x{trigger}", "plain"]
    assert safe_cell(f"{trigger}1+2") == f"'{trigger}1+2"


@pytest.mark.parametrize("dtype", [object, "string", "category", "str"])
def test_csv_safety_every_text_dtype(dtype):
    frame = pd.DataFrame({"text": pd.Series(["=1+2", "ok", None], dtype=dtype)})
    out = neutralise_formulas(frame)["text"]
    assert out.iloc[0] == "'=1+2" and out.iloc[1] == "ok" and pd.isna(out.iloc[2])


def test_csv_safety_numbers_bools_dates_and_missing_untouched():
    frame = pd.DataFrame({"f": [-1.5, np.nan], "i": [-3, 4], "n": pd.array([-1, None], dtype="Int64"),
                          "b": [True, False], "t": pd.to_datetime(["2025-01-01", None], utc=True),
                          "s": ["-1.5", np.nan], "m": ["=x", 7]})
    out = neutralise_formulas(frame)
    for col in ("f", "i", "n", "b", "t"):
        pd.testing.assert_series_equal(out[col], frame[col])
    assert out["s"].iloc[0] == "'-1.5" and pd.isna(out["s"].iloc[1])  # text "-1.5" is text (OWASP)
    assert out["m"].tolist() == ["'=x", 7]  # a number in a mixed column stays a number
    assert safe_cell(-1.5) == "-1.5" and safe_cell(np.int64(-2)) == "-2" and safe_cell(True) == "True"
    assert safe_cell(None) == "" and safe_cell(np.nan) == "" and safe_cell(pd.NA) == "" and safe_cell(pd.NaT) == ""


def test_csv_safety_already_quoted_stays_safe_and_idempotent():
    frame = pd.DataFrame({"text": ["'=x", "=x"]})
    once = neutralise_formulas(frame)
    assert once["text"].tolist() == ["'=x", "'=x"]
    pd.testing.assert_frame_equal(neutralise_formulas(once), once)
    assert safe_cell("'=x") == "'=x"


def test_csv_safety_returns_a_copy_and_never_mutates():
    frame = _evil_frame()
    before = frame.copy(deep=True)
    out = neutralise_formulas(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert out is not frame and out["subject"].iloc[0].startswith("'=")


def test_csv_safety_labels_index_and_duplicated_index():
    frame = pd.DataFrame({"=bad": ["=x", "y"], "ok": [1, 2]}, index=pd.Index(["@a", "b"], name="true"))
    text = write_csv(frame, index=True)
    assert text.splitlines()[:2] == ["true,'=bad,ok", "'@a,'=x,1"]
    dup = pd.DataFrame({"a": ["=1", "2", "+3"]}, index=[0, 0, 1])
    assert neutralise_formulas(dup)["a"].tolist() == ["'=1", "2", "'+3"]


def test_csv_safety_write_csv_targets_and_separator(tmp_path):
    frame = _evil_frame()
    path = tmp_path / "x.csv"
    assert write_csv(frame, path) is None
    text = path.read_text()
    assert not _formula_cells(text)
    back = pd.read_csv(path)
    assert back["score"].tolist() == frame["score"].tolist() and back["count"].tolist() == frame["count"].tolist()
    stream = io.StringIO()
    write_csv(frame, stream, sep="\t")
    assert not _formula_cells(stream.getvalue(), sep="\t") and stream.getvalue() == write_csv(frame, sep="\t")
    one = pd.DataFrame({"text": ["a,=1+2", 'b";=1+2']})  # a separator or quote inside a cell stays inside it
    assert list(csv.reader(io.StringIO(write_csv(one))))[1:] == [["a,=1+2"], ['b";=1+2']]


def test_csv_safety_write_rows():
    stream = io.StringIO()
    write_rows([["name", "=h"], ["=1+2", -1.5], [None, "ok"]], stream)
    assert stream.getvalue() == "name,'=h\n'=1+2,-1.5\n,ok\n"
    stream = io.StringIO()
    write_rows([["name"], ["ok\r=1+2"], ["ok\n@SUM(A1)"]], stream)  # a line break in a cell: quoted
    assert not _formula_cells(stream.getvalue())
    rows = csv.reader(io.StringIO(stream.getvalue(), newline=""))
    assert [row[0] for row in rows][1:] == ["ok\r=1+2", "ok\n@SUM(A1)"]


# -------------------------------------------------------------------------------------- end to end


def test_csv_safety_at_risk_csv(tmp_path):
    from cxlens.pipelines.accounts import AtRiskReview, write_at_risk_review

    n = len(EVIL)
    table = pd.DataFrame({"rank": range(1, n + 1), "account_id": [f"A{i}" for i in range(n)], "plan": EVIL,
                          "churn_probability": np.linspace(0.9, 0.1, n), "mrr": [100.0] * n,
                          "mrr_at_risk": [-5.0] * n, "health_score": [30.0] * n, "health_band": ["poor"] * n,
                          "health_reasons": ["-"] * n, "reason_1": EVIL[::-1], "reason_2": [""] * n,
                          "reason_3": [""] * n, "recent_problem_tickets": [""] * n,
                          "explanation_method": ["exact-linear"] * n})
    summary = {"as_of": "2025-06-01T00:00:00+00:00", "accounts_scored": n, "risk_threshold": 0.5,
               "at_risk_accounts": 1, "mrr_of_at_risk_accounts": 100.0, "expected_mrr_loss": 82.0,
               "total_mrr": 100.0 * n, "health_bands": {"good": 0, "average": 0, "poor": n},
               "explanation_method": "exact-linear", "period_days": 90.0}
    review = AtRiskReview(table=table, summary=summary, retention={}, retention_skipped={},
                          tickets=pd.DataFrame(columns=["account_id", "ticket_id", "created_at", "subject", "why"]),
                          model_info={"trained": "given", "model": "logistic"})
    paths = write_at_risk_review(review, tmp_path)
    text = paths["csv"].read_text()
    assert not _formula_cells(text), _formula_cells(text)
    assert pd.read_csv(paths["csv"])["plan"].tolist() == [safe_cell(v) for v in EVIL]


def test_csv_safety_report_csv_download():
    from cxlens.pipelines.dashboard import _report_html

    link = _report_html._csv_link(_evil_frame(), "rows.csv", "Download")
    text = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", link).group(1)).decode("utf-8")
    assert not _formula_cells(text), _formula_cells(text)
    assert "'=cmd|' /C calc'!A0" in text


def test_csv_safety_dashboard_download():
    from cxlens.pipelines.dashboard import _app

    text = _app._csv(_evil_frame())()
    assert not _formula_cells(text), _formula_cells(text)
    assert "'@SUM(A1)" in text


@pytest.mark.parametrize("fmt,sep", [("csv", ","), ("tsv", "\t")])
def test_csv_safety_print_table(fmt, sep, capsys):
    from cxlens.cli._common import print_table

    print_table(("id", "=head", "value"), [(f"T{i}", v, -1.5) for i, v in enumerate(EVIL)], fmt=fmt)
    out = capsys.readouterr().out
    assert not _formula_cells(out, sep=sep), _formula_cells(out, sep=sep)
    rows = list(csv.reader(io.StringIO(out), delimiter=sep))
    assert rows[0] == ["id", "'=head", "value"] and rows[1][1].startswith("'=HYPERLINK") and rows[1][2] == "-1.5"


def _tickets(tmp_path) -> Path:
    """An attacker's tickets file: raw formulas in a text and a category column."""
    path = tmp_path / "tickets.csv"
    pd.DataFrame({"ticket_id": ["1", "2", "3"], "created_at": ["2025-01-01T10:00:00"] * 3,
                  "resolved_at": ["2025-01-01T12:00:00", "", ""],
                  "channel": ["=cmd|' /c calc'!a0", "email", "@sum(1+1)"],
                  "subject": ['=HYPERLINK("http://evil.example","x")', "hi", "+1+2"]}).to_csv(path, index=False)
    assert len(_formula_cells(path.read_text())) == 4
    return path


@pytest.mark.parametrize("out_file", [False, True])
def test_csv_safety_kpis_compute_csv(tmp_path, capsys, out_file):
    from cxlens.cli import main

    tickets = _tickets(tmp_path)
    out = ["--out", str(tmp_path / "kpis.csv")] if out_file else []
    assert main(["kpis", "compute", "--tickets", str(tickets), "--by", "channel", "--format", "csv",
                 "--quarantine-dir", str(tmp_path / "q"), *out]) == 0
    text = (tmp_path / "kpis.csv").read_text() if out_file else capsys.readouterr().out
    assert "cmd|" in text and "sum(1+1)" in text
    assert not _formula_cells(text), _formula_cells(text)


@pytest.mark.parametrize("out_file", [False, True])
def test_csv_safety_kpis_explain_rows(tmp_path, capsys, out_file):
    from cxlens.cli import main

    tickets = _tickets(tmp_path)
    out = ["--out", str(tmp_path / "rows.csv")] if out_file else []
    assert main(["kpis", "explain", "ticket_volume", "--tickets", str(tickets),
                 "--quarantine-dir", str(tmp_path / "q"), *out]) == 0
    text = (tmp_path / "rows.csv").read_text() if out_file else capsys.readouterr().out
    assert "HYPERLINK" in text
    assert not _formula_cells(text), _formula_cells(text)


# ------------------------------------------------------------------------------------------ source scan


def _source_files() -> list[Path]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {REPO / folder for folder in config["package-dir"].values()}
    return sorted({p for folder in folders for p in folder.rglob("*.py") if "__pycache__" not in p.parts})


def _raw_writers(path: Path) -> list[int]:
    """Lines that call ``<x>.to_csv(``, ``csv.writer(`` / ``csv.DictWriter(`` or import them from csv."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if f.attr == "to_csv" or (f.attr in ("writer", "DictWriter") and isinstance(f.value, ast.Name)
                                      and f.value.id == "csv"):
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "csv" \
                and {a.name for a in node.names} & {"writer", "DictWriter"}:
            lines.append(node.lineno)
    return sorted(lines)


def _allowed(rel: str) -> str | None:
    return next((key for key in ALLOWED_WRITERS if rel == key or (key.endswith("/") and rel.startswith(key))), None)


def test_csv_safety_scan_finds_a_planted_writer(tmp_path):
    planted = tmp_path / "m.py"
    planted.write_text("import csv\nfrom csv import writer\n# frame.to_csv(p)\ns = 'x.to_csv('\n"
                       "def f(frame, out):\n    frame.to_csv(out)\n    csv.writer(out)\n")
    assert _raw_writers(planted) == [2, 6, 7]


def test_csv_safety_every_csv_goes_through_write_csv():
    found = {}
    for path in _source_files():
        rel = path.relative_to(REPO).as_posix()
        if rel != "cxlens/_csv_safety.py" and (lines := _raw_writers(path)):
            found[rel] = lines
    new = {rel: lines for rel, lines in found.items() if _allowed(rel) is None}
    assert not new, "CSV written without cxlens._csv_safety (use write_csv / write_rows / safe_cell):\n" + \
        "\n".join(f"  {rel}:{','.join(map(str, lines))}" for rel, lines in sorted(new.items()))
    fixed = {key for key in ALLOWED_WRITERS if not any(_allowed(rel) == key for rel in found)}
    assert not fixed, f"fixed, remove from ALLOWED_WRITERS: {sorted(fixed)}"
