"""TfidfEncoder and the encoder registry (fast, no model files)."""

from __future__ import annotations

import numpy as np
import pytest

from cxlens.errors import UnknownNameError
from cxlens.nlp.encoders import Encoder, TfidfEncoder, get_encoder, get_encoder_names

TEXTS = ["I want to cancel my order", "where is my parcel", "my card does not work", "cancel my order now"]


def test_encoders_tfidf_unfitted_shape_dtype_and_unit_rows():
    x = TfidfEncoder(dim=64).encode(TEXTS)
    assert x.shape == (4, 64) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def test_encoders_tfidf_unfitted_is_stateless_and_lexical():
    a, b = TfidfEncoder().encode(TEXTS), TfidfEncoder().encode(TEXTS)
    np.testing.assert_array_equal(a, b)
    sims = a @ a.T
    assert sims[0, 3] > sims[0, 1] and sims[0, 3] > sims[0, 2]


def test_encoders_tfidf_fit_uses_svd_and_keeps_interface():
    enc = TfidfEncoder(dim=3).fit(TEXTS * 3)
    x = enc.encode(TEXTS)
    assert x.shape == (4, 3) == (4, enc.dim)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("texts", [[], ["", None]])
def test_encoders_tfidf_empty_inputs(texts):
    x = TfidfEncoder(dim=16).encode(texts)
    assert x.shape == (len(texts), 16)


def test_encoders_tfidf_rejects_a_single_string():
    with pytest.raises(TypeError, match="wrap it in a list"):
        TfidfEncoder().encode("one text")


def test_encoders_registry_shares_instances_and_names():
    assert {"minilm", "minilm-onnx", "minilm-torch", "tfidf"} <= set(get_encoder_names())
    assert get_encoder("tfidf") is get_encoder("tfidf")
    assert isinstance(get_encoder("tfidf"), Encoder)


def test_encoders_registry_unknown_name_suggests():
    with pytest.raises(UnknownNameError, match="minilm"):
        get_encoder("minilm-onx")
