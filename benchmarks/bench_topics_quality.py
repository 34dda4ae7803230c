"""Benchmark: topic discovery on real messages vs BERTopic, on the same vectors in the same run (issue 21).

    python benchmarks/bench_topics_quality.py                       # BANKING77 train + airline complaints
    /work/bt-venv/bin/python benchmarks/bench_topics_quality.py     # ... beside BERTopic (installed there)
    python benchmarks/bench_topics_quality.py --datasets banking77 --skip-bertopic

Corpora (../shared/data), each with gold classes:

* ``banking77``: the BANKING77 train split (10,003 queries, 77 intents; ``text``, ``category``).
* ``airline``: the negative tweets of the airline train split with a complaint reason other than
  "Can't Tell" (6,443 tweets, 9 reasons; ``text``, ``negativereason``).  Measure only: the data
  is non-commercial.

Both are encoded once with the shipped MiniLM encoder, as ``cxlens topics discover`` does
(:func:`cxlens.pipelines.topics.message_embeddings`), and cached as ``benchmarks/_data/
topics_quality/<name>.npy`` (git-ignored).  Then, in one run, with fixed seeds:

* **cxlens**: ``TopicModel(encoder=<the MiniLM encoder>).fit(texts, embeddings=vectors)`` with its
  defaults (the encoder only embeds candidate names).
* **BERTopic** (if importable): ``BERTopic()`` defaults on the same vectors (``embeddings=``, no
  embedding model), except that UMAP gets ``random_state=42`` so the run repeats; and its
  ``reduce_outliers`` (strategy ``"embeddings"``) on the same vectors.  Not a cxlens dependency;
  install it in a separate environment::

      python -m venv --system-site-packages /work/bt-venv
      /work/bt-venv/bin/pip install --no-deps bertopic==0.17.4 umap-learn hdbscan pynndescent plotly narwhals

Names before and after (the example archive and 3,000 SpotifyCares tweets)::

    python benchmarks/bench_topics_quality.py --names benchmarks/_data/topics_quality/names_new.json
    git archive HEAD | tar -x -C /tmp/cx_base      # the code before (read-only export of a commit)
    python benchmarks/run_at_commit.py /tmp/cx_base benchmarks/bench_topics_quality.py \
        --names benchmarks/_data/topics_quality/names_old.json
    python benchmarks/bench_topics_quality.py --names-table benchmarks/_data/topics_quality/names_{old,new}.json

Printed per corpus and method: NMI against the gold classes (outliers count as one more class),
topics, outliers %, largest topic %, fit time (BERTopic's includes UMAP and c-TF-IDF; cxlens's its
names, which embed candidate phrases).  "every message to its nearest topic" is cxlens with no
outliers, the counterpart of BERTopic's ``reduce_outliers``.  For cxlens also the top level (count, NMI), the
share of messages with a second topic, and whether a refit on the shuffled messages gives the same
topics.  On BANKING77, **naming**: each topic's name and each gold intent (``_`` as spaces) are
embedded; a topic is named right at top-1 (top-3) when its majority intent is the intent most
similar (among the 3 most similar) to its name.  Reported for the plain-words names, for the
keyword labels of the same topics (the labels before issue 21) and for BERTopic's names.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
CACHE = HERE / "_data" / "topics_quality"
DATASETS = ("banking77", "airline")
NAME_CORPORA = ("example", "spotify")


def corpus(name: str) -> tuple[list[str], "np.ndarray"]:
    import numpy as np
    import pandas as pd

    if name == "example":  # the example archive shipped with cxlens (2,000 tickets)
        folder = CACHE / "example"
        if not (folder / "tickets.csv").exists():
            import subprocess

            subprocess.run([sys.executable, "-m", "cxlens", "example-data", "--out", str(folder), "--bundled"],
                           check=True, capture_output=True)
        frame = pd.read_csv(folder / "tickets.csv")
        return frame["text"].fillna(frame["subject"]).fillna("").astype(str).tolist(), frame["true_request_type"].to_numpy()
    if name == "spotify":  # 3,000 SpotifyCares support requests (twcs), a fixed sample
        frame = pd.read_csv(SHARED / "twcs" / "spotifycares_support_requests.csv")
        frame = frame[frame["text"].notna()].sample(n=3000, random_state=0)
        return frame["text"].astype(str).tolist(), np.zeros(len(frame), dtype=int)
    if name == "banking77":
        frame = pd.read_csv(SHARED / "banking77" / "train.csv")
        return frame["text"].astype(str).tolist(), frame["category"].to_numpy()
    frame = pd.read_csv(SHARED / "twitter_airline_sentiment" / "train.csv")
    frame = frame[(frame["airline_sentiment"] == "negative") & frame["negativereason"].notna()
                  & (frame["negativereason"] != "Can't Tell")]
    return frame["text"].astype(str).tolist(), np.asarray(frame["negativereason"])


def vectors(name: str, texts: list[str], encoder) -> "np.ndarray":
    import numpy as np

    from cxlens.pipelines.topics import message_embeddings

    path = CACHE / f"{'spotify3000' if name == 'spotify' else name}.npy"
    if path.exists():
        x = np.load(path, allow_pickle=False)
        if len(x) == len(texts):
            return x
    CACHE.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    x = message_embeddings(texts, encoder)
    sys.stderr.write(f"encoded {len(texts)} {name} texts in {time.perf_counter() - start:.0f} s -> {path}\n")
    np.save(path, x, allow_pickle=False)
    return x


def nmi(gold, labels) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    return round(float(normalized_mutual_info_score(gold, labels)), 4)


def stats(gold, labels, seconds: float) -> dict:
    import numpy as np

    labels = np.asarray(labels)
    inner = labels[labels >= 0]
    return {"nmi": nmi(gold, labels), "topics": int(len(np.unique(inner))),
            "outliers_pct": round(100 * float(np.mean(labels < 0)), 1),
            "largest_pct": round(100 * float(np.bincount(inner).max() / len(labels)), 1) if len(inner) else 0.0,
            "fit_s": round(seconds, 1)}


def naming(names: dict[int, str], labels, gold, encoder) -> dict:
    """Top-1 / top-3 agreement of each topic's name with its majority gold intent (by embedding)."""
    import numpy as np
    import pandas as pd

    intents = sorted(set(gold))
    iv = np.asarray(encoder.encode([i.replace("_", " ") for i in intents]), dtype=np.float32)
    iv /= np.linalg.norm(iv, axis=1, keepdims=True)
    topics = [t for t in sorted(names) if t >= 0 and np.any(labels == t)]
    nv = np.asarray(encoder.encode([names[t] for t in topics]), dtype=np.float32)
    nv /= np.linalg.norm(nv, axis=1, keepdims=True)
    sims = nv @ iv.T
    top1 = top3 = 0
    for row, t in enumerate(topics):
        majority = pd.Series(gold[labels == t]).value_counts().index[0]
        ranked = [intents[j] for j in np.argsort(-sims[row], kind="stable")[:3]]
        top1 += ranked[0] == majority
        top3 += majority in ranked
    return {"top1": round(top1 / len(topics), 3), "top3": round(top3 / len(topics), 3), "topics": len(topics)}


def run_cxlens(name: str, texts, gold, x, encoder, seed: int, *, check_determinism: bool) -> dict:
    import numpy as np

    from cxlens.nlp.topics import TopicModel, topic_label

    start = time.perf_counter()
    model = TopicModel(encoder=encoder, random_state=seed).fit(texts, embeddings=x)
    out = stats(gold, model.labels_, time.perf_counter() - start)
    out["method"] = getattr(model, "method_", None)
    nearest = model.topics_["id"].to_numpy()[np.argmax(model.transform(embeddings=x), axis=1)]
    out["all_assigned"] = stats(gold, nearest, 0.0)  # every message to its nearest topic, no outliers
    if "parent_id" in model.topics_:
        parent_of = dict(zip(model.topics_["id"], model.topics_["parent_id"]))
        parent_of[-1] = -1
        parents = np.array([parent_of[int(t)] for t in model.labels_])
        out["top_level"] = int(len(np.unique(parents[parents >= 0])))
        out["top_level_nmi"] = nmi(gold, parents)
        out["top_level_largest_pct"] = round(100 * float(np.bincount(
            np.unique(parents, return_inverse=True)[1]).max() / len(parents)), 1)
    if hasattr(model, "secondary_labels_"):
        out["second_topic_pct"] = round(100 * float(np.mean(model.secondary_labels_ >= 0)), 1)
    if check_determinism:
        order = np.random.default_rng(seed + 1).permutation(len(texts))
        again = TopicModel(encoder=encoder, random_state=seed).fit([texts[i] for i in order], embeddings=x[order])
        back = np.empty_like(again.labels_)
        back[order] = again.labels_
        out["refit_shuffled_same_topics"] = bool(len(again.topics_) == len(model.topics_)
                                                 and nmi(model.labels_, back) == 1.0)
    if name == "banking77":
        names = dict(zip(model.topics_["id"], model.topics_["label"]))
        keywords = {t: topic_label(list(k)) for t, k in zip(model.topics_["id"], model.topics_["keywords"])}
        out["naming_names"] = naming(names, model.labels_, gold, encoder)
        out["naming_keyword_labels"] = naming(keywords, model.labels_, gold, encoder)
    topics = model.topics_.sort_values("size", ascending=False)
    out["largest_names"] = topics["label"].head(12).tolist()
    return out


def run_bertopic(name: str, texts, gold, x, encoder, seed: int) -> dict | None:
    import numpy as np

    try:
        from bertopic import BERTopic
        from umap import UMAP
    except ImportError:
        sys.stderr.write("bertopic is not importable: skipping it. Install it outside the cxlens environment:\n"
                         "  python -m venv --system-site-packages /work/bt-venv\n"
                         "  /work/bt-venv/bin/pip install --no-deps bertopic==0.17.4 umap-learn hdbscan pynndescent "
                         "plotly narwhals\n  then run this script with /work/bt-venv/bin/python\n")
        return None
    import bertopic

    start = time.perf_counter()
    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed)  # the defaults, seeded
    model = BERTopic(umap_model=umap)
    topics, _ = model.fit_transform(texts, embeddings=x)
    labels = np.asarray(topics)
    out = stats(gold, labels, time.perf_counter() - start)
    out["version"] = bertopic.__version__
    start = time.perf_counter()
    reduced = np.asarray(model.reduce_outliers(texts, list(labels), strategy="embeddings", embeddings=x))
    out["reduce_outliers"] = stats(gold, reduced, time.perf_counter() - start)
    if name == "banking77":
        info = model.get_topic_info()
        names = {int(t): " ".join(str(n).split("_")[1:]) for t, n in zip(info["Topic"], info["Name"])}
        out["naming_names"] = naming(names, labels, gold, encoder)
    return out


def names_run(path: Path, encoder, seed: int) -> None:
    """Fit on the example archive and SpotifyCares tweets; write each message's topic and parent names."""
    from cxlens.nlp.topics import TopicModel

    out = {}
    for name in NAME_CORPORA:
        texts, _ = corpus(name)
        x = vectors(name, texts, encoder)
        keep = [i for i, t in enumerate(texts) if t.strip()]  # tickets without text (calls) get no topic
        texts, x = [texts[i] for i in keep], x[keep]
        model = TopicModel(encoder=encoder, random_state=seed).fit(texts, embeddings=x)
        frame = model.assign(embeddings=x)
        parent = frame["topic_parent"] if "topic_parent" in frame else frame["topic"]
        out[name] = {"topic": frame["topic"].tolist(), "parent": parent.tolist(), "n_topics": int(len(model.topics_))}
    path.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    sys.stderr.write(f"wrote {path}\n")


def names_table(old: Path, new: Path, *, rows: int = 20) -> str:
    """New top-level names (with subtopics) beside the old label most of their messages had."""
    import pandas as pd

    before, after = json.loads(old.read_text()), json.loads(new.read_text())
    lines = []
    for name in after:
        frame = pd.DataFrame({"old": before[name]["topic"], "parent": after[name]["parent"],
                              "topic": after[name]["topic"]})
        lines += [f"\n{name}: {before[name]['n_topics']} topics before, {after[name]['n_topics']} topics under "
                  f"{frame['parent'].nunique() - int((frame['parent'] == 'outlier').any())} top-level topics now\n",
                  "| messages | new top-level name | its largest subtopics | old label of most of its messages |",
                  "|---|---|---|---|"]
        for parent, group in sorted(frame.groupby("parent"), key=lambda kv: -len(kv[1]))[:rows]:
            subs = [t for t in group["topic"].value_counts().index if t != parent][:3]
            lines.append(f"| {len(group)} | {parent} | {'; '.join(subs) or '-'} | {group['old'].mode().iloc[0]} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-bertopic", action="store_true")
    parser.add_argument("--check-determinism", action="store_true",
                        help="refit cxlens on the shuffled messages and compare (doubles its time)")
    parser.add_argument("--out", type=Path, default=CACHE / "result.json")
    parser.add_argument("--names", type=Path, metavar="JSON",
                        help="only fit the example archive and SpotifyCares tweets and write their names to JSON "
                             "(run it with the old code through benchmarks/run_at_commit.py for the 'before')")
    parser.add_argument("--names-table", nargs=2, type=Path, metavar=("OLD_JSON", "NEW_JSON"),
                        help="print the old-vs-new names table of two --names files")
    args = parser.parse_args()
    if args.names_table:
        print(names_table(*args.names_table))
        return
    if not SHARED.is_dir():
        sys.exit(f"needs the public data in {SHARED}")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    from threadpoolctl import threadpool_limits

    from cxlens.pipelines.topics import topic_encoder

    encoder = topic_encoder("minilm", [])
    if args.names:
        with threadpool_limits(limits=args.threads):
            names_run(args.names, encoder, args.seed)
        return
    results: dict = {}
    with threadpool_limits(limits=args.threads):
        for name in args.datasets:
            texts, gold = corpus(name)
            x = vectors(name, texts, encoder)
            results[name] = {"messages": len(texts), "classes": int(len(set(gold))),
                             "cxlens": run_cxlens(name, texts, gold, x, encoder, args.seed,
                                                  check_determinism=args.check_determinism)}
            if not args.skip_bertopic:
                results[name]["bertopic"] = run_bertopic(name, texts, gold, x, encoder, args.seed)
    print(table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    sys.stderr.write(f"wrote {args.out}\n")


def table(results: dict) -> str:
    lines = ["| corpus | method | NMI | topics | outliers % | largest topic % | fit s |", "|---|---|---|---|---|---|---|"]
    for name, res in results.items():
        rows = [("cxlens defaults", res["cxlens"])]
        if "all_assigned" in res["cxlens"]:
            rows.append(("cxlens, every message to its nearest topic", res["cxlens"]["all_assigned"]))
        if res.get("bertopic"):
            rows += [(f"BERTopic {res['bertopic']['version']} defaults", res["bertopic"]),
                     ("BERTopic + reduce_outliers", res["bertopic"]["reduce_outliers"])]
        for label, r in rows:
            lines.append(f"| {name} ({res['messages']:,}, {res['classes']} classes) | {label} | {r['nmi']:.3f} | "
                         f"{r['topics']} | {r['outliers_pct']} | {r['largest_pct']} | {r['fit_s']} |")
    lines.append("")
    for name, res in results.items():
        c = res["cxlens"]
        if "top_level" in c:
            lines.append(f"{name}: cxlens top level {c['top_level']} topics, NMI {c['top_level_nmi']:.3f}, largest "
                         f"{c['top_level_largest_pct']} %; second topic on {c.get('second_topic_pct')} % of messages; "
                         f"refit on shuffled messages gives the same topics: {c.get('refit_shuffled_same_topics')}")
        for key in ("naming_names", "naming_keyword_labels"):
            if key in c:
                lines.append(f"{name}: cxlens {key}: top-1 {c[key]['top1']}, top-3 {c[key]['top3']} "
                             f"({c[key]['topics']} topics)")
        if res.get("bertopic") and "naming_names" in res["bertopic"]:
            b = res["bertopic"]["naming_names"]
            lines.append(f"{name}: BERTopic names: top-1 {b['top1']}, top-3 {b['top3']} ({b['topics']} topics)")
        lines.append(f"{name}: largest cxlens topics: {'; '.join(c['largest_names'])}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
