"""The ``cxlens`` command line: parses arguments and calls library functions.

Each command group lives in its own module with an
``add_commands(subparsers, *, train)`` function (``train`` is the shared
``cxlens train ...`` group, where each area adds its own trainer);
``COMMAND_MODULES`` wires them in one place.  Modules are imported
lazily by name only when building the parser, and they import heavy libraries
only inside the functions they call, so ``cxlens --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from cxlens import __version__
from cxlens.cli._flags import flags_for
from cxlens.errors import CxlensError, OutputPathError

__all__ = ["build_parser", "main"]

COMMAND_MODULES = (
    "cxlens.cli._data",
    "cxlens.cli._kpis",
    "cxlens.cli._qa",
    "cxlens.cli._accounts",
    "cxlens.cli._csat",
    "cxlens.cli._nlp",
    "cxlens.cli._taxonomy",
    "cxlens.cli._convert",
    "cxlens.cli._redact",
    "cxlens.cli._topics",
    "cxlens.cli._sentiment",
    "cxlens.cli._score",
    "cxlens.cli._dashboard",
    "cxlens.cli._cache",
)

log = logging.getLogger("cxlens")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxlens",
        description="Customer-service conversation analytics: KPIs, request types, topics, sentiment, "
                    "script adherence, churn and health.",
    )
    parser.add_argument("--version", action="version", version=f"cxlens {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no library warnings (status lines and errors still print)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train_parser = sub.add_parser("train", help="train a model (classifier, sentiment, churn)")
    train = train_parser.add_subparsers(dest="train_command", metavar="MODEL")
    train_parser.set_defaults(func=lambda args: train_parser.print_help())
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub, train=train)
    return parser


#: log messages of other libraries that say nothing a cxlens user can act on
_NOISE = (
    # onnxruntime's quantize_dynamic logs this on the root logger while our int8 export is built
    "pre-processing before quantization",
)


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(noise in message for noise in _NOISE)


def _setup_logging(verbose: int, quiet: bool) -> None:
    """Every log line and progress bar goes to stderr: stdout carries only the command's data."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    try:
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=Console(stderr=True), show_time=False, show_path=False,
                                               rich_tracebacks=False)
        fmt = "%(message)s"
    except ImportError:  # pragma: no cover - rich is a core dependency
        handler, fmt = logging.StreamHandler(sys.stderr), "%(levelname)s %(message)s"
    handler.addFilter(_DropNoise())
    logging.basicConfig(level=level, format=fmt, handlers=[handler], force=True)


def _stdout_closed() -> int:
    """The reader of stdout went away (``cxlens ... | head``): end quietly, as a Unix tool killed by SIGPIPE.

    stdout is pointed at /dev/null so that the interpreter's last flush cannot raise again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout replaced by something without a file descriptor
        pass
    return 128 + 13  # 141, what a shell reports for a process ended by SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            code = _run(argv)
        except SystemExit:  # argparse's --help, --version and usage errors
            sys.stdout.flush()
            raise
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        return _stdout_closed()


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CxlensError as exc:  # the library names options as parameters; the user typed flags
        sys.stderr.write(f"cxlens: error: {exc.cli_message(flags_for(exc.params))}\n")
        return exc.exit_code
    except OSError as exc:  # the machine's, not ours: read-only, disk full, a file where a folder goes ...
        from cxlens._outdir import environment_problem

        problem = environment_problem(exc)
        if problem is None:
            raise
        sys.stderr.write(f"cxlens: error: {problem}\n")
        return OutputPathError.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("cxlens: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
