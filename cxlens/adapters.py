"""Adapters for real exports: public support-conversation formats -> canonical tickets + messages.

* :func:`read_twcs` - the *Customer Support on Twitter* format (Kaggle
  ``twcs.csv``: ``tweet_id, author_id, inbound, created_at, text,
  response_tweet_id, in_response_to_tweet_id``).  Reply chains are rebuilt
  into threads; a thread is one ticket.
* :func:`read_ibm_cdp` - the IBM Twitter customer-care conversations
  (``dialogHeader`` / ``dialogContent`` / ``agentURL`` JSON, one conversation
  per element, or JSON Lines).

* :func:`read_zendesk`, :func:`read_freshdesk`, :func:`read_intercom`,
  :func:`read_hubspot`, :func:`read_salesforce` - helpdesk exports (API
  pages / JSON / JSON Lines; Salesforce CSV or JSON per object), one private
  module each (``cxlens._adapter_<vendor>``), with surveys and the vendor's own
  first-response and resolution figures compared with cxlens's.

All return a :class:`Converted` (tickets, messages, quarantine).  A bad
record (no id, an unparseable time, a duplicate id, a thread without any
customer tweet, a conversation without turns...) goes to the quarantine with
the reason; it never stops the conversion.  The mapping of every field is in
``docs/data-model.md`` (section "Adapters").  :func:`convert` writes the
result as an archive that every ``cxlens`` command reads.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens._adapter_common import Converted
from cxlens._adapter_freshdesk import read_freshdesk
from cxlens._adapter_hubspot import read_hubspot
from cxlens._adapter_intercom import read_intercom
from cxlens._adapter_salesforce import read_salesforce
from cxlens._adapter_zendesk import read_zendesk
from cxlens.dataset import derive_ticket_fields
from cxlens.errors import MissingColumnsError, NoUsableRowsError, UnknownNameError, UnreadableFileError
from cxlens.io import REASON_COL, ROW_COL, SOURCE_COL, read_frame, undecodable, write_table

__all__ = ["ADAPTERS", "Converted", "convert", "detect_export", "read_freshdesk", "read_hubspot", "read_ibm_cdp", "read_intercom",
           "read_salesforce", "read_twcs", "read_zendesk"]

log = logging.getLogger(__name__)

TWCS_REQUIRED = ("tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id")
TWCS_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # "Wed Oct 11 06:55:44 +0000 2017"
TWITTER_EPOCH_MS = 1288834974657  # snowflake ids (tweets after Nov 2010) carry their creation time


# ---------------------------------------------------------------- Customer Support on Twitter


def _clean_id(values: pd.Series) -> pd.Series:
    """Strip blanks and a float suffix ("848.0" -> "848"); empty -> NA."""
    out = values.astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    return out.mask(out == "")


def _twitter_time(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, format=TWCS_TIME_FORMAT, errors="coerce", utc=True)
    retry = parsed.isna() & text.notna()
    if retry.any():  # an export that rewrote the times as ISO 8601
        parsed[retry] = pd.to_datetime(text[retry], errors="coerce", utc=True, format="mixed")
    return parsed


def _thread_roots(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root index per node by pointer jumping (``parent[i] == i`` at roots); also a mask of nodes in loops."""
    root = parent.copy()
    for _ in range(64):  # doubling: 2**64 steps is deeper than any thread
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    looped = root[root] != root
    return root, looped


def read_twcs(path: str | Path, *, encoding: str = "utf-8") -> Converted:
    """Customer Support on Twitter -> tickets + messages (see the module docstring).

    Thread rules: tweets are linked by ``in_response_to_tweet_id`` (and
    ``response_tweet_id`` where the child does not name its parent); a thread
    is one ticket, created at its first customer (inbound) tweet, whose id is
    the ticket id.  Customer tweets are ``customer`` messages, brand tweets
    ``agent`` messages (``author_id`` = the brand).  ``account_id`` is the
    customer's author id, ``agent_id`` and ``team`` the brand.  A thread whose
    last tweet is the brand's counts as solved at that tweet; otherwise it is
    open.  A thread with no customer tweet is quarantined.
    """
    raw, unreadable = read_frame(path, encoding=encoding)
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in TWCS_REQUIRED if c not in raw.columns]
    if missing:
        raise MissingColumnsError(table="twcs", missing=missing, source=str(path),
                                  present=[c for c in raw.columns if not c.startswith("_")])
    frame = pd.DataFrame({
        "tweet_id": _clean_id(raw["tweet_id"]),
        "author_id": raw["author_id"].astype("string").str.strip().replace("", pd.NA),
        "inbound": raw["inbound"].astype("string").str.strip().str.lower().map(
            {"true": True, "false": False, "1": True, "0": False}),
        "sent_at": _twitter_time(raw["created_at"]),
        "text": raw["text"].astype("string"),
        "parent_id": _clean_id(raw["in_response_to_tweet_id"]),
    })
    reasons = pd.Series("", index=raw.index, dtype=object)

    def flag(mask: pd.Series, reason: str) -> None:
        mask = mask.fillna(False).astype(bool)
        reasons[mask] = reasons[mask] + reason + "; "

    flag(frame["tweet_id"].isna(), "tweet_id is empty")
    flag(frame["author_id"].isna(), "author_id is empty")
    flag(frame["inbound"].isna(), "inbound is not True/False")
    flag(frame["sent_at"].isna(), "created_at is not a valid time (expected e.g. 'Wed Oct 11 06:55:44 +0000 2017')")
    flag((reasons == "") & frame["tweet_id"].duplicated(keep="first"), "duplicate tweet_id (the first is kept)")

    ok = (reasons == "").to_numpy()
    tweets = frame[ok].reset_index(drop=True)
    pos = pd.Series(np.arange(len(tweets)), index=tweets["tweet_id"].to_numpy())
    parent = tweets["parent_id"].map(pos)
    if "response_tweet_id" in raw.columns:  # children named only by their parent
        kids = (_clean_id(raw.loc[ok, "response_tweet_id"]).reset_index(drop=True).str.split(",")
                .explode().str.strip().dropna())
        kid_pos = kids.map(pos).dropna().astype(int)
        orphan_kids = kid_pos[parent.iloc[kid_pos.to_numpy()].isna().to_numpy()]
        parent.iloc[orphan_kids.to_numpy()] = orphan_kids.index.to_numpy()
    parent_arr = parent.fillna(-1).astype(int).to_numpy()
    parent_arr = np.where(parent_arr < 0, np.arange(len(tweets)), parent_arr)
    root, looped = _thread_roots(parent_arr)
    tweets["thread"] = root
    inbound = tweets["inbound"].astype(bool)
    by_time = tweets.sort_values(["thread", "sent_at", "tweet_id"], kind="stable")
    first_customer = by_time[inbound.loc[by_time.index]].groupby("thread").head(1).set_index("thread")
    has_customer = tweets["thread"].isin(first_customer.index).to_numpy()
    bad_thread = looped | ~has_customer
    thread_reason = np.where(looped, "reply chain loops back on itself",
                             "thread has no customer tweet (its customer tweet is not in the file)")
    bad_idx = raw.index[ok][bad_thread]
    reasons.loc[bad_idx] = reasons.loc[bad_idx] + thread_reason[bad_thread] + "; "
    tweets = tweets[~bad_thread]
    by_time = by_time[~bad_thread[by_time.index]]

    first_customer = first_customer[first_customer.index.isin(tweets["thread"])]
    if first_customer.empty:
        bad = reasons[reasons != ""]
        detail = bad.iloc[0].rstrip("; ") if len(bad) else "the file has a header but no tweets"
        raise NoUsableRowsError(f"No usable threads in {path}: {detail}.")
    ticket_of = first_customer["tweet_id"]
    tweets["ticket_id"] = tweets["thread"].map(ticket_of)
    messages = pd.DataFrame({
        "ticket_id": tweets["ticket_id"].astype(object), "sent_at": tweets["sent_at"],
        "author_role": np.where(tweets["inbound"].astype(bool), "customer", "agent"),
        "author_id": tweets["author_id"].astype(object), "message_id": tweets["tweet_id"].astype(object),
        "text": tweets["text"].astype(object), "in_reply_to": tweets["parent_id"].astype(object),
    }).sort_values(["ticket_id", "sent_at", "message_id"], kind="stable").reset_index(drop=True)
    brand_first = (by_time[~by_time["inbound"].astype(bool)].groupby("thread")["author_id"].first())
    last = by_time.groupby("thread").tail(1).set_index("thread")
    solved = ~last["inbound"].astype(bool)
    threads = first_customer.index
    tickets = pd.DataFrame({
        "ticket_id": first_customer["tweet_id"].astype(object).to_numpy(),
        "created_at": first_customer["sent_at"].to_numpy(),
        "channel": "social",
        "account_id": first_customer["author_id"].astype(object).to_numpy(),
        "agent_id": brand_first.reindex(threads).astype(object).to_numpy(),
        "team": brand_first.reindex(threads).astype("string").str.lower().astype(object).to_numpy(),
        "text": first_customer["text"].astype(object).to_numpy(),
        "status": np.where(solved.reindex(threads), "solved", "open"),
        "resolved_at": last["sent_at"].reindex(threads).where(solved.reindex(threads)).to_numpy(),
        "contacts": tweets[tweets["inbound"].astype(bool)].groupby("thread").size().reindex(threads).to_numpy(
            dtype=float),
        "brand": brand_first.reindex(threads).astype(object).to_numpy(),
    })
    tickets["created_at"] = pd.to_datetime(tickets["created_at"], utc=True)
    tickets["resolved_at"] = pd.to_datetime(tickets["resolved_at"], utc=True)
    tickets = tickets.sort_values("created_at", kind="stable").reset_index(drop=True)
    tickets = derive_ticket_fields(tickets, messages)
    quarantine = _quarantined(raw, reasons, unreadable)
    return Converted(tickets=tickets, messages=messages, quarantine=quarantine, n_read=len(raw) + len(unreadable))


def _quarantined(raw: pd.DataFrame, reasons: pd.Series, unreadable: pd.DataFrame) -> pd.DataFrame:
    bad = reasons != ""
    out = raw.loc[bad].copy()
    out[REASON_COL] = reasons[bad].str.rstrip("; ")
    if len(unreadable):
        out = pd.concat([out, unreadable], ignore_index=True)
    return out.reset_index(drop=True)


# ---------------------------------------------------------------- IBM Twitter customer care (CDP)


def _snowflake_time(tweet_id: object) -> pd.Timestamp | None:
    try:
        number = int(str(tweet_id))
    except ValueError:
        return None
    if number < 2**32:  # not a snowflake id
        return None
    return pd.Timestamp((number >> 22) + TWITTER_EPOCH_MS, unit="ms", tz="UTC").floor("s")


def _duration(text: object) -> pd.Timedelta | None:
    try:
        hours, minutes, seconds = str(text).split(":")
        return pd.Timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))
    except (ValueError, TypeError):
        return None


def _load_conversations(path: Path, encoding: str) -> list[tuple[int, object]]:
    files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl")) if path.is_dir() else [path]
    if not files:
        raise UnreadableFileError(f"Folder {path} holds no .json or .jsonl files.")
    items: list[tuple[int, object]] = []
    for file in files:
        if not file.exists():
            raise UnreadableFileError(f"File {file} does not exist.")
        try:
            text = file.read_text(encoding=encoding)
        except UnicodeDecodeError as exc:
            raise undecodable(file, encoding, exc) from exc
        if not text.strip():
            raise UnreadableFileError(f"{file} is empty.")
        if file.suffix == ".jsonl":
            for lineno, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        items.append((lineno, json.loads(line)))
                    except json.JSONDecodeError as exc:
                        items.append((lineno, ValueError(f"line is not JSON ({exc.msg})", line[:1000])))
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnreadableFileError(f"{file} is not valid JSON: {exc.msg} at line {exc.lineno}.") from exc
        if isinstance(obj, dict):
            obj = [obj] if "dialogContent" in obj else next((v for v in obj.values() if isinstance(v, list)), None)
        if not isinstance(obj, list):
            raise UnreadableFileError(f"{file}: expected a JSON array of conversations (dialogHeader/dialogContent).")
        items.extend(enumerate(obj, start=1))
    return items


def read_ibm_cdp(path: str | Path, *, encoding: str = "utf-8") -> Converted:
    """IBM Twitter customer-care conversations (``dialogHeader``/``dialogContent``) -> tickets + messages.

    One conversation is one ticket (``ticket_id`` = ``sessionID``, channel
    ``social``, ``account_id`` = the first client, ``agent_id``/``team`` = the
    company).  Turns keyed ``client``/``client1``/... are ``customer``
    messages, ``agent`` turns are ``agent`` messages; the closing
    ``agentURL`` reply (the document that resolves the issue) is the last
    agent message, timed from its tweet id (snowflake; else header start +
    duration), and marks the ticket solved.
    """
    path = Path(path)
    source = str(path)
    tickets, messages, bad = [], [], []
    seen: set[str] = set()
    items = _load_conversations(path, encoding)
    for row, conv in items:
        def reject(reason: str, raw: object = conv) -> None:
            text = raw.args[1] if isinstance(raw, ValueError) else json.dumps(raw, ensure_ascii=False)[:2000]
            bad.append({SOURCE_COL: source, ROW_COL: row, REASON_COL: reason, "_raw": text})

        if isinstance(conv, ValueError):
            reject(conv.args[0])
            continue
        header = conv.get("dialogHeader") if isinstance(conv, dict) else None
        turns = conv.get("dialogContent") if isinstance(conv, dict) else None
        if not isinstance(header, dict) or not isinstance(turns, list):
            reject("conversation has no dialogHeader object or no dialogContent list")
            continue
        session = str(header.get("sessionID") or "").strip()
        if not session:
            reject("dialogHeader.sessionID is empty")
            continue
        if session in seen:
            reject(f"duplicate sessionID {session} (the first is kept)")
            continue
        company = str(header.get("company") or "").strip() or None
        conv_msgs = []
        for turn in turns:
            role_key = next((k for k in ("agent", "client") if isinstance(turn, dict) and k in turn), None)
            role_key = role_key or next((k for k in (turn if isinstance(turn, dict) else ())
                                         if str(k).startswith("client")), None)
            sent = pd.to_datetime(turn.get("datetime"), utc=True, errors="coerce") if isinstance(turn, dict) else None
            if role_key is None:
                reject(f"conversation {session}: a turn has neither 'client' nor 'agent'", turn)
                continue
            if sent is None or pd.isna(sent):
                reject(f"conversation {session}: turn datetime {turn.get('datetime')!r} is not a valid time", turn)
                continue
            conv_msgs.append({"ticket_id": session, "sent_at": sent,
                              "author_role": "agent" if role_key == "agent" else "customer",
                              "author_id": str(turn[role_key]), "tweet_id": str(turn.get("tweet_ID") or "") or None,
                              "text": turn.get("message")})
        customers = [m for m in conv_msgs if m["author_role"] == "customer"]
        if not customers:
            reject(f"conversation {session} has no valid client turn")
            continue
        closing = conv.get("agentURL") if isinstance(conv.get("agentURL"), dict) else None
        if closing and closing.get("url_utterance"):
            when = _snowflake_time(closing.get("tweet_ID"))
            start = pd.to_datetime(header.get("conversationDateTime"), utc=True, errors="coerce")
            if when is None and _duration(header.get("duration")) is not None and not pd.isna(start):
                when = start + _duration(header.get("duration"))
            if when is not None:
                when = max(when, conv_msgs[-1]["sent_at"])
                conv_msgs.append({"ticket_id": session, "sent_at": when, "author_role": "agent",
                                  "author_id": company, "tweet_id": str(closing.get("tweet_ID") or "") or None,
                                  "text": closing.get("url_utterance")})
        conv_msgs.sort(key=lambda m: m["sent_at"])
        first = customers[0]
        solved = conv_msgs[-1]["author_role"] == "agent" and closing is not None
        tickets.append({"ticket_id": session, "created_at": min(m["sent_at"] for m in customers),
                        "channel": "social", "account_id": first["author_id"], "agent_id": company,
                        "team": company.lower() if company else None, "text": first["text"],
                        "status": "solved" if solved else "open",
                        "resolved_at": conv_msgs[-1]["sent_at"] if solved else pd.NaT,
                        "contacts": float(len(customers)), "brand": company,
                        "doc_id": (closing or {}).get("doc_id"), "doc_url": (closing or {}).get("url")})
        messages.extend(conv_msgs)
        seen.add(session)
    tickets_df = pd.DataFrame(tickets)
    if tickets_df.empty:
        raise NoUsableRowsError(f"No usable conversations in {path}: "
                                f"{bad[0][REASON_COL] if bad else 'the file holds none'}.")
    messages_df = pd.DataFrame(messages).drop_duplicates().reset_index(drop=True)
    # a tweet can open several conversations (a brand announcement), so the message id is per conversation
    number = messages_df.groupby("ticket_id").cumcount().astype(str)
    messages_df.insert(4, "message_id", messages_df["ticket_id"] + "/" + messages_df["tweet_id"].fillna("m" + number))
    for col in ("created_at", "resolved_at"):
        tickets_df[col] = pd.to_datetime(tickets_df[col], utc=True)
    messages_df["sent_at"] = pd.to_datetime(messages_df["sent_at"], utc=True)
    tickets_df = derive_ticket_fields(tickets_df, messages_df)
    return Converted(tickets=tickets_df, messages=messages_df, quarantine=pd.DataFrame(bad), n_read=len(items))


# ---------------------------------------------------------------- writing

ADAPTERS = {"twcs": read_twcs, "ibm": read_ibm_cdp, "zendesk": read_zendesk, "freshdesk": read_freshdesk,
            "intercom": read_intercom, "hubspot": read_hubspot, "salesforce": read_salesforce}


def convert(kind: str, input_path: str | Path, out_dir: str | Path, *, fmt: str = "csv",
            encoding: str = "utf-8", redact: bool = False) -> tuple[Converted, dict[str, Path]]:
    """Run adapter ``kind`` (a name of :data:`ADAPTERS`) and write its tables to ``out_dir``.

    Writes ``tickets`` and ``messages`` (+ ``surveys`` when the export has answers), ``quarantine/<kind>.csv``
    for the records set aside and, when the export carries the vendor's own figures,
    ``conversion/vendor_comparison.csv`` (cxlens's first-response and resolution times against the vendor's).
    ``redact`` replaces personal data in every text column (and the quarantine's raw records) with typed
    placeholders before anything is written (:func:`cxlens.redact.redact_frame`).
    """
    if kind not in ADAPTERS:
        raise UnknownNameError(kind="adapter", name=kind, known=ADAPTERS)
    if fmt not in ("csv", "parquet", "jsonl"):
        raise UnknownNameError(kind="format", name=fmt, known=("csv", "parquet", "jsonl"))
    result = ADAPTERS[kind](input_path, encoding=encoding)
    if redact:
        from cxlens.redact import redact_converted

        result = redact_converted(result)
    out = Path(out_dir)
    written = {"tickets": write_table(result.tickets, out / f"tickets.{fmt}"),
               "messages": write_table(result.messages, out / f"messages.{fmt}")}
    if result.surveys is not None and len(result.surveys):
        written["surveys"] = write_table(result.surveys, out / f"surveys.{fmt}")
    if len(result.quarantine):
        written["quarantine"] = write_table(result.quarantine, out / "quarantine" / f"{kind}.csv")
        log.warning("%s: %d records quarantined (see %s)", kind, len(result.quarantine), written["quarantine"])
    if result.comparison is not None and len(result.comparison):
        written["vendor_comparison"] = write_table(result.comparison, out / "conversion" / "vendor_comparison.csv")
        unexplained = int((result.comparison["verdict"] == "unexplained").sum())
        if unexplained:
            log.warning("%s: %d of cxlens's times differ from the vendor's for no known reason (see %s)", kind,
                        unexplained, written["vendor_comparison"])
    return result, written


#: what the first 64 KB of a ``tickets*`` file holds in each vendor's export (checked in this order)
_TICKET_MARKERS = (("hubspot", ('"properties"',)), ("freshdesk", ('"fr_due_by"', '"responder_id"', '"stats"')),
                   ("zendesk", ('"via"', '"submitter_id"', '"assignee_id"')))


def detect_export(path: str | Path) -> str | None:
    """The helpdesk whose export the folder ``path`` holds (a name of :data:`ADAPTERS`), or None.

    A folder with canonical tables (``tickets.csv``, ...) is not an export. Salesforce: a ``Case*`` file;
    HubSpot, Freshdesk, Zendesk: ``tickets*.json``/``.jsonl`` whose first 64 KB hold the vendor's own field names
    (``properties``; ``fr_due_by``/``responder_id``/``stats``; ``via``/``submitter_id``/``assignee_id``);
    Intercom: ``conversations*`` files with ``conversation_parts``.
    """
    folder = Path(path)
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink())
    names = [p.name.lower() for p in files]
    if any(n.split(".")[0] == "tickets" and n.endswith((".csv", ".tsv", ".parquet", ".pq")) for n in names):
        return None
    if any(n.startswith("case") and n.endswith((".csv", ".json", ".jsonl")) for n in names):
        return "salesforce"
    for file in files:
        if file.name.lower().startswith("tickets") and file.suffix.lower() in (".json", ".jsonl", ".ndjson"):
            head = _head(file)
            for kind, markers in _TICKET_MARKERS:
                if any(marker in head for marker in markers):
                    return kind
    for file in files:  # Intercom exports conversations (Freshdesk's conversations sit beside its tickets)
        if file.name.lower().startswith("conversations") and "conversation_parts" in _head(file):
            return "intercom"
    return None


def _head(file: Path) -> str:
    with file.open("rb") as f:
        return f.read(65536).decode("utf-8", errors="replace")
