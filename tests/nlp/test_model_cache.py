"""The user cache: listing what it holds, clearing it (by kind, by age, dry run), `cxlens cache`."""

from __future__ import annotations

import os
import time

import pytest

from cxlens.cli import main
from cxlens.errors import ConfigError, UnknownNameError
from cxlens.nlp.encoders import cache_entries, clear_cache


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("CXLENS_CACHE_DIR", str(root))
    now = time.time()
    for kind, name, size, days in (("onnx", "minilm-aaa", 3000, 10), ("encoders", "minilm-ft-bbb", 5000, 40),
                                   ("encoders", "minilm-student-ccc", 1000, 0)):
        folder = root / kind / name
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "weights.bin").write_bytes(b"x" * size)
        for path in (folder / "sub" / "weights.bin", folder / "sub", folder):
            os.utime(path, (now - days * 86400, now - days * 86400))
    (root / "onnx" / "stray-file.txt").write_text("not an item")
    return root


def test_entries_are_listed_largest_first_with_size_and_age(cache):
    entries = cache_entries()
    assert [(e.kind, e.path.name, e.size_bytes) for e in entries] == [
        ("encoders", "minilm-ft-bbb", 5000), ("onnx", "minilm-aaa", 3000), ("encoders", "minilm-student-ccc", 1000)]
    assert [round(e.age_days) for e in entries] == [40, 10, 0]
    assert [e.path.name for e in cache_entries(kinds=("onnx",))] == ["minilm-aaa"]


def test_clear_by_age_and_kind_and_dry_run(cache):
    planned = clear_cache(older_than_days=5, dry_run=True)
    assert {e.path.name for e in planned} == {"minilm-ft-bbb", "minilm-aaa"}
    assert len(cache_entries()) == 3  # a dry run removes nothing
    removed = clear_cache(kinds=("encoders",), older_than_days=5)
    assert [e.path.name for e in removed] == ["minilm-ft-bbb"]
    assert {e.path.name for e in cache_entries()} == {"minilm-aaa", "minilm-student-ccc"}
    clear_cache()
    assert cache_entries() == [] and (cache / "onnx" / "stray-file.txt").is_file()  # only item folders go


def test_bad_arguments_are_clear_errors(cache):
    with pytest.raises(UnknownNameError):
        cache_entries(kinds=("models",))
    with pytest.raises(ConfigError, match=">= 0"):
        clear_cache(older_than_days=-1)


def test_no_cache_folder_is_an_empty_list(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLENS_CACHE_DIR", str(tmp_path / "nowhere"))
    assert cache_entries() == [] and clear_cache() == []


def test_cli_cache_list_and_clear(cache, capsys):
    assert main(["cache", "list"]) == 0
    out, err = capsys.readouterr()
    assert "minilm-ft-bbb" in out.splitlines()[0] and "3 cached items" in err
    assert main(["cache", "clear", "--kind", "onnx", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "would remove onnx/minilm-aaa" in out and (cache / "onnx" / "minilm-aaa").is_dir()
    assert main(["cache", "clear", "--older-than", "5"]) == 0
    out, err = capsys.readouterr()
    assert "removed 2 cached items" in err
    assert [e.path.name for e in cache_entries()] == ["minilm-student-ccc"]
