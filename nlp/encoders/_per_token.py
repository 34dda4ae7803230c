"""Per-token int8 activations: what makes an int8 vector depend on its text alone, in any batch.

``onnxruntime.quantization.quantize_dynamic`` quantises each MatMul input with ONE scale per run
(``DynamicQuantizeLinear`` over the whole ``[batch, tokens, hidden]`` tensor), so a text's vector moved with
the other texts of its batch and with the padding. :func:`per_token_int8` rewrites that graph so every
token row gets its own scale: ``s = max|x| / 127`` over the row, ``x_q = QuantizeLinear(x / s, 1, 128)``
(uint8), and each ``MatMulInteger -> Cast -> Mul`` becomes ORT's ``MatMulIntegerToFloat(x_q, W, 1, w_scale,
128, W_zp) * s``. The attention products (activation x activation) stay fp32, as before, so padded
positions reach no real token. Measured (docs/benchmarks.md): vectors equal alone and in any batch to
1e-7, batched speed as before, and closer to fp32 than the per-tensor export.

Two details, both measured on an AVX2 CPU:

* the per-token scale stays outside ``MatMulIntegerToFloat``: with a ``[batch, tokens, 1]`` ``a_scale``,
  ORT's own fusion gave wrong vectors (mean cosine to fp32 0.907);
* the int8 weights are stored shifted to uint8 (zero point 128): the same products, computed by the U8U8
  kernel, where the U8S8 one saturates its int16 pair sums on CPUs without VNNI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["per_token_int8"]


def per_token_int8(int8_path: Path, target: Path) -> dict[str, int]:
    """Rewrite the ``quantize_dynamic`` model at ``int8_path`` to per-token activations; write ``target``.

    Returns how many quantisers and matmuls were rewritten.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(int8_path))
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph.initializer.extend([numpy_helper.from_array(np.array(v, np.float32), n) for n, v in
                              (("pt_eps", 1e-8), ("pt_127", 127.0), ("pt_one", 1.0))])
    inits = {i.name: i for i in graph.initializer}
    shifted: dict[str, str] = {}

    def as_uint8(name: str) -> str:  # an int8 initializer + 128 as uint8: the same products with zero point + 128
        if name not in shifted:
            values = numpy_helper.to_array(inits[name]).astype(np.int16) + 128
            graph.initializer.append(numpy_helper.from_array(values.astype(np.uint8), name + "_u8"))
            shifted[name] = name + "_u8"
        return shifted[name]

    def expect(node, op: str) -> None:
        if node.op_type != op:
            raise RuntimeError(f"int8 export: expected {op} at {node.name}, found {node.op_type}; the graph "
                               "quantize_dynamic wrote has changed shape (onnxruntime version?)")

    replace: dict[str, list] = {}
    dropped: set[str] = set()
    quantisers = matmuls = 0
    for node in graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            continue
        x, (q, s, zp) = node.input[0], node.output
        p = f"pt{quantisers}_"
        quantisers += 1
        graph.initializer.append(numpy_helper.from_array(np.array(128, np.uint8), zp))
        replace[node.name] = [
            helper.make_node("Abs", [x], [p + "abs"], name=p + "Abs"),
            helper.make_node("ReduceMax", [p + "abs"], [p + "max"], name=p + "ReduceMax", axes=[-1], keepdims=1),
            helper.make_node("Max", [p + "max", "pt_eps"], [p + "maxg"], name=p + "Guard"),
            helper.make_node("Div", [p + "maxg", "pt_127"], [s], name=p + "Scale"),
            helper.make_node("Div", [x, s], [p + "xs"], name=p + "DivX"),
            # saturate(round_half_even(x / s) + 128): rounding, shift and cast in one op (|x / s| <= 127)
            helper.make_node("QuantizeLinear", [p + "xs", "pt_one", zp], [q], name=p + "Quantize"),
        ]
        for scale_mul in consumers.get(s, []):  # Mul(x_scale, w_scale): the product of the scales
            expect(scale_mul, "Mul")
            w_scale = [i for i in scale_mul.input if i != s][0]
            dropped.add(scale_mul.name)
            for deq in consumers[scale_mul.output[0]]:  # Mul(Cast(MatMulInteger(...)), scales)
                cast = producer[[i for i in deq.input if i != scale_mul.output[0]][0]]
                mmi = producer[cast.input[0]]
                expect(deq, "Mul"), expect(cast, "Cast"), expect(mmi, "MatMulInteger")
                dropped.update({cast.name, mmi.name})
                a_q, w_q, a_zp, w_zp = mmi.input
                matmuls += 1
                replace[deq.name] = [
                    helper.make_node("MatMulIntegerToFloat", [a_q, as_uint8(w_q), "pt_one", w_scale, a_zp,
                                                              as_uint8(w_zp)],
                                     [deq.output[0] + "_pt"], name=mmi.name + "_pt", domain="com.microsoft"),
                    helper.make_node("Mul", [deq.output[0] + "_pt", s], [deq.output[0]], name=deq.name + "_pt")]
    nodes = []
    for node in graph.node:
        if node.name in replace:
            nodes += replace[node.name]
        elif node.name not in dropped:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    kept = [i for i in graph.initializer if i.name in used]  # the int8 weights now have uint8 copies
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return {"quantisers": quantisers, "matmuls": matmuls}
