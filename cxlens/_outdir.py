"""Output folders and files: checked before any work, and the errors of the environment in one line.

Every command that writes calls :func:`prepare_output_dir` (a folder) or :func:`prepare_output_file` (a
file) first: a path that is a file where a folder is needed (or the reverse), that cannot be written,
or that is, holds or lies inside one of the command's inputs is refused with an
:class:`~cxlens.errors.OutputPathError` before anything is read or written. :func:`output_errors` turns the
``OSError`` of a write that fails later (disk full, quota, read-only) into the same one-line error;
:func:`environment_problem` says what such an ``OSError`` means (the command line uses it for any command).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cxlens.errors import OutputPathError

__all__ = ["check_not_input", "environment_problem", "output_error", "output_errors",
           "prepare_output_dir", "prepare_output_file"]

#: errno -> (what happened, what to do): the failures of the machine, not of cxlens or the data
_PROBLEMS: dict[int, tuple[str, str]] = {
    errno.EACCES: ("permission denied", "give a path you can write to, or change its permissions"),
    errno.EPERM: ("operation not permitted", "give a path you can write to, or change its permissions"),
    errno.EROFS: ("read-only file system", "give a path on a writable disk"),
    errno.ENOSPC: ("no space left on the device", "free some space, or give a path on another disk"),
    errno.EDQUOT: ("disk quota exceeded", "free some space, or give a path on another disk"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "give another path"),
    errno.EEXIST: ("a file of that name is in the way", "give another path, or move that file"),
    errno.EISDIR: ("a folder is in the way where a file is needed", "give a file name"),
}
#: how some libraries (pyarrow) word these errors when they set no errno
_WORDED = {"no space left on device": errno.ENOSPC, "disk quota exceeded": errno.EDQUOT,
           "read-only file system": errno.EROFS, "permission denied": errno.EACCES}


def _errno(exc: OSError) -> int | None:
    if exc.errno is not None:
        return exc.errno if exc.errno in _PROBLEMS else None
    text = str(exc).lower()
    return next((code for words, code in _WORDED.items() if words in text), None)


def _explained(exc: OSError) -> str | None:
    """``what (ECODE): what to do.`` for an ``OSError`` of the environment; ``None`` for any other error."""
    code = _errno(exc)
    if code is None:
        return None
    what, todo = _PROBLEMS[code]
    return f"{what} ({errno.errorcode[code]}): {todo}."


def environment_problem(exc: OSError) -> str | None:
    """One line on an ``OSError`` of the environment (read-only, full, a file in the way ...), naming the path
    and what to do; ``None`` for any other error."""
    explained = _explained(exc)
    if explained is None:
        return None
    return f"cannot write {exc.filename}: {explained}" if exc.filename else f"cannot write: {explained}"


def output_error(exc: OSError, path: str | Path, *, param: str = "out") -> OutputPathError | None:
    """The :class:`~cxlens.errors.OutputPathError` for an ``OSError`` of the environment met while writing
    ``path`` (the option ``param``); ``None`` for any other error."""
    explained = _explained(exc)
    if explained is None:
        return None
    file = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return OutputPathError(f"{_ref(param, path)}: cannot write there{file}: {explained}", params=(param,))


@contextmanager
def output_errors(path: str | Path, *, param: str = "out") -> Iterator[None]:
    """Inside, an ``OSError`` of the environment becomes the one-line :func:`output_error`; others pass."""
    try:
        yield
    except OSError as exc:
        error = output_error(exc, path, param=param)
        if error is None:
            raise
        raise error from exc


def _ref(param: str, path: str | Path) -> str:
    """``{out='x'}``: ``out='x'`` in Python, ``--out x`` on the command line (:class:`~cxlens.errors.CxlensError`)."""
    return "{" + f"{param}={str(path)!r}" + "}"


def _resolved(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


def check_not_input(path: str | Path, inputs: Iterable[str | Path | None], *, param: str = "out") -> None:
    """Refuse an output ``path`` that is an input, holds one, or lies inside an input folder."""
    out = _resolved(path)
    for given in inputs:
        if not given or not os.path.lexists(given):  # not a path on disk (models:/name@alias): nothing to overwrite
            continue
        source = _resolved(given)
        if out == source:
            raise OutputPathError(f"{_ref(param, path)}: is an input of this command: give a separate output path "
                                  f"(nothing was written).", params=(param,))
        if source.is_relative_to(out):
            raise OutputPathError(f"{_ref(param, path)}: holds the input {given}: give a separate output folder "
                                  f"(nothing was written).", params=(param,))
        if source.is_dir() and out.is_relative_to(source):
            raise OutputPathError(f"{_ref(param, path)}: is inside the input folder {given}: give an output path "
                                  f"outside it (nothing was written).", params=(param,))


def _existing_ancestor(path: Path) -> Path:
    here = Path(os.path.abspath(path))
    while not os.path.lexists(here) and here.parent != here:
        here = here.parent
    return here


def _check_writable(folder: Path, shown: str | Path, param: str) -> None:
    """``folder`` (which exists) must be a folder this process can write in."""
    if not folder.is_dir():
        raise OutputPathError(f"{_ref(param, shown)}: {folder} is a file, not a folder: give another path.",
                              params=(param,))
    if os.access(folder, os.W_OK | os.X_OK):
        return
    read_only = hasattr(os, "statvfs") and bool(os.statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 1))
    why = "is on a read-only file system (EROFS)" if read_only else "is not writable: permission denied (EACCES)"
    raise OutputPathError(f"{_ref(param, shown)}: {folder} {why}: give a path you can write to.", params=(param,))


def prepare_output_dir(path: str | Path, *, inputs: Iterable[str | Path | None] = (), param: str = "out",
                       create: bool = True) -> Path:
    """Check (and with ``create``, make) the output folder ``path`` of the option ``param``.

    Refused with :class:`~cxlens.errors.OutputPathError`: a file at ``path`` or above it, a folder that
    cannot be written, a path that is, holds or lies inside one of ``inputs``. ``create=False`` checks
    that the folder could be made, and makes nothing (a command that fails later leaves no empty folder).
    """
    folder = Path(path)
    check_not_input(folder, inputs, param=param)
    if os.path.lexists(folder) and not folder.is_dir():
        raise OutputPathError(f"{_ref(param, path)}: is a file: give a folder (new, or one cxlens wrote).",
                              params=(param,))
    _check_writable(_existing_ancestor(folder), path, param)  # the folder itself when it exists
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # whatever the reason, it is this path's
            raise output_error(exc, path, param=param) or OutputPathError(
                f"{_ref(param, path)}: cannot make this folder: {exc.strerror or exc}: give another path.",
                params=(param,)) from exc
    return folder


def prepare_output_file(path: str | Path, *, inputs: Iterable[str | Path | None] = (),
                        param: str = "out") -> Path:
    """Check the output file ``path`` of the option ``param`` before any work: not a folder, not an input nor
    inside an input folder, in a folder that exists or can be made and can be written. Makes nothing."""
    file = Path(path)
    check_not_input(file, inputs, param=param)
    if file.is_dir():
        raise OutputPathError(f"{_ref(param, path)}: is a folder: give a file name.", params=(param,))
    folder = file.parent if file.parent.is_dir() else _existing_ancestor(file.parent)
    _check_writable(folder, path, param)
    if os.path.lexists(file) and not os.access(file, os.W_OK):
        raise OutputPathError(f"{_ref(param, path)}: the file is read-only: give another file name, or change "
                              f"its permissions.", params=(param,))
    return file
