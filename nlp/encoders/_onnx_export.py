"""Our own int8 ONNX export of all-MiniLM-L6-v2 (the encoder's fast path).

Steps (:func:`build_int8_model`):

1. export the transformer plus mean pooling to ONNX (fp32) with ``torch.onnx.export`` (TorchScript
   exporter, dynamic batch and sequence axes); the graph outputs ``sentence_embedding``
   (mean of the token states under the attention mask, not yet normalised);
2. quantise the weights of the ``MatMul`` nodes only, per output channel, to int8 with
   ``onnxruntime.quantization.quantize_dynamic(per_channel=True, op_types_to_quantize=["MatMul"])``,
   except the feed-forward projections: the output one (``layer.N.output.dense``), whose inputs (GELU
   outputs with long tails) lose the most when quantised dynamically, and, for all-MiniLM-L6-v2 and
   encoders tuned from it, the input one (``layer.N.intermediate.dense``) too. Activations are
   quantised at run time; LayerNorm, Softmax, GELU, embeddings and pooling stay in fp32 (the default
   whole-model int8 conversion loses too much accuracy). On the BANKING77 dev split
   (``benchmarks/bench_int8_variants.py``), the agreement of the shipped request-type model with torch
   fp32 goes from 98.1 % (every MatMul int8) to 98.55 % (FFN outputs in fp32, export v2) to 99.30 %
   (both FFN projections, export v3), for 4-9 % of the speed. The two-layer student (``minilm-l2``)
   keeps the v2 recipe: its speed is its point.
3. (export v4) rewrite the activation quantisers from one scale per tensor to one scale per token row
   (:mod:`cxlens.nlp.encoders._per_token`): a text's vector no longer depends on the other texts of its
   batch or on the padding, so batches are safe to share and vectors safe to keep across batches.

The result lives in the user cache (:func:`cache_dir`), keyed by the model files, and is built on
first use (about half a minute on 2 cores); nothing is downloaded. Writes are atomic, so two
processes building at once are harmless.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path

from cxlens.errors import MissingDependencyError
from cxlens.nlp.encoders._runtime import cache_dir

__all__ = ["EXPORT_VERSION", "FFN_INPUT_NODES", "FFN_OUTPUT_NODES", "build_int8_model", "ensure_int8_model",
           "fp32_matmuls"]

log = logging.getLogger(__name__)

#: Bump when the export recipe changes so stale cached models are rebuilt.
EXPORT_VERSION = "4"


def _fingerprint(model_dir: Path) -> str:
    h = hashlib.sha256(EXPORT_VERSION.encode())
    for name in ("config.json", "tokenizer.json"):
        p = model_dir / name
        if p.is_file():
            h.update(p.read_bytes())
    weights = model_dir / "model.safetensors"
    if weights.is_file():  # the content, not the size: a fine-tuned copy has the same size
        with weights.open("rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()[:16]


def ensure_int8_model(model_dir: Path) -> Path:
    """Path of the cached int8 model for ``model_dir``, building it if it is not there yet."""
    target = cache_dir() / "onnx" / f"minilm-{_fingerprint(model_dir)}" / "model-int8.onnx"
    if target.is_file():
        return target
    log.warning("Building the int8 ONNX MiniLM encoder into %s (one time, ~30 s)", target.parent)
    build_int8_model(model_dir, target)
    return target


def _pooled_module(model_dir: Path):
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True)

        def forward(self, input_ids, attention_mask):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

    module = Pooled()
    module.eval()
    return module


def export_fp32(model_dir: Path, path: Path) -> Path:
    """Export MiniLM + mean pooling to an fp32 ONNX file at ``path``."""
    import importlib.util

    if importlib.util.find_spec("onnx") is None:
        raise MissingDependencyError(package="onnx", feature="Exporting the ONNX encoder", extra="nlp")
    import torch

    import warnings

    module = _pooled_module(model_dir)
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about python-side shape checks; parity is tested
        torch.onnx.export(
            module, (ids, mask), str(path), dynamo=False, opset_version=17,
            input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                          "sentence_embedding": {0: "batch"}},
            do_constant_folding=True,
        )
    return path


#: node-name patterns of each layer's feed-forward output and input projections (MatMuls the export may keep fp32)
FFN_OUTPUT_NODES, FFN_INPUT_NODES = r"layer\.\d+/output/dense", r"layer\.\d+/intermediate/dense"


def fp32_matmuls(fp32_path: Path, *, ffn_input: bool = True) -> list[str]:
    """The MatMul nodes the export keeps in fp32: the feed-forward output projection of every layer, and with
    ``ffn_input`` its input projection too."""
    import onnx

    patterns = [FFN_OUTPUT_NODES] + ([FFN_INPUT_NODES] if ffn_input else [])
    graph = onnx.load(str(fp32_path), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type == "MatMul" and any(re.search(p, n.name) for p in patterns)]


class _NoPreprocessingHint(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def build_int8_model(model_dir: Path, target: Path) -> Path:
    """Export to fp32 ONNX, quantise MatMul weights per channel to int8, write ``target`` atomically."""
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is None:
        raise MissingDependencyError(package="onnxruntime", feature="The int8 ONNX encoder", extra="nlp")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        fp32 = export_fp32(model_dir, Path(tmp) / "model-fp32.onnx")
        int8 = Path(tmp) / "model-int8.onnx"
        # all-MiniLM-L6-v2 and models tuned from it keep both FFN projections in fp32 (the >= 99 % agreement
        # with fp32 of every head); the two-layer student keeps the output projection only (its speed is its
        # point, and script QA's 300 messages/s rest on it)
        from cxlens.nlp.encoders._student import is_student_folder

        ffn_input = not is_student_folder(model_dir)
        # onnxruntime logs a hint to run its pre-processing first (shape inference for a few more ops: no gain
        # on this graph); it is not the user's business, so it stays out of their log
        hint = _NoPreprocessingHint()
        logging.getLogger().addFilter(hint)
        try:
            quantize_dynamic(fp32, int8, per_channel=True, op_types_to_quantize=["MatMul"],
                             weight_type=QuantType.QInt8, nodes_to_exclude=fp32_matmuls(fp32, ffn_input=ffn_input))
        finally:
            logging.getLogger().removeFilter(hint)
        # one scale per token row instead of per tensor: a vector depends on its text alone, in any batch
        from cxlens.nlp.encoders._per_token import per_token_int8

        per_token = Path(tmp) / "model-int8-per-token.onnx"
        per_token_int8(int8, per_token)
        kept = "FFN input and output projections" if ffn_input else "FFN output projections"
        (Path(tmp) / "export.json").write_text(json.dumps(
            {"export_version": EXPORT_VERSION, "source": str(model_dir), "quantisation":
             f"dynamic int8, per-token activations, per-channel weights, MatMul only, {kept} in fp32"},
            indent=2))
        os.replace(Path(tmp) / "export.json", target.parent / "export.json")
        os.replace(per_token, target)
    return target
