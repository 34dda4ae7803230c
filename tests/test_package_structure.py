"""Structural checks: one import package, a fast import, tests mirror the package."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

SUBPACKAGES = ("nlp", "metrics", "pipelines", "models")


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_package_structure_no_top_level_module_is_installed(name, repo_root):
    """``nlp``, ``metrics``... must only exist as ``cxlens.<name>``, never as top-level modules."""
    code = f"import importlib.util, sys; sys.path[:] = [p for p in sys.path if p not in ('', {str(repo_root)!r})]; " \
           f"print(importlib.util.find_spec({name!r}) is None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True)
    assert out.stdout.strip() == "True", f"a top-level module {name!r} is importable"
    assert importlib.util.find_spec(f"cxlens.{name}") is not None


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_package_structure_tests_mirror_subpackages(name, repo_root):
    assert (repo_root / "tests" / name).is_dir()


def test_package_structure_import_is_light():
    """``import cxlens`` and building the CLI parser never import heavy libraries."""
    code = ("import sys, cxlens, cxlens.cli; cxlens.cli.build_parser(); "
            "heavy = [m for m in ('torch', 'transformers', 'mlflow', 'onnxruntime', 'spacy', 'pyspark', "
            "'streamlit', 'sklearn', 'pandas') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_package_structure_cli_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "cxlens", "--help"], capture_output=True, text=True, check=True)
    for command in ("kpis", "validate", "demo", "example-data", "train"):
        assert command in out.stdout
