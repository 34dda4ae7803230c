"""The text-pipeline contract, checked by machine over every registered text component.

scikit-learn's checks that need no data (clone, get_params/set_params, keyword-only parameters, not
fitted before fit, fit returns self), plus batch-size invariance: a component run by a TextPipeline in
batches of 1, 7 and 64 gives the same output. The fast components use the ``tfidf`` encoder (no model);
the int8 MiniLM check at the end is what makes vectors independent of their batch neighbours.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from cxlens.errors import NotFittedError
from cxlens.nlp import TextPipeline, Texts, VectorStore, get_text_component, get_text_component_names

THEMES = {
    "refund": ["I want my money back for this order", "please refund the charge", "refund my payment now",
               "where is the refund you promised", "money back please, the item was broken"],
    "shipping": ["my parcel has not arrived yet", "the delivery is late again", "where is my package",
                 "tracking says the parcel is stuck", "courier never delivered my order"],
    "login": ["I cannot log in to my account", "password reset link does not work", "locked out of my account",
              "login page gives an error", "two factor code never arrives"],
}
TEXTS = [t for texts in THEMES.values() for t in texts] * 4
LABELS = [k for k, texts in THEMES.items() for _ in texts] * 4
SENTIMENT = (["thanks, great help, all sorted"] * 8 + ["this is awful, nothing works and nobody answers"] * 8
             + ["I have a question about my invoice"] * 8)
SENTIMENT_Y = ["positive"] * 8 + ["negative"] * 8 + ["neutral"] * 8
PROBE = ["refund please, the parcel never came", "cannot log in since yesterday", "", "thank you so much",
         "my package is late and I want my money back", "password reset does not work", "hello"] * 10


def _case(name: str):
    """An unfitted component of ``name`` and the data to fit it on: (component, X, y)."""
    cls = get_text_component(name)
    if name == "request_type":
        return cls(encoder="tfidf"), TEXTS, LABELS
    if name == "topics":
        return cls(encoder="tfidf", n_topics=3, random_state=0), TEXTS, None
    if name == "sentiment":
        return cls(encoder="tfidf", cv=0), SENTIMENT, SENTIMENT_Y
    if name == "qa_steps":
        from cxlens.nlp.qa import load_scorecard

        return cls(scorecard=load_scorecard("general_support"), encoder="tfidf"), None, None
    raise AssertionError(f"no contract case for the registered component {name!r}: add one here")


@pytest.mark.parametrize("name", get_text_component_names())
def test_text_contract_parameters_are_keyword_only_and_stored(name):
    component, _, _ = _case(name)
    params = inspect.signature(type(component).__init__).parameters
    for pname, param in params.items():
        if pname != "self":
            assert param.kind is inspect.Parameter.KEYWORD_ONLY, f"{name}: {pname} is not keyword-only"
    for pname, value in component.get_params(deep=False).items():
        assert getattr(component, pname) is value


@pytest.mark.parametrize("name", get_text_component_names())
def test_text_contract_clone_and_set_params(name):
    component, _, _ = _case(name)
    twin = clone(component)
    assert twin is not component and type(twin) is type(component)
    assert twin.get_params(deep=False).keys() == component.get_params(deep=False).keys()
    first = next(iter(component.get_params(deep=False)))
    assert twin.set_params(**{first: getattr(component, first)}) is twin


@pytest.mark.parametrize("name", get_text_component_names())
def test_text_contract_not_fitted_before_fit(name):
    component, _, _ = _case(name)
    with pytest.raises(NotFittedError):
        component.predict(PROBE[:3])
    assert not [a for a in vars(component) if a.endswith("_") and not a.startswith("_")], \
        f"{name} sets learned state before fit"


@pytest.mark.parametrize("name", get_text_component_names())
def test_text_contract_fit_returns_self_and_learned_state_ends_in_underscore(name):
    component, X, y = _case(name)
    before = set(vars(component))
    assert component.fit(X, y) is component
    learned = set(vars(component)) - before
    assert learned and all(a.endswith("_") for a in learned if not a.startswith("_")), sorted(learned)
    assert component.text_encoder() is not None


@pytest.mark.parametrize("name", get_text_component_names())
def test_text_contract_output_does_not_depend_on_batch_size(name):
    component, X, y = _case(name)
    component.fit(X, y)
    outputs = [TextPipeline([(name, component)], batch_size=size).annotate(PROBE) for size in (1, 7, 64)]
    assert len(outputs[0]) == len(PROBE) and name in outputs[0]
    for other in outputs[1:]:
        pd.testing.assert_frame_equal(outputs[0], other)
    empty = TextPipeline([(name, component)]).annotate([])
    assert len(empty) == 0 and list(empty.columns) == list(outputs[0].columns)


def test_text_contract_texts_carry_their_vectors_through_slices():
    from cxlens.nlp.encoders import TfidfEncoder

    calls = []

    class Counting(TfidfEncoder):
        def encode(self, texts):
            calls.append(list(texts))
            return super().encode(texts)

    encoder = Counting()
    batch = Texts(["a b", "c d", "a b", None])
    vectors = batch.vectors(encoder)
    assert calls == [["a b", "c d", ""]]  # each distinct text once
    np.testing.assert_array_equal(batch[1:3].vectors(encoder), vectors[1:3])
    np.testing.assert_array_equal(batch.take(["c d"]).vectors(encoder), vectors[[1]])
    assert len(calls) == 1  # slices reuse the batch's vectors
    store = VectorStore()
    Texts(["a b", "x y"], store=store).vectors(encoder)
    Texts(["x y", "z"], store=store).vectors(encoder)
    assert calls[1:] == [["a b", "x y"], ["z"]] and store.hits == 1


def test_text_contract_refuses_vectors_in_place_of_texts():
    with pytest.raises(TypeError, match="Texts"):
        Texts.of(np.ones((3, 4)))
    with pytest.raises(TypeError):
        Texts("one string")


@pytest.mark.needs_minilm
@pytest.mark.slow
def test_text_contract_int8_vectors_do_not_depend_on_their_batch(small_archive):
    """The shipped request-type model on the int8 encoder: the same vectors and labels in batches of 1, 7, 64."""
    from cxlens.nlp.classify import load_default_model
    from cxlens.nlp.encoders import MiniLMEncoder

    texts = pd.read_csv(small_archive / "messages.csv")["text"].dropna().head(64).tolist()
    encoder = MiniLMEncoder(backend="onnx")
    alone = np.vstack([encoder.encode([t]) for t in texts[:8]])
    # one scale per token row: alone or in a padded batch, the same vector up to float32 rounding
    np.testing.assert_allclose(encoder.encode(texts[:8]), alone, atol=1e-6, rtol=0)
    model = load_default_model()
    labels = [TextPipeline([("request_type", model)], batch_size=size).annotate(texts) for size in (1, 7, 64)]
    for other in labels[1:]:
        pd.testing.assert_frame_equal(labels[0], other)


def test_text_contract_map_encodes_only_the_texts_it_changed():
    from cxlens.nlp.encoders import TfidfEncoder

    calls = []

    class Counting(TfidfEncoder):
        def encode(self, texts):
            calls.append(list(texts))
            return super().encode(texts)

    encoder = Counting()
    batch = Texts(["keep me", "change me"])
    before = batch.vectors(encoder)
    mapped = batch.map(lambda t: t.replace("change", "changed"))
    after = mapped.vectors(encoder)
    assert calls == [["keep me", "change me"], ["changed me"]]
    np.testing.assert_array_equal(after[0], before[0])
