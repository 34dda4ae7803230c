"""Scoring one chunk of tickets and their messages: the part every engine shares.

:class:`ScoreHeads` holds the loaded models (request type, topic, sentiment, script QA) and is
built once per process (:func:`score_heads` caches it, so a Spark executor loads the models once,
not once per batch). The functions below are plain and engine-independent; the local engine
(:mod:`cxlens.pipelines.score._run`) and the Spark engine (:mod:`cxlens.pipelines.score._spark`) call them
on each chunk, so both give the same rows.

A text is encoded once per chunk, explicitly: the ticket texts and the customer messages of a chunk are
:class:`~cxlens.nlp.Texts` batches that share one :class:`~cxlens.nlp.VectorStore`, and every head reads
its vectors from the batch (``texts.vectors(head.text_encoder())``). Encoders keep no state between calls,
and a vector depends on its text alone, so a chunk's rows depend on that chunk alone whatever store the
engine passes (the local engine keeps one store for the whole run: a text seen in an earlier chunk is not
encoded again).
"""

from __future__ import annotations

import logging
from dataclasses import InitVar, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlens.nlp import TextPipeline, Texts, VectorStore

__all__ = ["HeadOptions", "ScoreHeads", "customer_texts", "heads_loaded", "mention_heads", "score_heads",
           "scored_messages", "scored_ticket_chunk", "steps_with_evidence", "ticket_sentiment"]

log = logging.getLogger(__name__)

SENTIMENT_ORDER = {"negative": 0, "neutral": 1, "positive": 2}
#: The shipped sentiment model ``cxlens score`` uses unless told otherwise (see :func:`_load_heads`).
SCORE_SENTIMENT_MODEL = "frozen"
#: Ticket texts per batch of the request-type and topic heads (results do not depend on it).
TICKET_BATCH = 512


@dataclass(frozen=True)
class HeadOptions:
    """What to score with. Everything is a path or a name, so options travel to Spark executors."""

    request_type_model: str | None = None      # folder of a TextClassifier; None = the shipped one
    request_types: str | None = None           # a taxonomy file (or a trained taxonomy folder) instead
    topic_model: str | None = None             # folder of a TopicModel; None = no topics
    sentiment_model: str | None = None         # folder or shipped name (tuned, frozen); None = frozen
    fast_sentiment: bool = False               # the lexicon instead of the model
    scorecard: str | None = None               # a scorecard file or shipped name; None = no script QA
    encoder: str = "minilm"
    device: str = "cpu"
    skip: tuple[str, ...] = ()                 # heads to leave out: request_type, topic, sentiment, qa
    # load a request-type folder of an older cxlens whose heads are pickled (head.joblib). An InitVar, kept as a
    # plain attribute: trusting a file changes no row, so it stays out of asdict (the run's fingerprint: a run
    # resumes with or without it), of equality and of the repr; replace() and pickling (Spark) keep it.
    trust_model: InitVar[bool] = False

    def __post_init__(self, trust_model: bool) -> None:
        object.__setattr__(self, "trust_model", trust_model is True)

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

    def ticket_pipeline(self, store: VectorStore | None = None) -> TextPipeline | None:
        """The request-type and topic heads as one :class:`~cxlens.nlp.TextPipeline` over ticket texts."""
        steps = [(name, head) for name, head in (("request_type", self.request_type), ("topic", self.topic))
                 if head is not None]
        return TextPipeline(steps, batch_size=TICKET_BATCH, store=store) if steps else None


#: The models loaded in this process, per options and trust (a Spark executor loads them once, not once per
#: chunk): a model loaded with trust is never handed to a caller who gave none. Models only: no vectors are kept.
_LOADED: dict[tuple[HeadOptions, bool], ScoreHeads] = {}


def _key(options: HeadOptions) -> tuple[HeadOptions, bool]:
    return options, options.trust_model


def heads_loaded(options: HeadOptions) -> bool:
    """Whether this process has loaded the models for ``options`` already."""
    return _key(options) in _LOADED


def score_heads(options: HeadOptions) -> ScoreHeads:
    """The models for ``options``, loaded once per process."""
    if _key(options) not in _LOADED:
        _LOADED[_key(options)] = _load_heads(options)
    return _LOADED[_key(options)]


def mention_heads(options: HeadOptions) -> ScoreHeads:
    """The heads that score the mentions: the run's sentiment model on the run's encoder.

    Where this process scored the chunks, their loaded heads are reused. Otherwise (a resumed run whose
    chunks were all done, the Spark engine's driver) only the sentiment model is loaded, not the
    request-type, topic and QA models. ``--skip sentiment`` leaves the chunks' heads out, not the
    mentions: they get the run's sentiment model all the same (their table is their sentiment).
    """
    loaded = _LOADED.get(_key(options))
    if loaded is not None and loaded.sentiment is not None:
        return loaded
    return score_heads(replace(options, skip=("qa", "request_type", "topic")))


def _load_heads(options: HeadOptions) -> ScoreHeads:
    from cxlens import __version__
    from cxlens.nlp.encoders import get_encoder

    heads = ScoreHeads(options=options, versions={"cxlens": __version__})
    heads.encoder = get_encoder(options.encoder)
    if options.device != "cpu" and hasattr(heads.encoder, "use_device"):
        heads.encoder.use_device(options.device)
    heads.versions["encoder"] = f"{options.encoder}: {heads.encoder!r}"
    if options.wants("request_type"):
        from cxlens.nlp.classify import load_classifier
        from cxlens.nlp.classify import DEFAULT_MODEL_DIR

        if options.request_types:
            from cxlens.nlp.classify import TaxonomyClassifier

            heads.request_type = TaxonomyClassifier(taxonomy=options.request_types,
                                                    trust_model=options.trust_model).fit()
            heads.versions["request_type"] = (f"taxonomy {options.request_types} "
                                              f"({heads.request_type.mode_})")
        else:
            folder = options.request_type_model or DEFAULT_MODEL_DIR
            heads.request_type = load_classifier(folder, trust_model=options.trust_model)
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
        if heads.sentiment.encoder_dir_ is None:  # a head on frozen vectors reads the run's encoder
            heads.sentiment.encoder = options.encoder
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


def scored_messages(messages: pd.DataFrame, heads: ScoreHeads, store: VectorStore | None = None) -> pd.DataFrame:
    """The messages with the sentiment columns filled for customer messages (nulls for other roles).

    ``store``: the chunk's :class:`~cxlens.nlp.VectorStore`, shared with the ticket heads."""
    from cxlens.nlp.sentiment import SENTIMENT_COLUMNS, score_sentiment

    out = messages.copy()
    if not heads.options.wants("sentiment") or "text" not in out:
        return out
    customer = (out["author_role"] == "customer").to_numpy(dtype=bool, na_value=False)
    texts = Texts(out.loc[customer, "text"].tolist(), store=store)
    if heads.sentiment is not None and not heads.options.fast_sentiment:
        scores = heads.sentiment.annotate(texts)
    else:
        scores = score_sentiment(texts.tolist(), fast=True)
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
    """``steps`` plus, for the first message where each found step was detected, ``evidence`` (the matched
    text span), ``evidence_message_id``, ``evidence_sentence`` (the sentence around it), ``evidence_score``
    and ``evidence_fired`` (what found it: ``rule``, ``semantic``, ``act``...); empty / NaN when not found."""
    out = steps.copy()
    out["evidence"], out["evidence_message_id"], out["evidence_sentence"] = "", "", ""
    out["evidence_score"], out["evidence_fired"] = np.nan, ""
    if not len(evidence) or not len(out):
        return out
    first = (evidence[evidence["kind"] == "step"].sort_values(["ticket_id", "position"], kind="mergesort")
             .drop_duplicates(["ticket_id", "script", "item"]).rename(columns={"item": "step"}))
    keyed = first.set_index(["ticket_id", "script", "step"])
    index = pd.MultiIndex.from_frame(out[["ticket_id", "script", "step"]])
    out["evidence"] = keyed["evidence"].reindex(index).fillna("").to_numpy()
    out["evidence_message_id"] = keyed["message_id"].reindex(index).astype("str").fillna("").to_numpy()
    for column, source in (("evidence_sentence", "sentence"), ("evidence_fired", "fired")):
        if source in keyed:
            out[column] = keyed[source].reindex(index).fillna("").astype(str).to_numpy()
    if "score" in keyed:
        out["evidence_score"] = keyed["score"].reindex(index).astype("float64").to_numpy()
    return out


def scored_ticket_chunk(tickets: pd.DataFrame, messages: pd.DataFrame | None, heads: ScoreHeads,
                        store: VectorStore | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None,
                                                                   pd.DataFrame | None]:
    """Score one chunk: ``(tickets, qa_conversations, qa_steps)``.

    ``messages`` are this chunk's messages already passed through :func:`scored_messages`.
    Tickets keep every column and gain the columns listed in docs/score-output.md. ``store``: the chunk's
    :class:`~cxlens.nlp.VectorStore` (the messages' vectors are reused for the same texts).
    """
    out = tickets.copy()
    text = customer_texts(out, messages)
    out["customer_text"] = text
    has_text = text.notna().to_numpy()
    texts = Texts(text[has_text].tolist(), store=store)
    pipeline = heads.ticket_pipeline(store)
    annotated = pipeline.annotate(texts) if pipeline is not None and len(texts) else None
    if heads.request_type is not None:
        label = pd.Series(None, index=out.index, dtype="str")
        confidence = pd.Series(np.nan, index=out.index, dtype="float64")
        if annotated is not None:
            label[has_text] = annotated["request_type"].to_numpy()
            confidence[has_text] = annotated["request_type_confidence"].to_numpy()
        out["request_type"], out["request_type_confidence"] = label, confidence
        if annotated is not None and "request_type_secondary" in annotated:
            second = pd.Series(None, index=out.index, dtype="str")
            second_conf = pd.Series(np.nan, index=out.index, dtype="float64")
            second[has_text] = annotated["request_type_secondary"].to_numpy()
            second_conf[has_text] = annotated["request_type_secondary_confidence"].to_numpy()
            out["request_type_secondary"], out["request_type_secondary_confidence"] = second, second_conf
    if heads.topic is not None:
        topic_id = pd.Series(pd.NA, index=out.index, dtype="Int64")
        topic = pd.Series(None, index=out.index, dtype="str")
        confidence = pd.Series(np.nan, index=out.index, dtype="float64")
        if annotated is not None:
            topic_id[has_text] = annotated["topic_id"].to_numpy()
            topic[has_text] = annotated["topic"].to_numpy()
            confidence[has_text] = annotated["topic_confidence"].to_numpy()
        out["topic_id"], out["topic"], out["topic_confidence"] = topic_id, topic, confidence
        for col, dtype in (("topic_parent_id", "Int64"), ("topic_parent", "str"), ("topic_secondary_id", "Int64"),
                           ("topic_secondary", "str")):  # the hierarchy and second topic (issue 21)
            values = pd.Series(pd.NA if dtype == "Int64" else None, index=out.index, dtype=dtype)
            if annotated is not None and col in annotated:
                values[has_text] = annotated[col].to_numpy()
            out[col] = values
    if heads.options.wants("sentiment"):
        fallback = None
        no_messages = messages is None or "sentiment" not in messages
        if no_messages and texts:
            from cxlens.nlp.sentiment import score_sentiment

            fallback_texts = Texts(text.fillna("").tolist(), store=store)
            scores = (heads.sentiment.annotate(fallback_texts)
                      if heads.sentiment is not None and not heads.options.fast_sentiment
                      else score_sentiment(fallback_texts.tolist(), fast=True))
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
