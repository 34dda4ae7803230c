"""TopicModel's two levels, second topics, determinism and saved-model compatibility (issue 21)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxlens.nlp.topics import TopicModel
from cxlens.pipelines.topics import topic_assignments, topic_table

DIM = 48
WORDS = {
    "billing": [["refund", "money"], ["charged", "twice"]],
    "account": [["password", "reset"], ["account", "locked"]],
    "music": [["playlist", "shuffle"], ["podcast", "episode"]],
}


def _unit(rng, n=None):
    v = rng.normal(size=(n or 1, DIM))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _planted(n_per_sub: int = 60, seed: int = 0):
    """Three subjects, each with two subtopics: vector = common + subject + 0.6 subtopic + noise (the common
    part makes every message somewhat similar to every other, as sentence embeddings are)."""
    rng = np.random.default_rng(seed)
    common = 1.2 * _unit(rng)[0]
    texts, subject, sub, vecs = [], [], [], []
    for s, (name, subs) in enumerate(WORDS.items()):
        base = _unit(rng)[0]
        for j, words in enumerate(subs):
            direction = _unit(rng)[0]
            for _ in range(n_per_sub):
                vecs.append(common + base + 0.6 * direction + 0.2 * rng.normal(size=DIM))
                texts.append(f"my {words[0]} {words[1]} issue {rng.integers(1000)}")
                subject.append(name)
                sub.append(f"{name}-{j}")
    x = np.asarray(vecs, dtype=np.float32)
    return texts, np.array(subject), np.array(sub), x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def planted():
    return _planted()


@pytest.fixture(scope="module")
def grouped(planted):
    texts, _, _, x = planted
    return TopicModel(max_parents=3).fit(texts, embeddings=x)


def test_topics_hierarchy_groups_subtopics_under_their_subject(grouped, planted):
    texts, subject, sub, _ = planted
    topics = grouped.topics_
    assert len(topics) > 3, "the six subtopics should not collapse into three topics"
    parents = grouped.parent_of_rows()
    assert len(set(parents)) <= 3
    parent_of = dict(zip(topics["id"], parents))
    message_parent = np.array([parent_of.get(int(t), -1) for t in grouped.labels_])
    for p in set(parents):
        members = subject[message_parent == p]
        assert pd.Series(members).value_counts(normalize=True).iloc[0] > 0.95  # one subject per parent
    # parents with subtopics have their own id, a unique name and the size of their children
    names = set(topics["label"])
    for row in grouped.parents_.itertuples():
        assert row.id not in set(topics["id"]) and row.label not in names
        assert row.size == topics.loc[topics["id"].isin(row.children), "size"].sum()
        assert set(topics.loc[topics["id"].isin(row.children), "level"]) == {"subtopic"}


def test_topics_hierarchy_each_topic_is_its_own_parent_below_max_parents(planted):
    texts, _, _, x = planted
    model = TopicModel(max_parents=20).fit(texts, embeddings=x)
    assert not len(model.parents_)
    assert (model.topics_["parent_id"] == model.topics_["id"]).all()
    assert set(model.topics_["level"]) == {"topic"}


def test_topics_hierarchy_assign_and_tables_agree(grouped, planted, tmp_path):
    texts, _, _, x = planted
    frame = grouped.assign(embeddings=x)
    parent_of = dict(zip(grouped.topics_["id"], grouped.parent_of_rows()))
    inner = frame["topic_id"] >= 0
    assert (frame.loc[inner, "topic_parent_id"] == frame.loc[inner, "topic_id"].map(parent_of)).all()
    assert (frame.loc[~inner, "topic_parent_id"] == -1).all()
    names = dict(zip(grouped.parents_["id"], grouped.parents_["label"]))
    sub = frame["topic_parent_id"].isin(list(names))
    assert (frame.loc[sub, "topic_parent"] == frame.loc[sub, "topic_parent_id"].map(names)).all()

    table = topic_table(grouped)
    assert {"id", "name", "label", "keywords", "parent_id", "parent_name", "level", "representative_1",
            "representative_3"} <= set(table.columns)
    assert (table["name"] == table["label"]).all() and table["name"].is_unique
    top = table[table["level"] == "topic"]
    assert len(top) <= 3 and (top["parent_id"] == top["id"]).all()
    leaves = table[table["n_subtopics"] == 0]
    assert leaves["size"].sum() + (grouped.labels_ == -1).sum() == len(texts)

    rows = topic_assignments(pd.DataFrame({"text": texts}), grouped, np.ones(len(texts), dtype=bool))
    assert rows["topic_parent_id"].tolist() == frame["topic_parent_id"].tolist()

    loaded = TopicModel.load(grouped.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(loaded.assign(embeddings=x), frame)


def test_topics_hierarchy_second_topic_only_for_mixed_messages(grouped, planted):
    texts, subject, sub, x = planted
    cents = {s: x[sub == s].mean(axis=0) for s in set(sub)}
    mixed = np.vstack([cents["billing-0"] + cents["music-1"]] * 5 + [cents["account-1"] + cents["billing-1"]] * 5)
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    frame = grouped.assign(embeddings=mixed)
    assert (frame["topic_secondary_id"] >= 0).mean() >= 0.8
    has = frame["topic_secondary_id"] >= 0
    # the second topic lies under another top-level topic than the first
    assert (frame.loc[has, "topic_secondary_id"].map(dict(zip(grouped.topics_["id"], grouped.parent_of_rows())))
            != frame.loc[has, "topic_parent_id"]).all()
    assert frame.loc[~has, "topic_secondary"].isna().all()
    pure = grouped.assign(embeddings=x)
    assert (pure["topic_secondary_id"] >= 0).mean() < 0.05


def test_topics_hierarchy_same_topics_for_same_data_any_order(planted):
    texts, _, _, x = planted
    first = TopicModel(max_parents=3, random_state=3).fit(texts, embeddings=x)
    again = TopicModel(max_parents=3, random_state=3).fit(texts, embeddings=x)
    assert first.topics_["label"].tolist() == again.topics_["label"].tolist()
    np.testing.assert_array_equal(first.labels_, again.labels_)
    order = np.random.default_rng(1).permutation(len(texts))
    shuffled = TopicModel(max_parents=3, random_state=9).fit([texts[i] for i in order], embeddings=x[order])
    back = np.empty_like(shuffled.labels_)
    back[order] = shuffled.labels_
    pairs = set(zip(first.labels_.tolist(), back.tolist()))
    assert len(pairs) == len(first.topics_) + int((first.labels_ == -1).any())  # the same partition


def test_topics_hierarchy_loads_a_version_1_folder(grouped, planted, tmp_path):
    texts, _, _, x = planted
    path = TopicModel().fit(texts, embeddings=x).save(tmp_path / "v1")
    meta = json.loads((path / "topic_model.json").read_text())
    meta["version"] = 1
    for key in ("max_parents", "secondary_min_confidence"):
        meta["params"].pop(key)
    (path / "topic_model.json").write_text(json.dumps(meta))
    records = json.loads((path / "topics.json").read_text())
    for rec in records:
        for key in ("name", "parent_id", "parent", "level"):
            rec.pop(key)
    (path / "topics.json").write_text(json.dumps(records))
    (path / "parents.json").unlink()
    (path / "parent_centroids.npy").unlink()
    old = TopicModel.load(path)
    frame = old.assign(embeddings=x)
    inner = frame["topic_id"] >= 0
    assert (frame.loc[inner, "topic_parent_id"] == frame.loc[inner, "topic_id"]).all()
    assert (frame.loc[inner, "topic_parent"] == frame.loc[inner, "topic"]).all()
    assert "level" in topic_table(old) and set(topic_table(old)["level"]) == {"topic"}


def test_topics_hierarchy_columns_reach_scored_tickets(planted):
    from cxlens.pipelines.score import HeadOptions, ScoreHeads, scored_ticket_chunk

    texts, _, _, x = planted

    class Lookup:
        """The planted vectors for the planted texts (a fixed vector for anything else)."""

        name = "lookup"

        def encode(self, batch):
            vectors = dict(zip(texts, x))
            return np.vstack([vectors.get(t, np.ones(DIM, dtype=np.float32)) for t in batch])

    encoder = Lookup()
    model = TopicModel(max_parents=3, encoder=encoder).fit(texts, embeddings=x)
    tickets = pd.DataFrame({"ticket_id": ["a", "b", "c"], "text": [texts[0], None, texts[-1]]})
    heads = ScoreHeads(options=HeadOptions(skip=("qa", "sentiment", "request_type")), encoder=encoder, topic=model)
    out, _, _ = scored_ticket_chunk(tickets, None, heads)
    expected = model.assign(embeddings=x[[0, -1]])
    for col in ("topic_parent_id", "topic_parent", "topic_secondary_id"):
        assert out.loc[[0, 2], col].tolist() == expected[col].tolist()
    assert out.loc[1, ["topic_id", "topic_parent_id", "topic_parent"]].isna().all()


def test_topics_hierarchy_parents_keep_their_ids_with_previous(grouped, planted, tmp_path):
    texts, _, _, x = planted
    order = np.random.default_rng(2).permutation(len(texts))
    again = TopicModel(max_parents=3, previous=str(grouped.save(tmp_path / "m"))).fit([texts[i] for i in order],
                                                                                      embeddings=x[order])
    before = dict(zip(grouped.parents_["id"], grouped.parents_["children"].map(sorted)))
    after = dict(zip(again.parents_["id"], again.parents_["children"].map(sorted)))
    assert after == before
    assert again.next_id_ == grouped.next_id_  # no id used twice, none wasted


def test_canonical_order_tells_apart_rows_equal_on_their_first_dimensions():
    import numpy as np

    from cxlens.nlp.topics._clustering import canonical_order

    rng = np.random.default_rng(3)
    x = np.hstack([np.zeros((200, 16)), rng.standard_normal((200, 8))])
    perm = rng.permutation(200)
    # the same rows in another input order come out in the same value order
    assert np.array_equal(x[canonical_order(x)], x[perm][canonical_order(x[perm])])
