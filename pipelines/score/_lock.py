"""One run at a time per output folder: ``DIR/.cxlens.lock``, made with ``O_EXCL``.

The lock holds the pid, host, start time and command of the run that made it. A second run on the same
folder stops with an :class:`~cxlens.errors.OutputPathError` naming that pid; a lock left by a process that
is no longer running on this host (SIGKILL, power cut) is taken over with a warning. A lock from another
host is never taken over: its process cannot be checked from here.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cxlens.errors import OutputPathError

__all__ = ["LOCK_NAME", "OutputLock", "acquire_lock"]

log = logging.getLogger(__name__)

LOCK_NAME = ".cxlens.lock"
#: tries to read a lock another process has just made and not yet filled in
_READ_TRIES = 10


@dataclass
class OutputLock:
    """A held lock; :meth:`release` removes the file if it is still this run's."""

    path: Path
    token: str

    def release(self) -> None:
        holder = _holder(self.path)
        if holder is not None and holder.get("token") == self.token:
            try:
                self.path.unlink()
            except OSError:  # gone already, or the folder went read-only: a stale lock is taken over later
                pass


def acquire_lock(folder: Path, *, command: str = "cxlens score") -> OutputLock:
    """Take ``folder``'s lock (the folder exists), or raise :class:`~cxlens.errors.OutputPathError` if another
    live run holds it."""
    path = folder / LOCK_NAME
    mine = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "token": uuid.uuid4().hex,
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _wait_for_holder(path)
            if holder is None:
                continue  # removed meanwhile
            if _alive(holder):
                raise OutputPathError(_busy(folder, path, holder), params=("out",)) from None
            log.warning("%s: taking over the lock of pid %s (started %s), which is no longer running.",
                        folder, holder.get("pid"), holder.get("started"))
            if _holder(path) == holder:  # not taken over by another run meanwhile
                path.unlink(missing_ok=True)
            continue
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(mine))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return OutputLock(path=path, token=mine["token"])
    raise OutputPathError("{out=%r}: other runs keep taking its lock %s: run again once they are done."
                          % (str(folder), path), params=("out",))


def _busy(folder: Path, path: Path, holder: dict[str, Any]) -> str:
    who = f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"
    if holder.get("unreadable"):
        who = "its lock file cannot be read"
    elif holder.get("host") != socket.gethostname():
        who += "; a process on another machine cannot be checked from here"
    return ("{out=%r}: another cxlens run is using this folder (%s): wait for it to finish or give another "
            "folder; if no run is using it, delete %s." % (str(folder), who, path))


def _holder(path: Path) -> dict[str, Any] | None:
    """The lock's content; ``None`` if there is no lock, ``{}`` if it cannot be read (yet)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _wait_for_holder(path: Path) -> dict[str, Any] | None:
    """The lock's content, giving the run that has just made it a moment to fill it in."""
    for _ in range(_READ_TRIES):
        holder = _holder(path)
        if holder != {}:
            return holder
        time.sleep(0.1)
    return {"unreadable": True}


def _alive(holder: dict[str, Any]) -> bool:
    """Whether the lock's process may still be running (unknown counts as running)."""
    pid = holder.get("pid")
    if holder.get("unreadable") or holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's live process
        return True
    return True
