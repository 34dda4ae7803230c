"""TopicModel: outlier bound, stable ids, seeding, merging, save/load; on a tiny synthetic corpus."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from cxlens.errors import ConfigError, NotFittedError
from cxlens.nlp.topics._model import OUTLIER_LABEL, TopicModel, load_seed_topics

VOCAB = {
    "refund": ["refund", "money", "charged", "twice", "billing", "payment"],
    "login": ["login", "password", "reset", "account", "locked", "email"],
    "shuffle": ["shuffle", "playlist", "song", "repeat", "queue", "order"],
    "offline": ["offline", "download", "storage", "sdcard", "cache", "sync"],
    "podcast": ["podcast", "episode", "show", "host", "series", "audio"],
}
FILLER = ["hi", "please", "help", "thanks", "app", "spotify", "today", "again"]


class WordHashEncoder:
    """A stateless toy encoder: each known topic word sits near its topic's anchor vector, any
    other word gets a small fixed random vector; a text is the normalised sum (no fit, no model)."""

    name = "word-hash"
    dim = 64

    def _rand(self, key: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.md5(key.encode()).digest()[:4], "little")
        return np.random.default_rng(seed).normal(size=self.dim) / np.sqrt(self.dim)

    def _vec(self, word: str) -> np.ndarray:
        for topic, words in VOCAB.items():
            if word in words:
                return self._rand("topic:" + topic) + 0.5 * self._rand(word)
        return 0.5 * self._rand(word)

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i] += self._vec(word)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def make_corpus(n_per_topic: int = 60, n_noise: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    texts, truth = [], []
    for topic, words in VOCAB.items():
        for _ in range(n_per_topic):
            texts.append(" ".join(list(rng.choice(words, 4)) + list(rng.choice(FILLER, 2))))
            truth.append(topic)
    junk = [f"zz{i}" for i in range(200)]
    for _ in range(n_noise):
        texts.append(" ".join(rng.choice(junk, 4)))
        truth.append("noise")
    return texts, np.array(truth)


@pytest.fixture(scope="module")
def corpus():
    texts, truth = make_corpus()
    return texts, truth, WordHashEncoder().encode(texts)


@pytest.fixture(scope="module")
def fitted(corpus):
    texts, _, x = corpus
    return TopicModel().fit(texts, embeddings=x)


def _purity(labels, truth) -> float:
    """Share of non-noise messages whose topic's majority truth is their own truth."""
    good = 0
    keep = truth != "noise"
    for topic in np.unique(labels[keep]):
        members = truth[keep][labels[keep] == topic]
        good += np.max(np.unique(members, return_counts=True)[1])
    return good / keep.sum()


def test_topics_model_finds_the_planted_topics(fitted, corpus):
    texts, truth, _ = corpus
    assert fitted.method_ == "smoothed-kmeans"
    assert len(fitted.topics_) >= 5
    assert _purity(fitted.labels_, truth) > 0.95
    labels = " ".join(fitted.topics_["label"]).lower()
    for word in ("refund", "login", "shuffle", "offline", "podcast"):
        assert word in labels or any(w in labels for w in VOCAB[word])
    assert set(fitted.topics_.columns) >= {"id", "label", "keywords", "size", "share", "representative_messages"}
    assert fitted.topics_["size"].sum() + (fitted.labels_ == -1).sum() == len(texts)
    assert all(len(r) == 3 for r in fitted.topics_["representative_messages"])


@pytest.mark.parametrize("cap", [0.15, 0.05, 0.0])
def test_topics_model_outlier_share_is_bounded(corpus, cap):
    texts, truth, x = corpus  # 40 of 340 messages (12%) are junk
    model = TopicModel(max_outlier_share=cap, min_confidence=0.99).fit(texts, embeddings=x)
    assert model.outlier_share_ <= cap + 1e-9
    assert np.mean(model.labels_ == -1) <= cap + 1e-9
    joined = model.labels_ >= 0
    assert np.all((model.confidence_ >= 0) & (model.confidence_ <= 1))
    if cap == 0.0:
        assert joined.all()


def test_topics_model_predict_agrees_with_fit(fitted, corpus):
    texts, _, x = corpus
    frame = fitted.assign(embeddings=x)
    assert list(frame.columns) == ["topic_id", "topic", "topic_confidence", "topic_parent_id", "topic_parent",
                                   "topic_secondary_id", "topic_secondary", "topic_secondary_confidence"]
    assert np.mean(frame["topic_id"].to_numpy() == fitted.labels_) > 0.97
    assert set(frame.loc[frame["topic_id"] == -1, "topic"]) <= {OUTLIER_LABEL}
    sims = fitted.transform(embeddings=x)
    assert sims.shape == (len(texts), len(fitted.topics_))


def test_topics_model_ids_are_stable_on_shuffled_refit(fitted, corpus, tmp_path):
    texts, _, x = corpus
    fitted.save(tmp_path / "run1")
    order = np.random.default_rng(7).permutation(len(texts))
    again = TopicModel(previous=str(tmp_path / "run1"), random_state=5).fit([texts[i] for i in order], embeddings=x[order])
    first = dict(zip(range(len(texts)), fitted.labels_))
    same = np.mean([again.labels_[pos] == first[i] for pos, i in enumerate(order) if first[i] >= 0])
    assert same > 0.95
    # every planted topic keeps its id (a refit in another order may split off a small cluster of junk)
    assert not again.topics_.loc[again.topics_["size"] >= 40, "is_new"].any()
    old_labels = dict(zip(fitted.topics_["id"], fitted.topics_["label"]))
    for row in again.topics_.itertuples():
        assert row.is_new or old_labels[row.id] == row.label


def test_topics_model_new_topic_gets_a_new_id(corpus, tmp_path):
    texts, truth, x = corpus
    without = truth != "podcast"
    old = TopicModel().fit([t for t, k in zip(texts, without) if k], embeddings=x[without])
    new = TopicModel(previous=old).fit(texts, embeddings=x)
    fresh = new.topics_[new.topics_["is_new"]]
    assert len(fresh) >= 1
    assert fresh["id"].min() >= old.next_id_
    assert any("podcast" in kw or "episode" in kw for kw in fresh["keywords"].sum())


def test_topics_model_seeds_name_their_topics(corpus):
    texts, truth, x = corpus
    seeds = [{"label": "billing", "description": "refund money payment",
              "examples": ["refund charged twice", "billing payment money"]},
             {"label": "sign-in", "examples": ["login password reset", "account locked email"]}]
    model = TopicModel(seed_topics=seeds, encoder=WordHashEncoder()).fit(texts, embeddings=x)
    names = np.array(model.topic_names(model.labels_))
    assert np.mean(names[truth == "refund"] == "billing") > 0.9
    assert np.mean(names[truth == "login"] == "sign-in") > 0.9
    assert model.topics_.set_index("label").loc[["billing", "sign-in"], "seed"].all()


def test_topics_model_seeds_without_encoder_fail_clearly(corpus):
    texts, _, x = corpus
    with pytest.raises(ConfigError, match="encoder"):
        TopicModel(seed_topics=["billing"]).fit(texts, embeddings=x)


@pytest.mark.parametrize("target", [2, 3])
def test_topics_model_merges_to_target(corpus, target):
    texts, truth, x = corpus
    model = TopicModel(n_topics=target).fit(texts, embeddings=x)
    assert len(model.topics_) == target
    assert set(np.unique(model.labels_)) <= set(model.topics_["id"]) | {-1}
    # merging never splits a planted topic
    for topic in VOCAB:
        ids, counts = np.unique(model.labels_[truth == topic], return_counts=True)
        assert counts.max() / counts.sum() > 0.9


def test_topics_model_kmeans_method(corpus):
    texts, _, x = corpus
    model = TopicModel(method="kmeans", n_topics=5).fit(texts, embeddings=x)
    assert model.method_ == "kmeans" and len(model.topics_) == 5


def test_topics_model_large_path_uses_a_sample(corpus):
    texts, truth, x = corpus
    model = TopicModel(large_threshold=100, sample_size=200).fit(texts, embeddings=x)
    assert model.method_ == "smoothed-kmeans-sample"
    assert _purity(model.labels_, truth) > 0.9


def test_topics_model_save_load_round_trip(fitted, corpus, tmp_path):
    texts, _, x = corpus
    path = fitted.save(tmp_path / "model")
    assert {p.name for p in path.iterdir()} == {"topic_model.json", "topics.json", "centroids.npy",
                                               "similarity_quantiles.npy", "parents.json", "parent_centroids.npy"}
    loaded = TopicModel.load(path)
    assert loaded.get_params()["max_outlier_share"] == fitted.max_outlier_share
    assert loaded.topics_[["id", "label", "size"]].equals(fitted.topics_[["id", "label", "size"]])
    np.testing.assert_array_equal(loaded.predict(embeddings=x), fitted.predict(embeddings=x))
    assert loaded.next_id_ == fitted.next_id_


def test_topics_model_not_fitted_and_bad_params():
    with pytest.raises(NotFittedError):
        TopicModel().predict(embeddings=np.ones((2, 3)))
    with pytest.raises(ConfigError, match="method"):
        TopicModel(method="lda").fit(["a b", "c d"], embeddings=np.eye(2))
    with pytest.raises(ConfigError, match="embeddings"):
        TopicModel().fit(["a b", "c d"])
    with pytest.raises(ConfigError, match="topic_model.json"):
        TopicModel.load("/nonexistent/dir")


def test_topics_model_seed_file_formats(tmp_path):
    (tmp_path / "s.csv").write_text("label,description,examples\nbilling,money,refund please|charged twice\n")
    (tmp_path / "s.json").write_text('[{"label": "billing", "examples": ["refund"]}, "login"]')
    assert load_seed_topics(tmp_path / "s.csv")[0]["examples"] == ["refund please", "charged twice"]
    assert [s["label"] for s in load_seed_topics(tmp_path / "s.json")] == ["billing", "login"]
    with pytest.raises(ConfigError, match="unique"):
        load_seed_topics(["a", "a"])


def test_topics_model_loaded_model_encodes_with_its_named_encoder(corpus, tmp_path, monkeypatch):
    from cxlens.nlp.encoders import _encoders as encoders

    monkeypatch.setitem(encoders._FACTORIES, "word-hash", WordHashEncoder)
    monkeypatch.delitem(encoders._INSTANCES, "word-hash", raising=False)
    texts, truth, _ = corpus
    model = TopicModel(encoder="word-hash").fit(texts)
    assert model.encoder_name_ == "word-hash" and not model.encoder_corpus_fitted_
    loaded = TopicModel.load(model.save(tmp_path / "m"))
    frame = loaded.assign(["refund money charged twice please", "shuffle playlist song repeat"])
    names = dict(zip(model.topics_["id"], model.topics_["label"]))
    assert frame["topic"].tolist() == [names[model.labels_[truth == "refund"][0]],
                                       names[model.labels_[truth == "shuffle"][0]]]
