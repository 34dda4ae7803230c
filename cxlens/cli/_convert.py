"""``cxlens convert twcs|ibm|zendesk|freshdesk|intercom|hubspot|salesforce``: real exports -> canonical tables."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    conv = sub.add_parser("convert", help="convert an export (twcs, ibm, zendesk, freshdesk, intercom, hubspot, "
                                          "salesforce) into canonical tickets, messages and surveys")
    conv.add_argument("kind", choices=("twcs", "ibm", "zendesk", "freshdesk", "intercom", "hubspot", "salesforce"),
                      help="twcs: Customer Support on Twitter CSV; ibm: IBM Twitter customer-care JSON; zendesk, "
                           "freshdesk, intercom, hubspot: the vendor's API export (JSON / JSON Lines, a file or a "
                           "folder); salesforce: a folder of Case, CaseComment, EmailMessage, CaseMilestone, survey "
                           "files (CSV or JSON). Field mappings: docs/data-model.md")
    conv.add_argument("--input", required=True, metavar="PATH", help="the export file (or a folder of them)")
    conv.add_argument("--out", required=True, metavar="DIR", help="where to write tickets and messages")
    conv.add_argument("--format", choices=("csv", "parquet", "jsonl"), default="csv")
    conv.add_argument("--encoding", default="utf-8", help="text encoding of the input (default utf-8)")
    conv.add_argument("--redact", action="store_true",
                      help="replace personal data (emails, phones, cards, IBANs, SSNs, IPs, addresses, names) with "
                           "typed placeholders before anything is written (docs/trust-and-safety.md)")
    conv.set_defaults(func=convert_cmd)


def convert_cmd(args: argparse.Namespace) -> int:
    from cxlens._outdir import prepare_output_dir
    from cxlens.adapters import convert

    prepare_output_dir(args.out, inputs=[args.input], create=False)
    result, written = convert(args.kind, args.input, args.out, fmt=args.format, encoding=args.encoding,
                              redact=args.redact)
    summary = result.summary()
    surveys = f"{summary['surveys']:,} survey answers, " if "surveys" in summary else ""
    sys.stderr.write(f"cxlens: {args.kind}: read {summary['records_read']:,} records -> "
                     f"{summary['tickets']:,} tickets, {summary['messages']:,} messages, {surveys}"
                     f"quarantined {summary['quarantined']:,}\n")
    if "vendor_checks" in summary:
        sys.stderr.write(f"cxlens: {args.kind}: first-response / resolution times against the vendor's: "
                         f"{summary['vendor_matches']:,} match, {summary['vendor_explained']:,} differ for a known "
                         f"reason, {summary['vendor_unexplained']:,} unexplained (of {summary['vendor_checks']:,})\n")
    if result.redactions is not None:  # {} when --redact found nothing: said so
        counts = ", ".join(f"{kind} {n:,}" for kind, n in sorted(result.redactions.items()))
        sys.stderr.write(f"cxlens: redacted: {counts or 'nothing found'}\n")
    for name, path in written.items():
        sys.stderr.write(f"cxlens: wrote {name} to {path}\n")
    return 0
