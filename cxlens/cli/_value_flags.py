"""The flags that set :class:`cxlens.io.ValueRules`: how timestamps are read and which ones are plausible.

Every command that reads tables takes them (``add_value_rule_args`` on its parser or input group) and
passes ``value_rules_from(args)`` on as ``rules``. A bad value raises
:class:`~cxlens.errors.InvalidConfigError` naming the parameter, which the command line prints as the flag.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cxlens.io import ValueRules

__all__ = ["add_value_rule_args", "value_rules_from"]


def add_value_rule_args(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--date-format FMT`` and ``--dates-between START..END`` to a parser or an argument group."""
    parser.add_argument(
        "--date-format", metavar="FMT", default=None,
        help="how to read timestamps that are not ISO 8601, as a strptime format, e.g. '%%d.%%m.%%Y' or "
             "'%%m/%%d/%%Y %%H:%%M' (ISO 8601 is always read). Without it, day-month dates such as 04.03.2025 "
             "are read only when other values of the column show the order (13.03.2025 is day first); "
             "the others, two-digit years and bare numbers are quarantined")
    parser.add_argument(
        "--dates-between", metavar="START..END", default=None,
        help="the plausible timestamps, ISO 8601 dates or timestamps, both included, e.g. "
             "2000-01-01..2030-12-31; an empty side keeps its default (1990-01-01..one year from today, UTC). "
             "Rows with a timestamp outside are quarantined")


def value_rules_from(args: argparse.Namespace) -> ValueRules:
    """The :class:`~cxlens.io.ValueRules` of parsed arguments (the defaults where the flags were not added)."""
    from cxlens.io import ValueRules

    return ValueRules(date_format=getattr(args, "date_format", None),
                      dates_between=getattr(args, "dates_between", None))
