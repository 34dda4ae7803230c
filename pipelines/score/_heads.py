"""Scoring one chunk of tickets and their messages: the part every engine shares.

:class:`ScoreHeads` holds the loaded models (request type, topic, sentiment, script QA) and is
built once per process (:func:`score_heads` caches it, so a Spark executor loads the models once,
not once per batch). The functions below are plain and engine-independent; the local engine
(:mod:`cxlens.pipelines.score._run`) and the Spark engine (:mod:`cxlens.pipelines.score._spark`) call them
on each chunk, so both give the same rows.

The text of a message is encoded once per chunk: every head gets its vectors from the shared
encoder's in-run cache (:func:`cxlens.nlp.encoders._encoders.get_encoder`), which is keyed by the text and
emptied at the start of each chunk (:func:`cxlens.pipelines.score._run.fresh_cache`: int8 vectors depend
slightly on their batch, so a chunk must not reuse vectors from other chunks' batches).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["HeadOptions", "ScoreHeads", "customer_texts", "mention_heads", "score_heads", "scored_messages",
           "scored_ticket_chunk", "steps_with_evidence", "ticket_sentiment"]

log = logging.getLogger(__name__)

SENTIMENT_ORDER = {"negative": 0, "neutral": 1, "positive": 2}
#: The shipped sentiment model ``cxlens score`` uses unless told otherwise (see :func:`_load_heads`).
SCORE_SENTIMENT_MODEL = "frozen"


@dataclass(frozen=True)
class HeadOptions:
    """What to score with. Everything is a path or a name, so options travel to Spark executors."""

    request_type_model: str | None = None      # folder of a TextClassifier; None = the shipped one
    topic_model: str | None = None             # folder of a TopicModel; None = no topics
    sentiment_model: str | None = None         # folder or shipped name (tuned, frozen); None = frozen
    fast_sentiment: bool = False               # the lexicon instead of the model
    scorecard: str | None = None               # a scorecard file or shipped name; None = no script QA
    encoder: str = "minilm"
    device: str = "cpu"
    skip: tuple[str, ...] = ()                 # heads to leave out: request_type, topic, sentiment, qa

    def wants(self, head: str) -> bool:
        return head not in self.skip


@dataclass
class ScoreHeads:
    """Loaded models; any may be ``None`` (that head is skipped)."""

    options: HeadOptions
    encoder: Any = None
    request_type: Any = None
    topic: Any = None
    sentiment: Any = None
    qa: Any = None
    versions: dict[str, str] = field(default_factory=dict)

    def encoders(self) -> list:
        """Every encoder the heads use: the run's shared one, and the own encoder of each fine-tuned model
        (a tuned sentiment model, a ``head="finetune"`` request-type model). Each has an in-run cache that the
        engines empty before a chunk (:func:`cxlens.pipelines.score._run.fresh_caches`)."""
        found = [self.encoder] if self.encoder is not None else []
        sentiment = getattr(self.sentiment, "head", None)
        for model in (self.request_type, sentiment):
            if model is not None and _has_own_encoder(model):
                own = model._encoder()
                if all(own is not e for e in found):
                    found.append(own)
        return found


_CACHE: dict[HeadOptions, ScoreHeads] = {}


def score_heads(options: HeadOptions) -> ScoreHeads:
    """The models for ``options``, loaded once per process."""
    if options not in _CACHE:
        _CACHE[options] = _load_heads(options)
    return _CACHE[options]


def mention_heads(options: HeadOptions) -> ScoreHeads:
    """The heads that score the mentions: the run's sentiment model on the run's encoder.

    Where this process scored the chunks, their loaded heads are reused. Otherwise (a resumed run whose
    chunks were all done, the Spark engine's driver) only the sentiment model is loaded, not the
    request-type, topic and QA models. ``--skip sentiment`` leaves the chunks' heads out, not the
    mentions: they get the run's sentiment model all the same (their table is their sentiment).
    """
    loaded = _CACHE.get(options)
    if loaded is not None and loaded.sentiment is not None:
        return loaded
    return score_heads(replace(options, skip=("qa", "request_type", "topic")))


def _load_heads(options: HeadOptions) -> ScoreHeads:
    from cxlens import __version__
    from cxlens.nlp.encoders import get_encoder

    heads = ScoreHeads(options=options, versions={"cxlens": __version__})
    heads.encoder = get_encoder(options.encoder)
    if hasattr(heads.encoder, "clear_cache"):  # the QA fit below must not reuse vectors of other batches
        heads.encoder.clear_cache()
    if options.device != "cpu" and hasattr(heads.encoder, "use_device"):
        heads.encoder.use_device(options.device)
    heads.versions["encoder"] = f"{options.encoder}: {heads.encoder!r}"
    if options.wants("request_type"):
        from cxlens.nlp.classify import load_classifier
        from cxlens.nlp.classify import DEFAULT_MODEL_DIR

        folder = options.request_type_model or DEFAULT_MODEL_DIR
        heads.request_type = load_classifier(folder)
        heads.versions["request_type"] = _model_name(folder, "shipped request-type model")
    if options.wants("topic") and options.topic_model:
        from cxlens.nlp.topics import TopicModel

        heads.topic = TopicModel.load(options.topic_model)
        heads.versions["topic"] = _model_name(options.topic_model, "topic model")
    if options.wants("sentiment") and not options.fast_sentiment:
        from cxlens.nlp.sentiment import load_sentiment_model

        # default: the head on frozen encoder vectors, so the messages' vectors are the ones the run's encoder
        # makes anyway (a ticket's text is usually its first customer message): each text is encoded once.
        # The tuned model (``sentiment_model="tuned"``) encodes them again with its own encoder.
        heads.sentiment = load_sentiment_model(options.sentiment_model or SCORE_SENTIMENT_MODEL)
        if not _has_own_encoder(heads.sentiment.head):
            heads.sentiment.head.encoder = options.encoder  # what it encodes itself (mentions): the run's encoder
        heads.versions["sentiment"] = (f"shipped sentiment model {SCORE_SENTIMENT_MODEL!r}"
                                       if options.sentiment_model is None else
                                       _model_name(options.sentiment_model, "sentiment model"))
    elif options.wants("sentiment"):
        heads.versions["sentiment"] = "lexicon (VADER + support-domain rules)"
    if options.wants("qa") and options.scorecard:
        from cxlens.pipelines.qa import qa_detector

        heads.qa = qa_detector(options.scorecard, encoder=heads.encoder)
        heads.versions["qa"] = f"scorecard {heads.qa.scorecard.name}"
    return heads


def _model_name(folder: str | Path | None, default: str) -> str:
    return default if folder is None else f"{default} at {folder}"


# ---------------------------------------------------------------- messages


def _has_own_encoder(model) -> bool:
    """A fine-tuned model encodes with its own encoder: it gets texts, and the shared vectors are not made for it."""
    return getattr(model, "encoder_dir_", None) is not None


def scored_messages(messages: pd.DataFrame, heads: ScoreHeads) -> pd.DataFrame:
    """The messages with the sentiment columns filled for customer messages (nulls for other roles)."""
    from cxlens.nlp.sentiment import SENTIMENT_COLUMNS, normalise_post, score_sentiment

    out = messages.copy()
    if not heads.options.wants("sentiment") or "text" not in out:
        return out
    customer = (out["author_role"] == "customer").to_numpy(dtype=bool, na_value=False)
    texts = out.loc[customer, "text"].tolist()
    embeddings = None
    if heads.sentiment is not None and texts and not _has_own_encoder(heads.sentiment.head):
        embeddings = heads.encoder.encode([normalise_post(t) for t in texts])
    scores = score_sentiment(texts, model=heads.sentiment, fast=heads.options.fast_sentiment,
                             embeddings=embeddings)
    for col in SENTIMENT_COLUMNS:
        numeric = col in ("sentiment_score", "sentiment_confidence")
        values = pd.Series(float("nan") if numeric else None, index=out.index,
                           dtype="float64" if numeric else "str")
        values.loc[customer] = scores[col].to_numpy()
        out[col] = values
    return out


# ---------------------------------------------------------------- tickets


def customer_texts(tickets: pd.DataFrame, messages: pd.DataFrame | None) -> pd.Series:
    """What the heads read per ticket: ``text``, else ``subject``, else the first customer message."""
    text = tickets["text"] if "text" in tickets else pd.Series(None, index=tickets.index, dtype="str")
    if "subject" in tickets:
        text = text.fillna(tickets["subject"])
    if messages is not None and len(messages) and "text" in messages and text.isna().any():
        customer = messages[messages["author_role"] == "customer"]
        first = customer.sort_values("sent_at", kind="mergesort").drop_duplicates("ticket_id")
        text = text.fillna(tickets["ticket_id"].map(first.set_index("ticket_id")["text"]))
    return text.astype("str")


def ticket_sentiment(tickets: pd.DataFrame, messages: pd.DataFrame | None,
                     fallback: pd.DataFrame | None) -> pd.DataFrame:
    """Per ticket: the majority label of its customer messages (ties to the more negative) and their mean score.

    ``fallback`` (sentiment of the customer text, one row per ticket) is used for tickets without
    scored customer messages.
    """
    label = pd.Series(None, index=tickets.index, dtype="str")
    score = pd.Series(np.nan, index=tickets.index, dtype="float64")
    if messages is not None and len(messages) and "sentiment" in messages:
        scored = messages[messages["sentiment"].notna() & (messages["sentiment_flag"].fillna("") != "no_text")]
        if len(scored):
            counts = pd.crosstab(scored["ticket_id"], scored["sentiment"])
            counts = counts.reindex(columns=list(SENTIMENT_ORDER), fill_value=0)
            majority = counts.idxmax(axis=1)  # idxmax takes the first maximum: negative before neutral
            label = tickets["ticket_id"].map(majority).astype("str")
            score = tickets["ticket_id"].map(scored.groupby("ticket_id")["sentiment_score"].mean()).astype("float64")
    if fallback is not None:
        missing = label.isna().to_numpy()
        label[missing] = fallback["sentiment"].to_numpy()[missing]
        score[missing] = fallback["sentiment_score"].to_numpy()[missing]
    return pd.DataFrame({"sentiment": label, "sentiment_score": score})


def steps_with_evidence(steps: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """``steps`` plus ``evidence`` (the matched text span) and ``evidence_message_id`` of the first
    message where each found step was detected (empty when the step was not found)."""
    out = steps.copy()
    out["evidence"], out["evidence_message_id"] = "", ""
    if not len(evidence) or not len(out):
        return out
    first = (evidence[evidence["kind"] == "step"].sort_values(["ticket_id", "position"], kind="mergesort")
             .drop_duplicates(["ticket_id", "script", "item"]).rename(columns={"item": "step"}))
    keyed = first.set_index(["ticket_id", "script", "step"])
    index = pd.MultiIndex.from_frame(out[["ticket_id", "script", "step"]])
    out["evidence"] = keyed["evidence"].reindex(index).fillna("").to_numpy()
    out["evidence_message_id"] = keyed["message_id"].reindex(index).astype("str").fillna("").to_numpy()
    return out


def scored_ticket_chunk(tickets: pd.DataFrame, messages: pd.DataFrame | None,
                        heads: ScoreHeads) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Score one chunk: ``(tickets, qa_conversations, qa_steps)``.

    ``messages`` are this chunk's messages already passed through :func:`scored_messages`.
    Tickets keep every column and gain the columns listed in docs/score-output.md.
    """
    out = tickets.copy()
    text = customer_texts(out, messages)
    out["customer_text"] = text
    has_text = text.notna().to_numpy()
    texts = text[has_text].tolist()
    own_encoder = heads.request_type is not None and _has_own_encoder(heads.request_type)
    shared_needed = heads.topic is not None or (heads.request_type is not None and not own_encoder)
    vectors = heads.encoder.encode(texts) if texts and shared_needed else None
    if heads.request_type is not None:
        label = pd.Series(None, index=out.index, dtype="str")
        confidence = pd.Series(np.nan, index=out.index, dtype="float64")
        if texts:
            labels, conf = heads.request_type.predict_confidence(texts if own_encoder else vectors)
            label[has_text] = labels
            confidence[has_text] = conf
        out["request_type"], out["request_type_confidence"] = label, confidence
    if heads.topic is not None:
        topic_id = pd.Series(pd.NA, index=out.index, dtype="Int64")
        topic = pd.Series(None, index=out.index, dtype="str")
        confidence = pd.Series(np.nan, index=out.index, dtype="float64")
        if texts:
            assigned = heads.topic.assign(texts, embeddings=vectors)
            topic_id[has_text] = assigned["topic_id"].to_numpy()
            topic[has_text] = assigned["topic"].to_numpy()
            confidence[has_text] = assigned["topic_confidence"].to_numpy()
        out["topic_id"], out["topic"], out["topic_confidence"] = topic_id, topic, confidence
    if heads.options.wants("sentiment"):
        fallback = None
        no_messages = messages is None or "sentiment" not in messages
        if no_messages and texts:
            from cxlens.nlp.sentiment import score_sentiment

            scores = score_sentiment(text.fillna("").tolist(), model=heads.sentiment,
                                     fast=heads.options.fast_sentiment)
            fallback = scores[["sentiment", "sentiment_score"]]
        sentiment = ticket_sentiment(out, None if no_messages else messages, fallback)
        out["sentiment"], out["sentiment_score"] = sentiment["sentiment"], sentiment["sentiment_score"]
    conversations = steps = None
    if heads.qa is not None and messages is not None and len(messages):
        from cxlens.nlp.qa import score_script_qa

        result = score_script_qa(heads.qa, messages, out)
        conversations, steps = result.conversations, steps_with_evidence(result.steps, result.evidence)
        conv = conversations.set_index("ticket_id")
        out["script_adherence"] = out["ticket_id"].map(conv["script_adherence"]).astype("float64")
        out["auto_fail"] = out["ticket_id"].map(conv["auto_fail"].astype(object)).astype("boolean")
    return out, conversations, steps
