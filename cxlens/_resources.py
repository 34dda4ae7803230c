"""Files shipped inside the package (models, scorecards, the example archive), found through
:mod:`importlib.resources`, so an installed wheel finds them wherever it was installed.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["shipped_path"]


def shipped_path(package: str, *parts: str) -> Path:
    """The file-system path of ``parts`` inside ``package`` (e.g. ``shipped_path("cxlens.nlp", "artifacts")``).

    Packages are installed as folders (setuptools never zips them), so the resource is a real path; the
    ``as_file`` context only guards against a zipped install, where the path would be a temporary copy.
    """
    resource = files(package).joinpath(*parts)
    with as_file(resource) as path:
        return Path(path)
