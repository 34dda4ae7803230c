"""The wheel holds every package and every shipped file: each folder with an ``__init__.py`` under the package
folders is listed in pyproject's ``packages``, and its package-data globs cover every file that is not Python
(models, scorecards, the example archive). Building and installing the wheel itself is `.ci/run`'s step."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOTS = ("cxlens", "nlp", "pipelines", "metrics", "models")


@pytest.fixture(scope="module")
def setuptools_config(repo_root) -> dict:
    return tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _folder_of(package: str, package_dir: dict[str, str]) -> Path:
    """The source folder of ``package`` by pyproject's package-dir (the longest mapped prefix)."""
    parts = package.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in package_dir:
            return Path(package_dir[prefix], *parts[n:])
    return Path(*parts)


def _package_of(folder: Path, package_dir: dict[str, str]) -> str:
    """The import name of a source folder (inverse of :func:`_folder_of`)."""
    for name, mapped in sorted(package_dir.items(), key=lambda kv: -len(Path(kv[1]).parts)):
        try:
            rest = folder.relative_to(mapped)
        except ValueError:
            continue
        return ".".join([name, *rest.parts]) if rest.parts else name
    return ".".join(folder.parts)


def _source_files(repo_root: Path) -> list[Path]:
    files = []
    for root in ROOTS:
        for path in (repo_root / root).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append(path.relative_to(repo_root))
    return files


def test_packaging_layout_every_package_folder_is_listed(setuptools_config, repo_root):
    package_dir = setuptools_config["package-dir"]
    listed = set(setuptools_config["packages"])
    found = {_package_of(p.parent, package_dir) for p in _source_files(repo_root) if p.name == "__init__.py"}
    missing = sorted(found - listed)
    assert not missing, f"add to pyproject's [tool.setuptools] packages: {missing}"
    for package in listed:
        assert (repo_root / _folder_of(package, package_dir) / "__init__.py").is_file(), package


def test_packaging_layout_package_data_covers_the_shipped_files(setuptools_config, repo_root):
    package_dir = setuptools_config["package-dir"]
    covered: set[Path] = set()
    for package, patterns in setuptools_config.get("package-data", {}).items():
        folder = repo_root / _folder_of(package, package_dir)
        for pattern in patterns:
            covered.update(p.relative_to(repo_root) for p in folder.glob(pattern) if p.is_file())
    shipped = [p for p in _source_files(repo_root) if p.suffix != ".py"]
    assert Path("cxlens/data/example_archive/tickets.csv") in shipped
    assert Path("cxlens/data/scorecards/general_support.yaml") in shipped
    assert any(p.parts[:2] == ("nlp", "artifacts") for p in shipped)
    missing = sorted(str(p) for p in shipped if p not in covered)
    assert not missing, f"not in any package-data glob of pyproject (the wheel would lack them): {missing}"


def test_packaging_layout_shipped_files_are_found_through_the_package(repo_root):
    """The code finds shipped files through importlib.resources, not through the repository's layout."""
    from cxlens.example_data import EXAMPLE_TABLES, example_archive_path
    from cxlens.nlp.qa import get_scorecard_names

    archive = example_archive_path()
    assert all((archive / f"{t}.csv").is_file() for t in EXAMPLE_TABLES)
    assert "general_support" in get_scorecard_names()


def test_packaging_layout_one_copy_of_the_example_archive(repo_root):
    """examples/archive is a link to the shipped copy, not a second 2 MB of CSV."""
    link = repo_root / "examples" / "archive"
    if link.exists():
        assert link.is_symlink() and link.resolve() == (repo_root / "cxlens" / "data" / "example_archive").resolve()
    big = [p for p in (repo_root / "examples").rglob("*.csv") if not p.parent.is_symlink()]
    assert not big, f"a second copy of example data: {big}"


def test_packaging_layout_copy_of_the_bundled_archive(tmp_path, capsys):
    from cxlens.cli import main
    from cxlens.example_data import example_archive_path

    assert main(["example-data", "--bundled", "--out", str(tmp_path / "mine")]) == 0
    for name in ("tickets", "messages", "accounts", "surveys", "mentions"):
        assert (tmp_path / "mine" / f"{name}.csv").read_bytes() == (example_archive_path() / f"{name}.csv").read_bytes()
    assert "wrote tickets" in capsys.readouterr().err
    assert main(["example-data", "--bundled", "--tickets", "10", "--out", str(tmp_path / "x")]) == 2
    assert "drop --tickets" in capsys.readouterr().err
