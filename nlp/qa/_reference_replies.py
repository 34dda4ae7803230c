"""Reply-vs-reference similarity: how close an agent's reply is to the reference replies of the intent.

Reference replies (e.g. the Bitext customer-support responses, one or more per intent) are
encoded once; each intent's prototype is the normalised mean of its replies' vectors. A
conversation's reply vector is the normalised mean of the vectors of its agent messages' sentences
(the same units the step detector encodes, so with a caching encoder they cost nothing more).
``reference_similarity`` is the cosine between the two, for conversations whose ``request_type``
has references. Across agents it is a consistency signal: who answers the same intent unlike the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens.errors import ConfigError, DataError, NotFittedError
from cxlens.nlp.qa._units import split_units, unit_text

__all__ = ["ReferenceReplies", "load_reference_replies"]

log = logging.getLogger(__name__)


def load_reference_replies(path: str | Path, *, intent_col: str = "intent", text_col: str = "response") -> pd.DataFrame:
    """``intent``, ``response`` rows from a CSV/JSONL/Parquet file (Bitext's CSV works as is)."""
    from cxlens.io import read_frame

    frame, unreadable = read_frame(path)
    if len(unreadable):
        log.warning("%s: %d reference repl(ies) could not be read and are left out (first: line %s, %s)", path,
                    len(unreadable), unreadable["_line"].iloc[0], unreadable["_reason"].iloc[0])
    missing = [c for c in (intent_col, text_col) if c not in frame]
    if missing:
        raise DataError(f"{path}: reference replies need the column(s) {', '.join(missing)} "
                        f"(found: {', '.join(map(str, frame.columns[:12]))}); set --reference-columns INTENT,TEXT.")
    out = frame[[intent_col, text_col]].rename(columns={intent_col: "intent", text_col: "response"}).dropna()
    out["intent"] = out["intent"].astype(str).str.strip().str.lower()
    return out.reset_index(drop=True)


def _mean_vectors(encoder, texts: Sequence[str], granularity: str) -> np.ndarray:
    owner, units = [], []
    for i, text in enumerate(texts):
        for a, b in split_units(text, granularity=granularity):
            owner.append(i)
            units.append(unit_text(text[a:b]))
    emb = encoder.encode(units) if units else np.zeros((0, 1), dtype=np.float32)
    out = np.zeros((len(texts), emb.shape[1]), dtype=np.float32)
    np.add.at(out, np.asarray(owner, dtype=np.int64), emb)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return out / norms


class ReferenceReplies:
    """Intent prototypes from reference replies, and the similarity of agent replies to them.

    Parameters
    ----------
    encoder : encoder object or name (default ``"minilm"``).
    granularity : ``"sentence"`` (default) or ``"message"``: units averaged into a reply vector.
    max_per_intent : at most this many replies per intent are encoded (a seeded sample).
    random_state : seed of that sample.
    """

    def __init__(self, *, encoder: object | str = "minilm", granularity: str = "sentence",
                 max_per_intent: int = 20, random_state: int = 0) -> None:
        self.encoder = encoder
        self.granularity = granularity
        self.max_per_intent = max_per_intent
        self.random_state = random_state

    def _enc(self):
        if isinstance(self.encoder, str):
            from cxlens.nlp.encoders import get_encoder

            return get_encoder(self.encoder)
        return self.encoder

    def fit(self, intents: Sequence[str], replies: Sequence[str]) -> ReferenceReplies:
        frame = pd.DataFrame({"intent": [str(i).strip().lower() for i in intents], "reply": list(replies)})
        frame = frame[frame["reply"].notna() & (frame["reply"].astype(str).str.strip() != "")]
        if frame.empty:
            raise ConfigError("ReferenceReplies.fit() got no reference replies.")
        frame = frame.sample(frac=1.0, random_state=self.random_state).groupby("intent").head(self.max_per_intent)
        vecs = _mean_vectors(self._enc(), frame["reply"].astype(str).tolist(), self.granularity)
        self.classes_ = np.array(sorted(frame["intent"].unique()))
        protos = np.stack([vecs[(frame["intent"] == c).to_numpy()].mean(0) for c in self.classes_])
        protos /= np.maximum(np.linalg.norm(protos, axis=1, keepdims=True), 1e-12)
        self.prototypes_ = protos.astype(np.float32)
        self.n_replies_ = frame["intent"].value_counts().reindex(self.classes_).to_numpy()
        return self

    def _check(self) -> None:
        if not hasattr(self, "prototypes_"):
            raise NotFittedError(self)

    def similarity_matrix(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine of each text (as a reply) with every intent prototype: ``(n, len(classes_))``."""
        self._check()
        return _mean_vectors(self._enc(), [str(t) for t in texts], self.granularity) @ self.prototypes_.T

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The intent whose references are closest to each text."""
        self._check()
        return self.classes_[self.similarity_matrix(texts).argmax(1)]

    def score_conversations(self, messages: pd.DataFrame, tickets: pd.DataFrame) -> pd.Series:
        """``reference_similarity`` per ticket_id: its agent messages vs its request type's references."""
        self._check()
        if "request_type" not in tickets:
            return pd.Series(dtype="float64", name="reference_similarity")
        agent = messages[messages["author_role"] == "agent"].sort_values(["ticket_id", "sent_at"], kind="mergesort")
        replies = agent.groupby("ticket_id", sort=False)["text"].agg(lambda s: "\n".join(s.fillna("").astype(str)))
        intent = tickets.drop_duplicates("ticket_id").set_index("ticket_id")["request_type"].astype(str).str.lower()
        intent = intent.reindex(replies.index)
        known = intent.isin(self.classes_).to_numpy()
        out = pd.Series(np.nan, index=replies.index, name="reference_similarity", dtype="float64")
        if known.any():
            sims = self.similarity_matrix(replies[known].tolist())
            col = pd.Index(self.classes_).get_indexer(intent[known])
            out[known] = sims[np.arange(len(col)), col]
        return out
