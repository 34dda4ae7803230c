"""Readable topic descriptions: class-based TF-IDF keywords, labels, representative messages.

Class-based TF-IDF (c-TF-IDF, as in BERTopic) treats all messages of one topic as a
single document and weighs each term by how frequent it is *in that topic* against how
frequent it is *across topics*::

    w(t, c) = sqrt(tf(t, c) / words(c)) * log(1 + A / f(t)) * log(1 + k / o(t))

where ``tf(t, c)`` counts term ``t`` in topic ``c``, ``words(c)`` is the topic's word
count, ``A`` the average word count per topic, ``f(t)`` the term's count over all topics,
``k`` the number of topics and ``o(t)`` the number of topics in which the term is more
frequent than in the whole corpus.  The square root damps very frequent words (BERTopic's
``reduce_frequent_words``) and the last factor penalises terms over-represented in many
topics: terms every topic uses ("help", "spotify") score low; terms one topic uses a lot
score high.  A label is the top three distinctive keywords joined by `` / ``.

Texts are cleaned first: ``@handles``, URLs, HTML entities and digits are dropped, and
a short list of support-chat filler words joins scikit-learn's English stop words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = [
    "LABEL_SEPARATOR",
    "class_tfidf_keywords",
    "clean_text",
    "embedding_text",
    "representative_indices",
    "topic_label",
]

LABEL_SEPARATOR = " / "
MIN_REPRESENTATIVE_WORDS = 4
_HANDLE = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_ENTITY = re.compile(r"&[a-z]+;|&#\d+;")
_DIGITS = re.compile(r"\d+")
# Channel tags and speaker labels ("[call transcript] Customer: ...", "[image]", "Agent:"): they say how
# a message came, not what it is about, yet left in they pull every call transcript into one topic.
_TAG = re.compile(r"\[[^\]\n]{1,40}\]|(?:^|(?<=[\]\n.!?]))\s*(?:customer|agent|caller|rep|representative|"
                  r"user|client|me|system)\s*:", re.IGNORECASE)
# Words that carry no topic in support conversations (on top of sklearn's English list).
CHAT_STOP_WORDS = frozenset("""
hi hey hello thanks thank thx ty pls plz please yes yeah yep ok okay im ive dont cant doesnt didnt
isnt wont just like get got really know need want did does let lol u ur amp hii help guys
""".split())
_TOKEN_PATTERN = r"(?u)\b[^\W\d_][\w']*[^\W\d_]\b"


def clean_text(text: str) -> str:
    """Lower-case ``text`` without handles, URLs, HTML entities, channel tags, speaker labels or digits."""
    text = _URL.sub(" ", str(text))
    text = _TAG.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _ENTITY.sub(" ", text)
    text = _DIGITS.sub(" ", text)
    return text.lower().replace("\u2019", "'")


def embedding_text(text: str) -> str:
    """``text`` as given to the encoder: without handles, URLs, HTML entities, channel tags and speaker
    labels (``[call transcript]``, ``Customer:``; case kept).

    A leading ``@Brand`` is in every tweet to a brand; left in, it pulls short messages together
    whatever they say.  A text that is nothing but handles and links is kept as it was.
    """
    cleaned = " ".join(_ENTITY.sub(" ", _HANDLE.sub(" ", _TAG.sub(" ", _URL.sub(" ", str(text))))).split())
    return cleaned or str(text)


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = set(ENGLISH_STOP_WORDS) | CHAT_STOP_WORDS
    # the tokenizer keeps apostrophes: "don't" must be stopped as well as "dont"
    words |= {w.replace("nt", "n't") for w in CHAT_STOP_WORDS if w.endswith("nt")}
    words |= {"i'm", "i've", "it's", "that's", "there's", "what's", "you're", "i'll", "i'd", "can't"}
    return sorted(words)


def class_tfidf_keywords(texts: Sequence[str], labels: np.ndarray, *, n_keywords: int = 10,
                         ngram_range: tuple[int, int] = (1, 2), min_df: int = 2
                         ) -> dict[int, list[tuple[str, float]]]:
    """The ``n_keywords`` most distinctive terms of each topic, with their c-TF-IDF weights.

    ``labels[i]`` is the topic of ``texts[i]``; ``-1`` (outliers) is ignored.  Returns
    ``{topic: [(term, weight), ...]}`` best first; a bigram is skipped when its words are
    already listed, and vice versa, so the list stays informative.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels)
    keep = labels >= 0
    topics = np.unique(labels[keep])
    if not len(topics):
        return {}
    docs = [clean_text(t) for t, k in zip(texts, keep) if k]
    lab = labels[keep]
    vectorizer = CountVectorizer(stop_words=_stop_words(), token_pattern=_TOKEN_PATTERN,
                                 ngram_range=ngram_range, min_df=min(min_df, max(1, len(docs) // 50)))
    try:
        counts = vectorizer.fit_transform(docs)
    except ValueError:  # empty vocabulary: only stop words / symbols
        return {int(t): [] for t in topics}
    import scipy.sparse as sp

    index = np.searchsorted(topics, lab)
    onehot = sp.csr_matrix((np.ones(len(lab)), (index, np.arange(len(lab)))), shape=(len(topics), len(lab)))
    tf = np.asarray((onehot @ counts).todense(), dtype=np.float64)  # topics x terms
    words = tf.sum(axis=1, keepdims=True)
    freq = tf.sum(axis=0)
    avg = words.mean()
    weights = np.sqrt(tf) / np.maximum(np.sqrt(words), 1.0) * np.log1p(avg / np.maximum(freq, 1.0))
    # spread penalty: a term over-represented in many topics ("spotify", "app") is not distinctive
    rate = tf / np.maximum(words, 1.0)
    over = (rate > freq / max(freq.sum(), 1.0)).sum(axis=0)
    weights *= np.log1p(len(topics) / np.maximum(over, 1))
    terms = vectorizer.get_feature_names_out()
    result: dict[int, list[tuple[str, float]]] = {}
    for row, topic in enumerate(topics):
        order = np.argsort(-weights[row], kind="stable")
        chosen: list[tuple[str, float]] = []
        seen: set[str] = set()
        for j in order:
            if weights[row, j] <= 0 or len(chosen) >= n_keywords:
                break
            term = str(terms[j])
            parts = set(term.split())
            if len(parts) > 1 and parts <= seen:
                continue
            if len(parts) == 1 and any(term in c.split() for c, _ in chosen):
                continue
            seen |= parts
            chosen.append((term, round(float(weights[row, j]), 6)))
        result[int(topic)] = chosen
    return result


def topic_label(keywords: Sequence[str], *, n: int = 3, fallback: str = "topic") -> str:
    """``"premium / family plan / student"``: the top ``n`` keywords joined."""
    picked: list[str] = []
    words: set[str] = set()
    for keyword in keywords:
        parts = set(str(keyword).split())
        if not parts or parts & words:
            continue
        picked.append(str(keyword))
        words |= parts
        if len(picked) >= n:
            break
    return LABEL_SEPARATOR.join(picked) if picked else fallback


def representative_indices(embeddings: np.ndarray, centroid: np.ndarray, members: np.ndarray,
                           texts: Sequence[str], *, n: int) -> list[int]:
    """Up to ``n`` members nearest to ``centroid``, skipping near-duplicate texts.

    Messages of at least ``MIN_REPRESENTATIVE_WORDS`` words come first: "ok thanks" is often
    nearest to a centroid but tells an analyst nothing.
    """
    if not len(members):
        return []
    sims = embeddings[members] @ centroid
    short = np.array([len(clean_text(texts[i]).split()) < MIN_REPRESENTATIVE_WORDS for i in members])
    order = members[np.lexsort((-sims, short))]
    chosen: list[int] = []
    seen: set[str] = set()
    for i in order:
        key = " ".join(_HANDLE.sub(" ", _URL.sub(" ", str(texts[i]))).lower().split())
        if key in seen:
            continue
        seen.add(key)
        chosen.append(int(i))
        if len(chosen) >= n:
            break
    return chosen
