"""Topic names in plain words: a short key phrase taken from the topic's own messages.

A name is a phrase customers actually wrote ("refund not received", "lost luggage", "card
declined"), chosen in three steps:

1. **candidates** -- every run of one to ``MAX_PHRASE_WORDS`` words inside a clause (clauses end at
   punctuation) whose first and last words are content words (not stop words, chat filler,
   pronouns or negations); inside, linking words ("on", "for", "not", "after"...) are allowed, so
   "app crashes on login" and "refund not received" are candidates and "my the" is not.  A
   blank English tokenizer of our own (regular expressions; no trained spaCy pipeline is needed,
   none is shipped).
2. **score against the cluster** -- with ``df_c`` the share of the topic's messages that contain
   the phrase and ``prec`` the share of all messages containing it that are in the topic::

       score = df_c * sqrt(prec) * (1 + LENGTH_BONUS * (words - 1))

   frequent in the topic, rare elsewhere, and longer phrases preferred when nearly as frequent.
3. **closest in meaning** (when an encoder is available) -- the ``N_RERANK`` best candidates are
   embedded and the name is the one maximising::

       own + CONTRAST * (own - other) + SCORE_WEIGHT * score / best_score

   where ``own`` is the cosine of the phrase to the topic centroid and ``other`` its cosine to
   the nearest other topic: the phrase that says what this topic's messages say and its
   neighbours' do not (on BANKING77 topics this lifted the top-1 agreement of names with the
   majority intent from 0.41 without re-ranking to 0.60; docs/benchmarks.md).

Names are unique: topics are named largest first and a topic whose best phrase is taken gets its
next one.  Words written in capitals by most customers ("ATM", "PIN") keep their capitals; the
first letter is capitalised.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from cxlens.nlp.topics._labels import CHAT_STOP_WORDS, clean_text

__all__ = ["MAX_PHRASE_WORDS", "name_topics", "phrase_candidates"]

MAX_PHRASE_WORDS = 4
LENGTH_BONUS = 1.0
N_RERANK = 50
#: weight of the frequency score against the meaning (cosine) when re-ranking
SCORE_WEIGHT = 0.1
#: weight of how much closer the phrase is to its own topic than to the nearest other one
CONTRAST = 3.0
#: words allowed inside a phrase but never at its start or end
LINK_WORDS = frozenset("""
of on to for in not no with from at after before by and or into off out up over without while when
""".split())
_NEGATIONS = frozenset("""
not no never don't doesn't didn't isn't aren't wasn't weren't won't can't couldn't haven't hasn't
""".split())
_CLAUSE = re.compile(r"[.!?;:,()\[\]\"\n|/]+|\s-\s")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
_BAD_EDGE_EXTRA = frozenset("""
i'm i've i'd i'll you're we're they're it's that's there's what's let's im ive id ill youre
anyone someone something anything everything nothing thing things way lot bit today yesterday
tomorrow now still already also even ever far much many soon since back day days time times
year years week weeks hour hours minute minutes mins guys sir madam team someone's
keep keeps kept look looks looked happen happens happened make makes made sure try tries tried trying
says said seems seemed lol haha ok okay yes nope yeah
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
monday tuesday wednesday thursday friday saturday sunday weekend morning afternoon evening tonight
""".split())


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | CHAT_STOP_WORDS | _BAD_EDGE_EXTRA | _NEGATIONS


def _clauses(text: str) -> list[list[str]]:
    return [words for part in _CLAUSE.split(clean_text(text)) if (words := _WORD.findall(part))]


def phrase_candidates(text: str, *, stop_words: frozenset[str] | None = None,
                      max_words: int = MAX_PHRASE_WORDS) -> set[str]:
    """The candidate phrases of one message (lower case, space-separated)."""
    stop = _stop_words() if stop_words is None else stop_words
    out: set[str] = set()
    for words in _clauses(text):
        edge_ok = [w not in stop and len(w) > 1 for w in words]
        inner_ok = [ok or w in LINK_WORDS or w in _NEGATIONS for w, ok in zip(words, edge_ok)]
        for i in range(len(words)):
            if not edge_ok[i]:
                continue
            for j in range(i, min(len(words), i + max_words)):
                if not inner_ok[j]:
                    break
                if edge_ok[j] and len(set(words[i:j + 1])) == j + 1 - i:  # "song song" names nothing
                    out.add(" ".join(words[i:j + 1]))
    return out


def _phrase_scores(texts: Sequence[str], labels: np.ndarray, groups: list[int]):
    """``(phrases, scores)``: scores[g, p] for each group in ``groups`` (labels ``-1`` ignored)."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer

    stop = _stop_words()
    keep = labels >= 0
    docs = [t for t, k in zip(texts, keep) if k]
    lab = labels[keep]
    if not docs:
        return np.array([], dtype=object), np.zeros((len(groups), 0))
    vectorizer = CountVectorizer(analyzer=lambda t: sorted(phrase_candidates(t, stop_words=stop)), binary=True,
                                 min_df=min(2, len(docs)))
    try:
        counts = vectorizer.fit_transform(docs).tocsc()
    except ValueError:  # no candidate phrase at all
        return np.array([], dtype=object), np.zeros((len(groups), 0))
    phrases = vectorizer.get_feature_names_out()
    index = {g: i for i, g in enumerate(groups)}
    rows = np.array([index.get(int(v), -1) for v in lab])
    ok = rows >= 0
    onehot = sp.csr_matrix((np.ones(int(ok.sum())), (rows[ok], np.flatnonzero(ok))), shape=(len(groups), len(lab)))
    df_c = np.asarray((onehot @ counts).todense(), dtype=np.float64)  # groups x phrases
    df_all = np.asarray(counts.sum(axis=0), dtype=np.float64).ravel()
    sizes = np.maximum(np.bincount(rows[ok], minlength=len(groups)), 1)[:, None]
    n_words = np.array([p.count(" ") + 1 for p in phrases], dtype=np.float64)
    scores = (df_c / sizes) * np.sqrt(df_c / np.maximum(df_all, 1.0)) * (1.0 + LENGTH_BONUS * (n_words - 1))
    scores[df_c < 2] = 0.0  # a phrase one customer wrote once names nothing
    return phrases, scores


def _cased(names: list[str], texts: Sequence[str]) -> list[str]:
    """Names with the capitals most writers use for a word ("ATM", "October" after the first word),
    first letter capitalised."""
    wanted = {w for name in names for w in name.split()}
    forms: dict[str, Counter] = {w: Counter() for w in wanted}
    for text in texts:
        for word in _WORD.findall(str(text)):
            low = word.lower()
            if low in forms:
                forms[low][word] += 1
    out = []
    for name in names:
        words = []
        for i, w in enumerate(name.split()):
            form, count = forms[w].most_common(1)[0] if forms[w] else (w, 0)
            total = sum(forms[w].values())
            keep = count > total / 2 and len(form) > 1 and (form.isupper() or (i > 0 and form[0].isupper()))
            words.append(form if keep else w)
        phrase = " ".join(words)
        out.append(phrase[:1].upper() + phrase[1:])
    return out


def name_topics(texts: Sequence[str], labels: np.ndarray, groups: Sequence[int], *,
                centroids: np.ndarray | None = None, encoder=None, taken: Sequence[str] = (),
                fallbacks: Sequence[str] | None = None) -> list[str]:
    """A unique plain-words name for each group in ``groups`` (in that order of priority).

    ``labels[i]`` is the group of ``texts[i]`` (``-1`` ignored).  With ``encoder`` and
    ``centroids`` (one normalised row per group, in the encoder's space) the best candidates are
    re-ranked by meaning.  ``taken``: names already used elsewhere (other level of the hierarchy).
    A group without any usable phrase gets its ``fallbacks`` entry (e.g. its first keyword; made
    unique) or ``"Topic N"``.
    """
    groups = [int(g) for g in groups]
    labels = np.asarray(labels)
    phrases, scores = _phrase_scores(texts, labels, groups)
    shortlists: list[list[tuple[str, float]]] = []
    for row in range(len(groups)):
        order = np.argsort(-scores[row], kind="stable")[:N_RERANK * 3] if scores.shape[1] else []
        shortlists.append([(str(phrases[j]), float(scores[row, j])) for j in order if scores[row, j] > 0])
    if encoder is not None and centroids is not None:
        shortlists = _reranked(shortlists, np.asarray(centroids, dtype=np.float32), encoder)
    used = {t.lower() for t in taken}
    chosen: list[str | None] = []
    for row, short in enumerate(shortlists):
        name = next((p for p, _ in short if p.lower() not in used), None)
        if name is not None:
            used.add(name.lower())
        chosen.append(name)
    keep = labels >= 0
    cased = _cased([c for c in chosen if c], [t for t, k in zip(texts, keep) if k])
    it = iter(cased)
    out = []
    for row, c in enumerate(chosen):
        if c:
            out.append(next(it))
            continue
        base = (fallbacks[row] if fallbacks is not None and fallbacks[row] else f"Topic {groups[row]}")
        base = base[:1].upper() + base[1:]
        name, extra = base, 2
        while name.lower() in used:
            name, extra = f"{base} ({extra})", extra + 1
        used.add(name.lower())
        out.append(name)
    return out


def _reranked(shortlists: list[list[tuple[str, float]]], centroids: np.ndarray, encoder
              ) -> list[list[tuple[str, float]]]:
    """Each shortlist's first ``N_RERANK`` sorted by ``cosine(phrase, centroid) + score / best``."""
    from cxlens.nlp.topics._clustering import normalise

    heads = [s[:N_RERANK] for s in shortlists]
    unique = sorted({p for head in heads for p, _ in head})
    if not unique:
        return shortlists
    vecs = normalise(np.asarray(encoder.encode(unique), dtype=np.float32))
    at = {p: i for i, p in enumerate(unique)}
    all_cos = vecs @ centroids.T  # phrases x groups
    out = []
    for row, (head, short) in enumerate(zip(heads, shortlists)):
        if not head:
            out.append(short)
            continue
        best = max(s for _, s in head)
        cos = all_cos[[at[p] for p, _ in head]]
        own = cos[:, row]
        other = np.delete(cos, row, axis=1).max(axis=1) if cos.shape[1] > 1 else np.zeros(len(head))
        value = own + CONTRAST * (own - other) + SCORE_WEIGHT * np.array([s for _, s in head]) / best
        order = np.argsort(-value, kind="stable")
        out.append([(head[i][0], float(value[i])) for i in order] + short[N_RERANK:])
    return out
