"""``cxlens cache list|clear``: what the user cache holds (int8 exports, tuned encoders), and clearing it."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    from cxlens.nlp.encoders import CACHE_KINDS

    cache = sub.add_parser("cache", help="list or clear the user cache (int8 encoder exports, tuned encoders)")
    verbs = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    show = verbs.add_parser("list", help="the cached items, largest first, with sizes and ages")
    show.add_argument("--kind", choices=CACHE_KINDS, action="append", help="only this kind (repeatable)")
    show.set_defaults(func=list_cmd)
    clear = verbs.add_parser("clear", help="remove cached items (all of them are rebuilt when needed)")
    clear.add_argument("--kind", choices=CACHE_KINDS, action="append", help="only this kind (repeatable)")
    clear.add_argument("--older-than", type=float, default=0.0, metavar="DAYS",
                       help="only items not used for this many days (default 0: all)")
    clear.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    clear.set_defaults(func=clear_cmd)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def list_cmd(args: argparse.Namespace) -> int:
    from cxlens.nlp.encoders import CACHE_KINDS, cache_entries
    from cxlens.nlp.encoders import cache_dir

    entries = cache_entries(kinds=tuple(args.kind or CACHE_KINDS))
    for e in entries:
        sys.stdout.write(f"{e.kind:9s} {_mb(e.size_bytes):>11s} {e.age_days:7.1f} days  {e.path.name}\n")
    sys.stderr.write(f"cxlens: {len(entries)} cached items, {_mb(sum(e.size_bytes for e in entries))} "
                     f"in {cache_dir()}\n")
    return 0


def clear_cmd(args: argparse.Namespace) -> int:
    from cxlens.nlp.encoders import CACHE_KINDS, clear_cache

    removed = clear_cache(kinds=tuple(args.kind or CACHE_KINDS), older_than_days=args.older_than,
                          dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for e in removed:
        sys.stdout.write(f"{verb} {e.kind}/{e.path.name} ({_mb(e.size_bytes)})\n")
    sys.stderr.write(f"cxlens: {verb} {len(removed)} cached items, {_mb(sum(e.size_bytes for e in removed))}\n")
    return 0
