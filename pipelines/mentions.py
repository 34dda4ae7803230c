"""The mentions job: score social posts, flag questions and complaints, find brands, alert on spikes.

Plain functions named for what they return (Hamilton style); :func:`mentions_report`
wires them. ``cxlens mentions score`` calls it.

* :func:`read_mentions` -- the canonical ``mentions`` table, or the Customer
  Support on Twitter export (``fmt="twcs"``: customer tweets become mentions,
  the brand's first reply gives ``replied_at`` and the replying account the ``brand``).
* :func:`scored_mentions` -- every input column kept, plus ``sentiment``,
  ``sentiment_score``, ``sentiment_confidence``, ``language``,
  ``sentiment_flag``, ``is_question``, ``is_complaint`` and, with a brand
  list, ``brands_mentioned`` (``brand`` is filled where it was empty).
* :func:`negative_spikes` -- periods whose negative volume exceeds the trailing
  mean by ``k`` standard deviations, each with example posts.

The social KPIs (``metrics/social.py``) read these columns.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens.errors import ConfigError, DataError, MissingColumnsError

__all__ = [
    "MentionsReport",
    "brands_mentioned",
    "complaint_flags",
    "mentions_from_twcs",
    "mentions_report",
    "negative_spikes",
    "parse_brands",
    "question_flags",
    "read_mentions",
    "scored_mentions",
    "write_mentions_report",
]

log = logging.getLogger(__name__)

# period -> (pandas Period frequency, date_range frequency of the period starts); weeks start on Monday
PERIODS = {"hour": ("h", "h"), "day": ("D", "D"), "week": ("W-SUN", "7D"), "month": ("M", "MS")}

_QUESTION_START = re.compile(
    r"^(?:(?:@user|@\w+)\s+)*(?:how|what|why|when|where|who|which|whom|whose|can|could|would|will|is|are|am|"
    r"was|were|do|does|did|should|shall|may|might|has|have|had|any|anyone|anybody|isn't|aren't|don't|doesn't|"
    r"didn't|won't|can't|wouldn't|couldn't|shouldn't)\b", re.IGNORECASE)
_QUESTION_PHRASE = re.compile(
    r"\b(?:any idea|any update|wondering (?:if|whether|why|how)|can (?:you|u|someone|anyone)|could (?:you|u)|"
    r"is there (?:a|any)|how (?:do|can|long)|please (?:advise|confirm|explain|let me know)|let me know)\b",
    re.IGNORECASE)
_URL = re.compile(r"https?://\S+|www\.\S+")
_COMPLAINT_CUES = re.compile(
    r"\b(?:broken|useless|not (?:working|happy|impressed|acceptable)|doesn'?t work|won'?t (?:work|load|let)|"
    r"stopped working|never (?:arrived|received|got|came)|still (?:waiting|no|not|haven'?t)|waiting (?:for|since)|"
    r"refund|charged (?:twice|me|again)|overcharged|double charged|cancel+(?:ed|led)?|delay(?:ed|s)?|lost|"
    r"missing|damaged|wrong (?:item|order|size|charge)|error|crash(?:es|ed|ing)?|outage|down again|"
    r"disappointed|disappointing|unacceptable|ridiculous|terrible|horrible|awful|worst|rude|scam|"
    r"complain(?:t|ing)?|fix (?:this|it|your)|sort (?:this|it) out|fed up|sick of|frustrat\w+|annoy\w+|"
    r"no (?:response|reply|answer|help|one)|on hold|hung up|escalate)\b",
    re.IGNORECASE)


@dataclass
class MentionsReport:
    """What the job produces: the scored table, the spike alerts and a small summary."""

    scored: pd.DataFrame
    spikes: pd.DataFrame
    summary: dict
    quarantine: pd.DataFrame


# ---------------------------------------------------------------- reading


def mentions_from_twcs(raw: pd.DataFrame) -> pd.DataFrame:
    """Customer tweets of a twcs export as a raw ``mentions`` frame (validated by the caller).

    ``mention_id`` = ``tweet_id``; ``posted_at`` = ``created_at``; ``author`` = ``author_id``;
    ``replied_at`` = the first reply to the tweet by a non-inbound (brand) account;
    ``brand`` = that account; ``in_reply_to`` = ``in_response_to_tweet_id``; ``platform`` = twitter.
    """
    from cxlens.adapters import TWCS_TIME_FORMAT

    need = ("tweet_id", "author_id", "inbound", "created_at", "text")
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise MissingColumnsError(table="twcs", missing=missing, present=[c for c in raw.columns if c[:1] != "_"])
    frame = raw.copy()
    frame["tweet_id"] = frame["tweet_id"].astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    when = pd.to_datetime(frame["created_at"], format=TWCS_TIME_FORMAT, errors="coerce", utc=True)
    retry = when.isna() & frame["created_at"].notna()
    if retry.any():
        when[retry] = pd.to_datetime(frame.loc[retry, "created_at"], errors="coerce", utc=True, format="mixed")
    frame["_when"] = when
    inbound = frame["inbound"].astype(str).str.strip().str.lower().isin(("true", "1", "yes", "t"))
    parent_col = "in_response_to_tweet_id"
    parent = (frame[parent_col].astype(str).str.replace(r"\.0$", "", regex=True)
              if parent_col in frame else pd.Series("", index=frame.index))
    replies = frame.loc[~inbound].assign(_parent=parent[~inbound])
    replies = replies[replies["_parent"].notna() & (replies["_parent"] != "nan")]
    first = replies.sort_values("_when").groupby("_parent").first()
    customer = frame.loc[inbound]
    out = pd.DataFrame({
        "mention_id": customer["tweet_id"].to_numpy(),
        "posted_at": customer["created_at"].to_numpy(),
        "text": customer["text"].to_numpy(),
        "platform": "twitter",
        "author": customer["author_id"].to_numpy(),
        "in_reply_to": parent[inbound].replace("nan", None).to_numpy(),
    })
    ids = customer["tweet_id"]
    replied = first["_when"].reindex(ids.to_numpy())  # reindex, not map: an empty reply table keeps its dtype
    out["replied_at"] = [t.isoformat() if pd.notna(t) else None for t in replied]
    out["brand"] = first["author_id"].reindex(ids.to_numpy()).to_numpy()
    for col in ("_source", "_row"):
        if col in customer:
            out.insert(0, col, customer[col].to_numpy())
    return out


def read_mentions(path: str | Path, *, fmt: str = "mentions", mapping: dict[str, str] | None = None,
                  encoding: str = "utf-8"):
    """A validated mentions table (:class:`cxlens.io.LoadedTable`) from ``path``.

    ``fmt``: ``mentions`` (the canonical table, columns renamed by ``mapping``) or ``twcs``.
    """
    from cxlens.io import LoadedTable, SOURCE_COL, load_table, read_frame, validate_frame
    from cxlens.schema import MENTIONS

    if fmt == "mentions":
        return load_table(path, "mentions", mapping=mapping, encoding=encoding)
    if fmt != "twcs":
        raise ConfigError(f"Unknown mentions format {fmt!r}: use 'mentions' or 'twcs'.")
    raw, unreadable = read_frame(path, encoding=encoding)
    valid, quarantine = validate_frame(mentions_from_twcs(raw), MENTIONS, source=str(path), mapping=mapping)
    if len(unreadable):
        quarantine = pd.concat([quarantine, unreadable], ignore_index=True)
    if not len(valid):
        raise DataError(f"No customer tweets with an id, a time and a text in {path} (twcs format).")
    return LoadedTable(name="mentions", frame=valid.drop(columns=[SOURCE_COL], errors="ignore"),
                       quarantine=quarantine, sources=(str(path),))


# ---------------------------------------------------------------- flags


def parse_brands(spec: str | Sequence[str] | None) -> list[str]:
    """``"Acme, Acme Cloud"`` or a list -> cleaned brand names (order kept, duplicates dropped)."""
    if spec is None:
        return []
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    seen: dict[str, None] = {}
    for item in items:
        name = " ".join(str(item).split())
        if name:
            seen.setdefault(name, None)
    return list(seen)


def brands_mentioned(texts: Sequence[str], brands: Sequence[str]) -> list[str | None]:
    """Per text, the brands it names (``"a|b"``, lower-cased, in list order) or ``None``.

    A brand matches as a whole word or phrase, case-insensitively, also as ``@brand`` or
    ``#brand`` with spaces removed ("Acme Cloud" matches "acme cloud", "@AcmeCloud", "#acmecloud").
    Longer names are matched first and claim their words: "acme cloud" is not also "acme".
    """
    patterns = []
    for brand in brands:
        words = [re.escape(w) for w in brand.split()]
        spaced = r"\s+".join(words)
        joined = "".join(words)
        patterns.append((brand.lower(), re.compile(rf"(?<![\w@#])(?:{spaced}|[@#]{joined})(?!\w)", re.IGNORECASE)))
    longest_first = sorted(range(len(patterns)), key=lambda j: -len(patterns[j][0]))
    out: list[str | None] = []
    for text in texts:
        text = "" if text is None else str(text)
        found = set()
        for j in longest_first:  # "Acme Cloud" claims its words before "Acme" is looked for
            text, n = patterns[j][1].subn(" ", text)
            if n:
                found.add(j)
        hits = [patterns[j][0] for j in sorted(found)]
        out.append("|".join(hits) if hits else None)
    return out


def question_flags(texts: Sequence[str]) -> np.ndarray:
    """True where a post asks something: a question mark outside links, an opening question word, or a
    request phrase ("can you", "any update", "please advise")."""
    out = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        text = "" if text is None else _URL.sub(" ", str(text))
        out[i] = "?" in text or bool(_QUESTION_START.search(text.strip())) or bool(_QUESTION_PHRASE.search(text))
    return out


def complaint_flags(texts: Sequence[str], sentiment: Sequence[str], sentiment_score: Sequence[float]) -> np.ndarray:
    """True where a post complains: a complaint cue ("not working", "refund", "still waiting", ...) in a
    post that is not positive, or a clearly negative post (score <= -0.5).

    Cues are read after the lexicon's support rewrites, so "no problems at all" is no complaint.
    """
    from cxlens.nlp.sentiment import rewrite_support_phrases

    sentiment = np.asarray(sentiment, dtype=object)
    score = np.asarray(sentiment_score, dtype=np.float64)
    out = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        text = "" if text is None else str(text)
        cue = bool(_COMPLAINT_CUES.search(rewrite_support_phrases(text)))
        out[i] = (cue and sentiment[i] != "positive") or (sentiment[i] == "negative" and score[i] <= -0.5)
    return out


# ---------------------------------------------------------------- scoring


def scored_mentions(mentions: pd.DataFrame, *, brands: Sequence[str] = (), fast: bool = False,
                    model=None, batch_size: int = 512) -> pd.DataFrame:
    """``mentions`` with the scored columns added (see the module docstring); input columns are kept."""
    from cxlens.nlp.sentiment import score_sentiment

    if "text" not in mentions:
        raise MissingColumnsError(table="mentions", missing=["text"], present=list(mentions.columns))
    texts = mentions["text"].tolist()
    languages = None
    if "language" in mentions and mentions["language"].notna().all():
        languages = mentions["language"].tolist()
    scores = score_sentiment(texts, model=model, fast=fast, languages=languages, batch_size=batch_size)
    out = mentions.copy()
    for col in scores.columns:
        out[col] = scores[col].to_numpy()
    out["is_question"] = pd.array(question_flags(texts), dtype="boolean")
    out["is_complaint"] = pd.array(
        complaint_flags(texts, scores["sentiment"], scores["sentiment_score"]), dtype="boolean")
    if brands:
        found = brands_mentioned(texts, brands)
        out["brands_mentioned"] = found
        first = pd.Series([f.split("|")[0] if f else None for f in found], index=out.index, dtype=object)
        if "brand" in out:
            out["brand"] = out["brand"].where(out["brand"].notna(), first)
        else:
            out["brand"] = first
    return out


def negative_spikes(scored: pd.DataFrame, *, period: str = "day", k: float = 3.0, window: int = 7,
                    min_history: int = 3, min_count: int = 3, by: str | None = None,
                    examples: int = 3) -> pd.DataFrame:
    """Periods whose count of negative posts exceeds the trailing mean by ``k`` standard deviations.

    For each period (and each value of ``by``, e.g. ``brand``) the negative count is compared with the
    ``window`` periods before it (periods without posts count as 0; at least ``min_history`` of them are
    needed). A spike needs ``count > mean + k * std`` and ``count >= min_count``; with a flat history
    (std 0) any count above the mean by ``min_count`` or more is a spike. Returns one row per spike:
    ``period_start``, ``by`` value, ``negative_count``, ``trailing_mean``, ``trailing_std``, ``threshold``
    and ``examples`` (up to ``examples`` of the most negative posts, " || "-joined) and ``example_ids``.
    """
    if period not in PERIODS:
        raise ConfigError(f"Unknown period {period!r}: use one of {', '.join(PERIODS)}.")
    if k < 0 or window < 1:
        raise ConfigError(f"k must be >= 0 and window >= 1 (got k={k}, window={window}).")
    missing = [c for c in ("posted_at", "sentiment") if c not in scored]
    if missing:
        raise MissingColumnsError(table="scored mentions", missing=missing, present=list(scored.columns))
    columns = ["period_start", "negative_count", "trailing_mean", "trailing_std", "threshold", "examples",
               "example_ids"]
    if by:
        columns.insert(1, by)
    if not len(scored):
        return pd.DataFrame(columns=columns)
    posted = pd.to_datetime(scored["posted_at"], utc=True)
    period_freq, range_freq = PERIODS[period]
    start = posted.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period(period_freq).dt.start_time
    start = start.dt.tz_localize("UTC")
    frame = scored.assign(_period=start.to_numpy(), _neg=(scored["sentiment"] == "negative").to_numpy())
    groups = [(None, frame)] if not by else list(frame.groupby(frame[by].fillna("(none)"), sort=True))
    full_index = pd.date_range(start.min(), start.max(), freq=range_freq)
    rows = []
    for key, part in groups:
        counts = part.groupby("_period")["_neg"].sum().reindex(full_index, fill_value=0).astype(float)
        history = counts.shift(1).rolling(window, min_periods=min_history)
        mean, std = history.mean(), history.std(ddof=0)
        threshold = mean + k * std
        flat = std.fillna(0) == 0
        threshold = threshold.where(~flat, mean + min_count)
        spike = counts.gt(threshold) & counts.ge(min_count) & mean.notna()
        for when in counts.index[spike.to_numpy()]:
            negs = part[(part["_period"] == when) & part["_neg"]]
            if "sentiment_score" in negs:
                negs = negs.sort_values("sentiment_score", kind="stable")
            top = negs.head(examples)
            row = {"period_start": when, "negative_count": int(counts[when]), "trailing_mean": float(mean[when]),
                   "trailing_std": float(std[when]), "threshold": float(threshold[when]),
                   "examples": " || ".join(str(t) for t in top["text"]) if "text" in top else "",
                   "example_ids": "|".join(str(i) for i in top["mention_id"]) if "mention_id" in top else ""}
            if by:
                row[by] = key
            rows.append(row)
    return pd.DataFrame(rows, columns=columns)


# ---------------------------------------------------------------- wiring


def mentions_report(mentions: pd.DataFrame, *, brands: Sequence[str] = (), fast: bool = False, model=None,
                    period: str = "day", spike_k: float = 3.0, spike_window: int = 7,
                    quarantine: pd.DataFrame | None = None) -> MentionsReport:
    """Score the mentions and find the negative spikes (overall, and per brand when brands are known)."""
    scored = scored_mentions(mentions, brands=brands, fast=fast, model=model)
    spikes = negative_spikes(scored, period=period, k=spike_k, window=spike_window)
    if "brand" in scored and scored["brand"].notna().any():
        per_brand = negative_spikes(scored, period=period, k=spike_k, window=spike_window, by="brand")
        spikes = pd.concat([spikes.assign(brand="(all)"), per_brand], ignore_index=True)
    counts = scored["sentiment"].value_counts()
    n = len(scored)
    summary = {
        "mentions": n,
        "scorer": "lexicon" if fast else "model",
        "negative": int(counts.get("negative", 0)),
        "neutral": int(counts.get("neutral", 0)),
        "positive": int(counts.get("positive", 0)),
        "sentiment_index": round(100.0 * (counts.get("positive", 0) - counts.get("negative", 0)) / n, 2) if n else None,
        "questions": int(scored["is_question"].sum()),
        "complaints": int(scored["is_complaint"].sum()),
        "not_english": int((scored["sentiment_flag"] == "unsupported_language").sum()),
        "languages": {str(k): int(v) for k, v in scored["language"].value_counts().head(10).items()},
        "spikes": len(spikes),
        "period": period,
        "spike_k": spike_k,
    }
    return MentionsReport(scored=scored, spikes=spikes, summary=summary,
                          quarantine=quarantine if quarantine is not None else pd.DataFrame())


def write_mentions_report(report: MentionsReport, out_dir: str | Path, *, fmt: str = "csv") -> dict[str, Path]:
    """``mentions_scored.<csv|parquet>``, ``spikes.csv``, ``summary.json`` (+ quarantine) in ``out_dir``."""
    from cxlens.io import write_table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {"scored": write_table(report.scored, out / f"mentions_scored.{fmt}"),
               "spikes": write_table(report.spikes, out / "spikes.csv")}
    path = out / "summary.json"
    path.write_text(json.dumps(report.summary, indent=2, default=str) + "\n")
    written["summary"] = path
    if len(report.quarantine):
        written["quarantine"] = write_table(report.quarantine, out / "mentions_quarantine.csv")
    return written
