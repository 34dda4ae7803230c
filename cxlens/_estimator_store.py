"""Fitted scikit-learn estimators saved without pickle: the structure as JSON, the arrays in one ``.npz``.

A pickle (``joblib``) file can run any code it carries when it is loaded, so cxlens writes none.
:func:`save_state` walks a fitted estimator and writes ``<stem>.json`` (classes by name, parameters,
scalars, lists, dicts) and ``<stem>.npz`` (every array); :func:`load_state` rebuilds it from
``json.loads`` and ``np.load(allow_pickle=False)`` alone. Only the classes listed in :data:`CLASSES`
(plus those a caller names in ``extra_types``) are ever built, from a fixed table (never imported by a
name read from the file); a file naming anything else is refused. A few values are rebuilt rather than
stored: the loss object of a histogram gradient-boosting model (``_get_loss``) and its fit-only
random generator. What a crafted file can do is give wrong numbers, not run code.

:func:`load_pickle` is the one way to open an old joblib/pickle file: it raises
:class:`~cxlens.errors.UntrustedModelError` before anything is read unless ``trust_model=True``.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from cxlens.errors import DataError, UntrustedModelError

__all__ = ["CLASSES", "PICKLE_SUFFIXES", "is_pickle_file", "load_pickle", "load_state", "save_state"]

FORMAT = "cxlens.estimator_state.v1"
#: file suffixes of joblib / pickle files (never opened without ``trust_model=True``)
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle", ".sav")
#: the classes a saved state may hold, by the public module they are imported from
CLASSES = {
    "sklearn.pipeline": ("Pipeline", "FeatureUnion"),
    "sklearn.compose": ("ColumnTransformer",),
    "sklearn.preprocessing": ("OneHotEncoder", "StandardScaler", "SplineTransformer", "LabelBinarizer",
                              "LabelEncoder", "QuantileTransformer"),
    "sklearn.impute": ("SimpleImputer", "MissingIndicator"),
    "sklearn.linear_model": ("LogisticRegression",),
    "sklearn.multiclass": ("OneVsRestClassifier", "_ConstantPredictor"),
    "sklearn.feature_extraction.text": ("TfidfVectorizer", "TfidfTransformer"),
    "sklearn.ensemble": ("HistGradientBoostingClassifier",),
    "sklearn.ensemble._hist_gradient_boosting.predictor": ("TreePredictor",),
    "sklearn.ensemble._hist_gradient_boosting.binning": ("_BinMapper",),
}
#: Python and numpy scalar types that appear as parameter values (``dtype=np.float64``)
_TYPES = {name: getattr(np, name) for name in ("float64", "float32", "float16", "int64", "int32", "int16", "int8",
                                                "uint8", "bool_")} | {"float": float, "int": int, "bool": bool,
                                                                     "str": str}
_TAGS = ("tuple", "dict", "float", "array", "scalar", "dtype", "type", "slice", "object", "bspline", "series",
         "vocabulary")
#: a str -> int dict at least this long (a TF-IDF vocabulary) goes to the .npz as two arrays
_BIG_DICT = 256


@cache
def _known_classes() -> dict[str, type]:
    known = {}
    for module, names in CLASSES.items():
        try:
            mod = importlib.import_module(module)
        except ImportError:  # a scikit-learn that moved it: a file naming it is refused, the others still load
            continue
        known.update({f"{module}.{name}": getattr(mod, name) for name in names if hasattr(mod, name)})
    return known


def _registry(extra_types: Iterable[type]) -> dict[str, type]:
    """The classes a state may hold, by name: scikit-learn's (:data:`CLASSES`) and the caller's own."""
    by_name = dict(_known_classes())
    for cls in extra_types:
        by_name[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return by_name


# ---------------------------------------------------------------- saving


class _Writer:
    def __init__(self, extra_types: Iterable[type]) -> None:
        self.by_type = {cls: name for name, cls in _registry(extra_types).items()}
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, value: np.ndarray) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.ascontiguousarray(value)
        return key

    def encode(self, value: Any, where: str) -> Any:  # noqa: C901 - one branch per kind of value
        if value is None or isinstance(value, (bool, int, str)) and not isinstance(value, np.generic):
            return value
        if isinstance(value, float) and not isinstance(value, np.generic):
            return value if math.isfinite(value) else {"float": repr(value)}
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                items = value.ravel().tolist()
                if not all(isinstance(v, str) for v in items):
                    raise TypeError(f"{where}: an object array of {sorted({type(v).__name__ for v in items})}")
                return {"array": self.array(value.astype(str)), "as_object": True}
            return {"array": self.array(value)}
        if isinstance(value, np.generic):
            return {"scalar": value.dtype.str, "value": self.encode(value.item(), where)}
        if isinstance(value, np.dtype):
            if value.fields is not None or value.hasobject:
                raise TypeError(f"{where}: a structured dtype {value}")
            return {"dtype": value.str}
        if isinstance(value, type):
            name = next((k for k, t in _TYPES.items() if t is value), None)
            if name is None:
                raise TypeError(f"{where}: the type {value.__name__}")
            return {"type": name}
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return {"tuple": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, slice):
            return {"slice": [self.encode(v, where) for v in (value.start, value.stop, value.step)]}
        if isinstance(value, dict):
            if len(value) >= _BIG_DICT and all(type(k) is str for k in value) \
                    and all(type(v) is int for v in value.values()):
                return {"vocabulary": [self.array(np.array(list(value), dtype=str)),
                                       self.array(np.fromiter(value.values(), dtype=np.int64, count=len(value)))]}
            return {"dict": [[self.encode(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in value.items()]}
        return self._object(value, where)

    def _object(self, value: Any, where: str) -> Any:
        cls = type(value)
        if cls.__module__ == "scipy.interpolate._bsplines" and cls.__name__ == "BSpline":
            return {"bspline": {"t": self.encode(value.t, where), "c": self.encode(value.c, where), "k": int(value.k),
                                "extrapolate": self.encode(value.extrapolate, where), "axis": int(value.axis)}}
        if cls.__module__.startswith("pandas") and cls.__name__ == "Series":
            return {"series": {"values": self.encode(value.to_numpy(), where),
                               "index": self.encode(value.index.to_numpy(), where),
                               "name": self.encode(value.name, where)}}
        name = self.by_type.get(cls)
        if name is None:
            raise TypeError(f"{where}: a {cls.__module__}.{cls.__qualname__}")
        getstate = getattr(value, "__getstate__", None)
        state = getstate() if getstate is not None else None
        state = dict(vars(value) if state is None else state)
        for attr in _REBUILT.get(name, ()):
            state.pop(attr, None)
        return {"object": name, "state": {k: self.encode(v, f"{where}.{k}") for k, v in state.items()}}


def save_state(obj: Any, folder: str | Path, stem: str, *, extra_types: Iterable[type] = ()) -> dict[str, Path]:
    """Write ``obj`` (a fitted estimator, or a dict / list of them and arrays) as ``folder/<stem>.json`` and
    ``folder/<stem>.npz`` (with the scikit-learn and numpy versions that wrote them). ``extra_types``: the
    caller's own estimator classes it may contain. Raises ``TypeError`` for a value it cannot store without
    pickle."""
    import sklearn

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    writer = _Writer(extra_types)
    root = writer.encode(obj, stem)
    paths = {"json": folder / f"{stem}.json", "npz": folder / f"{stem}.npz"}
    doc = {"format": FORMAT, "sklearn_version": sklearn.__version__, "numpy_version": np.__version__, "root": root}
    np.savez_compressed(paths["npz"], allow_pickle=False, **writer.arrays)
    paths["json"].write_text(json.dumps(doc, allow_nan=False) + "\n", encoding="utf-8")
    return paths


# ---------------------------------------------------------------- loading


def _rebuild_hgb(est: Any) -> None:
    est._loss = est._get_loss(sample_weight=None)  # the loss object holds compiled code: made, not stored


#: class -> attributes left out on save and made again on load (by the hook in :data:`_HOOKS`)
_REBUILT = {"sklearn.ensemble.HistGradientBoostingClassifier": ("_loss", "_feature_subsample_rng")}
_HOOKS = {"sklearn.ensemble.HistGradientBoostingClassifier": _rebuild_hgb}


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray], extra_types: Iterable[type], source: Path) -> None:
        self.arrays = arrays
        self.by_name = _registry(extra_types)
        self.source = source

    def fail(self, what: str) -> DataError:
        return DataError(f"{self.source}: {what}; the file is damaged or was not written by cxlens. Re-save the "
                         "model with this version of cxlens.")

    def array(self, key: Any) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise self.fail(f"no array {key!r} in the .npz")
        return self.arrays[key]

    def decode(self, value: Any) -> Any:  # noqa: C901 - one branch per tag
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict) or len([k for k in value if k in _TAGS]) != 1:
            raise self.fail(f"an unknown value {str(value)[:80]}")
        tag = next(k for k in value if k in _TAGS)
        body = value[tag]
        if tag == "tuple":
            return tuple(self.decode(v) for v in body)
        if tag == "dict":
            return {self.decode(k): self.decode(v) for k, v in body}
        if tag == "float":
            if body not in ("nan", "inf", "-inf"):
                raise self.fail(f"a float {body!r}")
            return float(body)
        if tag == "array":
            array = self.array(body)
            return array.astype(object) if value.get("as_object") else array
        if tag == "scalar":
            return np.dtype(str(body)).type(self.decode(value["value"]))
        if tag == "dtype":
            dtype = np.dtype(str(body))
            if dtype.hasobject:
                raise self.fail(f"an object dtype {body!r}")
            return dtype
        if tag == "type":
            if body not in _TYPES:
                raise self.fail(f"an unknown type {body!r}")
            return _TYPES[body]
        if tag == "slice":
            return slice(*(self.decode(v) for v in body))
        if tag == "vocabulary":
            keys, values = (self.array(k) for k in body)
            return dict(zip(keys.tolist(), values.tolist()))
        if tag == "bspline":
            from scipy.interpolate import BSpline

            return BSpline.construct_fast(self.decode(body["t"]), self.decode(body["c"]), int(body["k"]),
                                          extrapolate=self.decode(body["extrapolate"]), axis=int(body["axis"]))
        if tag == "series":
            import pandas as pd

            return pd.Series(self.decode(body["values"]), index=self.decode(body["index"]),
                             name=self.decode(body["name"]))
        return self._object(body, value.get("state"))

    def _object(self, name: Any, state: Any) -> Any:
        cls = self.by_name.get(name) if isinstance(name, str) else None
        if cls is None:
            raise self.fail(f"the class {str(name)[:100]!r} is not one cxlens loads from a saved model")
        if not isinstance(state, dict) or not all(isinstance(k, str) and k.isidentifier()
                                                  and not k.startswith("__") for k in state):
            raise self.fail(f"a bad state for {name}")
        decoded = {k: self.decode(v) for k, v in state.items()}
        obj = cls.__new__(cls)  # as unpickling does, with no __reduce__: no code named by the file runs
        if hasattr(cls, "__setstate__"):  # scikit-learn's: warns when the versions differ
            obj.__setstate__(decoded)
        else:
            obj.__dict__.update(decoded)
        hook = _HOOKS.get(name)
        if hook is not None:
            hook(obj)
        return obj


def load_state(folder: str | Path, stem: str, *, extra_types: Iterable[type] = ()) -> Any:
    """What :func:`save_state` wrote in ``folder``."""
    folder = Path(folder)
    json_path, npz_path = folder / f"{stem}.json", folder / f"{stem}.npz"
    for path in (json_path, npz_path):
        if not path.is_file():
            raise DataError(f"{folder} is not a saved cxlens model: {path.name} is missing.")
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{json_path} is not valid JSON ({exc}); re-save the model.") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError(f"{json_path}: unknown format {doc.get('format') if isinstance(doc, dict) else None!r} "
                        f"(expected {FORMAT}); re-save the model with this version of cxlens.")
    try:
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as exc:  # an object array: np.load refuses to unpickle it
        raise UntrustedModelError(f"{npz_path} holds pickled objects ({exc}); cxlens does not load them.") from exc
    reader = _Reader(arrays, extra_types, json_path)
    try:
        obj = reader.decode(doc.get("root"))
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        raise reader.fail(f"it could not be read back ({type(exc).__name__}: {exc})") from exc
    return obj


# ---------------------------------------------------------------- old pickle files


def is_pickle_file(path: str | Path) -> bool:
    """A joblib / pickle file, by its suffix or its first bytes (pickle protocol 2+; joblib's zlib, gzip, bz2, xz,
    lz4 compression)."""
    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return True
    try:
        with path.open("rb") as f:
            head = f.read(6)
    except OSError:
        return False
    zlib = head[:2] in (b"x\x01", b"x\x5e", b"x\x9c", b"x\xda")
    return head[:1] == b"\x80" or zlib or head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x04\x22\x4d\x18"))


def load_pickle(path: str | Path, *, trust_model: bool, resave: str) -> Any:
    """``joblib.load(path)`` when ``trust_model`` is true; otherwise :class:`~cxlens.errors.UntrustedModelError`,
    raised before a byte of the file is read. ``resave``: how to write it again in the safe format."""
    if trust_model is not True:
        raise UntrustedModelError(
            f"{path} is a joblib (pickle) file, and loading one can run any code it carries, so cxlens does not "
            "load it unless told the file is trusted. If you made it yourself, pass {trust_model=True} to load it "
            f"anyway, then {resave}; otherwise do not use it.", params=("trust_model",))
    import joblib

    return joblib.load(path)
