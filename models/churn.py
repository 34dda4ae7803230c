"""The churn model: a calibrated scikit-learn classifier on account features.

:class:`ChurnModel` follows the scikit-learn estimator contract (``__init__``
stores parameters, ``fit`` returns ``self``, learned state ends in ``_``).
``fit`` does, in order:

1. **preprocessing** per input column: numbers are median-imputed, expanded
   into a cubic spline basis for the linear model (so it can bend, e.g. risk
   falling steeply over the first months of tenure), given a missing-value
   flag and standardised; categories are one-hot encoded (rare and unseen
   levels pooled) and standardised.  One transformer per input
   column, so every model column maps back to exactly one account feature.  Signals with a known direction
   (:mod:`cxlens.models.signals`: CSAT, NPS, CES, sentiment, unresolved tickets, SLA breaches, reopen
   rate, response times, usage) are constrained to it when ``monotonic=True``: a linear term with a
   sign-constrained coefficient in the logistic model
   (:class:`~cxlens.models.constrained.SignedLogisticRegression`), a monotonic constraint in the
   boosted one; so a higher CSAT can never raise the risk.
2. **model choice** (``model="auto"``): a logistic regression and a
   ``HistGradientBoostingClassifier`` are scored by ROC-AUC on validation folds;
   the boosted model is kept only if it beats the linear one by more than
   ``selection_margin`` (the linear one has exact explanations).  The folds are
   time-aware when the caller passes ``splits`` (see
   :func:`cxlens.models.labels.time_splits`), else stratified k-fold, grouped by
   account when ``groups`` is given.
3. **calibration** (Platt scaling): a logistic fit of the label on the chosen
   model's out-of-fold log-odds, ``logit p = a * f(x) + b``.  A slope ``a <= 0``
   (time folds too small to carry signal) would invert the ranking: then the
   map is refitted on folds grouped by account, and left out if still ``<= 0``.  The final model
   is refitted on all rows; the map is monotone, so rankings do not change and
   explanations stay additive in the calibrated log-odds.

``decision_function`` returns the calibrated log-odds, ``predict_proba`` the
calibrated probabilities.  :meth:`ChurnModel.explain` returns per-account
contributions (see :mod:`cxlens.models.explain`).

:meth:`ChurnModel.save` writes the fitted model as ``churn_model.json`` +
``churn_model.npz`` (no pickle: :mod:`cxlens._estimator_store`), and
:meth:`ChurnModel.load` reads it back with ``json`` and ``np.load(allow_pickle=False)``.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, SplineTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from cxlens._estimator_store import load_state, save_state
from cxlens.errors import ConfigError, DataError
from cxlens.models.constrained import SignedLogisticRegression, column_signs
from cxlens.models.signals import feature_direction

__all__ = ["ChurnModel", "MODEL_FILES", "MODEL_KINDS"]

log = logging.getLogger(__name__)
MODEL_KINDS = ("auto", "logistic", "hgb")
#: the files :meth:`ChurnModel.save` writes into a folder
_STEM = "churn_model"
MODEL_FILES = (f"{_STEM}.json", f"{_STEM}.npz")


def _column_pipeline(values: pd.Series, *, spline_knots: int, monotone: bool = False) -> Pipeline:
    """The transformer for one input column.

    Categories: one-hot (levels seen fewer than 5 times pooled; unseen levels go
    there too), standardised.  Numbers: the median-imputed value, expanded into
    a cubic spline basis when it takes many values (``spline_knots`` quantile
    knots fixed from the data given; linear extrapolation), plus a missing-value
    flag, standardised.
    """
    if not pd.api.types.is_numeric_dtype(values):
        return Pipeline([("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5,
                                                  sparse_output=False)),
                         ("scale", StandardScaler())])
    value_steps: list[tuple[str, object]] = [("impute", SimpleImputer(strategy="median", keep_empty_features=True))]
    present = values.dropna().to_numpy(dtype=float)
    if monotone and len(np.unique(present)) > 2:
        # the value and its rank: two increasing columns, so the same sign on both keeps the effect monotone
        # quantiles from a quarter of the rows at most: the validation folds fit on fewer rows than this
        ranks = QuantileTransformer(n_quantiles=int(min(50, max(2, len(present) // 4))), subsample=None)
        value_steps.append(("monotone", FeatureUnion([("linear", StandardScaler()), ("rank", ranks)])))
    elif spline_knots >= 2 and len(np.unique(present)) > 2 * spline_knots:
        knots = np.unique(np.quantile(present, np.linspace(0, 1, spline_knots)))
        if len(knots) >= 2:
            value_steps.append(("spline", SplineTransformer(knots=knots.reshape(-1, 1), degree=3,
                                                            extrapolation="linear")))
    union = FeatureUnion([("value", Pipeline(value_steps)), ("missing", MissingIndicator(features="all"))])
    return Pipeline([("expand", union), ("scale", StandardScaler())])


def _clean(X: pd.DataFrame, columns: list[str], categorical: dict[str, bool]) -> pd.DataFrame:
    """The used columns with canonical types: categories as strings ("missing" for none), numbers as floats."""
    out = {}
    for col in columns:
        values = X[col]
        if categorical[col]:
            out[col] = values.astype(object).where(values.notna(), "missing").astype(str)
        else:
            out[col] = pd.to_numeric(values, errors="coerce").astype("float64")
    return pd.DataFrame(out, index=X.index)


def _platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: ``(a, b)`` of ``logit P(churn) = a * logit + b`` fitted on out-of-fold log-odds."""
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(logits.reshape(-1, 1), y)
    return float(platt.coef_[0, 0]), float(platt.intercept_[0])


def _to_frame(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        raise DataError(f"Expected a 2-D table of features, got shape {array.shape}.")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Calibrated churn classifier: logistic or gradient-boosted, chosen by validation.

    Parameters
    ----------
    model : {"auto", "logistic", "hgb"}
        Which model to fit; ``auto`` picks by validation ROC-AUC.
    cv : int
        Folds for model choice and calibration when no ``splits`` are given.
    C : float
        Inverse L2 strength of the logistic regression.
    spline_knots : int
        Knots of the cubic spline basis for numeric inputs of the logistic model (0: linear terms).
    max_iter, learning_rate, max_leaf_nodes, l2_regularization :
        HistGradientBoosting settings.
    selection_margin : float
        ROC-AUC the boosted model must gain over the linear one to be chosen.
    min_rows_for_trees : int
        With fewer training rows, ``auto`` fits only the logistic model (trees overfit small histories).
    calibrate : bool
        Platt-scale the chosen model on out-of-fold predictions.
    monotonic : bool
        Constrain the signals of known direction (:func:`cxlens.models.signals.feature_direction`).
    n_threads : int or None
        BLAS/OpenMP threads while fitting and predicting (None: the library default, all cores).
        One by default: account tables are small, and OpenMP on a busy shared machine can be
        many times slower than one thread.
    random_state : int

    Attributes
    ----------
    classes_, feature_names_in_, n_features_in_, features_used_ (inputs that vary),
    categorical_ (input -> bool), pipeline_ (the fitted sklearn Pipeline),
    model_kind_ ("logistic" or "hgb"), directions_ (constrained input -> +1 / -1),
    validation_ ("time", "grouped-kfold", "kfold"),
    validation_scores_ (model -> ROC-AUC), calibration_ ((a, b) of the Platt map),
    oof_proba_ / oof_y_ (calibrated out-of-fold probabilities and their labels).
    """

    def __init__(self, *, model: str = "auto", cv: int = 5, C: float = 0.1, spline_knots: int = 4,
                 max_iter: int = 200,
                 learning_rate: float = 0.05, max_leaf_nodes: int = 15, l2_regularization: float = 1.0,
                 selection_margin: float = 0.005, min_rows_for_trees: int = 500, calibrate: bool = True,
                 monotonic: bool = True, n_threads: int | None = 1, random_state: int = 0) -> None:
        self.model = model
        self.cv = cv
        self.C = C
        self.spline_knots = spline_knots
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.selection_margin = selection_margin
        self.min_rows_for_trees = min_rows_for_trees
        self.calibrate = calibrate
        self.monotonic = monotonic
        self.n_threads = n_threads
        self.random_state = random_state

    # ------------------------------------------------------------ building blocks

    def _estimator(self, kind: str):
        if kind == "logistic":
            if self.directions_:
                return SignedLogisticRegression(C=self.C, max_iter=5000)
            return LogisticRegression(C=self.C, max_iter=5000)
        return HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                              max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=20,
                                              l2_regularization=self.l2_regularization, early_stopping=False,
                                              random_state=self.random_state)

    def _pipeline(self, X: pd.DataFrame, kind: str) -> Pipeline:
        transformers = []
        for i, col in enumerate(self.features_used_):
            knots = self.spline_knots if kind == "logistic" else 0
            pipe = _column_pipeline(X[col], spline_knots=knots, monotone=kind == "logistic" and col in self.directions_)
            transformers.append((f"f{i}", pipe, [col]))
        pre = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=True)
        return Pipeline([("features", pre), ("model", self._estimator(kind))])

    def _fit_pipeline(self, pipe: Pipeline, X: pd.DataFrame, y: np.ndarray) -> Pipeline:
        """Fit ``pipe``; with constrained signals, first fit its preprocessing to learn which output column
        carries each signal's value, and constrain the model there (signs / ``monotonic_cst``)."""
        if not self.directions_:
            return pipe.fit(X, y)
        names = list(pipe.named_steps["features"].fit(X).get_feature_names_out())
        sources = [self.features_used_[int(name.split("__", 1)[0][1:])] for name in names]
        signs = column_signs(sources, names, self.directions_).tolist()
        if isinstance(pipe.named_steps["model"], SignedLogisticRegression):
            pipe.set_params(model__signs=signs)
        elif isinstance(pipe.named_steps["model"], HistGradientBoostingClassifier):
            pipe.set_params(model__monotonic_cst=signs)
        return pipe.fit(X, y)

    def _splits(self, X: pd.DataFrame, y: np.ndarray, groups, splits) -> list[tuple[np.ndarray, np.ndarray]]:
        if splits:
            self.validation_ = "time"
            return [(np.asarray(tr), np.asarray(va)) for tr, va in splits]
        n_minority = int(min(np.bincount(y)))
        folds = max(2, min(self.cv, n_minority))
        if groups is not None and len(pd.unique(np.asarray(groups))) < len(y):
            self.validation_ = "grouped-kfold"
            splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
            return list(splitter.split(X, y, groups=np.asarray(groups)))
        self.validation_ = "kfold"
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        return list(splitter.split(X, y))

    def _oof_logits(self, X: pd.DataFrame, y: np.ndarray, kind: str,
                    folds: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """Out-of-fold raw log-odds on the validation rows (rows, logits)."""
        rows, logits = [], []
        template = self._pipeline(X, kind)
        for train, val in folds:
            if len(np.unique(y[train])) < 2:
                continue
            fitted = self._fit_pipeline(clone(template), X.iloc[train], y[train])
            rows.append(val)
            logits.append(fitted.decision_function(X.iloc[val]))
        if not rows:
            raise DataError("No validation fold has both churned and retained accounts in training.")
        return np.concatenate(rows), np.concatenate(logits)

    # ------------------------------------------------------------ estimator API

    def fit(self, X, y, *, groups=None, splits=None) -> ChurnModel:
        """Choose, calibrate and fit. ``groups``: account ids (rows of one account stay in one fold);
        ``splits``: explicit (train_idx, val_idx) folds, e.g. time-aware ones."""
        with threadpool_limits(limits=self.n_threads):
            return self._fit(X, y, groups=groups, splits=splits)

    def _fit(self, X, y, *, groups, splits) -> ChurnModel:
        if self.model not in MODEL_KINDS:
            raise ConfigError(f"ChurnModel(model={self.model!r}): use one of {', '.join(MODEL_KINDS)}.")
        X = _to_frame(X)
        y = np.asarray(y).astype(int)
        if len(X) != len(y):
            raise DataError(f"X has {len(X)} rows but y has {len(y)}.")
        self.classes_ = np.array([0, 1])
        if set(np.unique(y)) != {0, 1}:
            raise DataError("The churn label needs both classes (0 = retained, 1 = churned).")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.features_used_ = [c for c in X.columns
                               if X[c].notna().any() and X[c].nunique(dropna=False) > 1]
        if not self.features_used_:
            raise DataError("No usable feature: every feature column is empty or constant. "
                            "Add tickets (with account_id) or account columns that vary.")
        self.categorical_ = {c: not pd.api.types.is_numeric_dtype(X[c]) for c in self.features_used_}
        directions = {c: feature_direction(c) for c in self.features_used_ if not self.categorical_[c]}
        self.directions_ = {c: d for c, d in directions.items() if d and self.monotonic}
        X = _clean(X, self.features_used_, self.categorical_)
        folds = self._splits(X, y, groups, splits)
        kinds = [self.model]
        if self.model == "auto":
            kinds = ["logistic", "hgb"] if len(y) >= self.min_rows_for_trees else ["logistic"]
        oof = {}
        self.validation_scores_ = {}
        for kind in kinds:
            rows, logits = self._oof_logits(X, y, kind, folds)
            oof[kind] = (rows, logits)
            self.validation_scores_[kind] = float(roc_auc_score(y[rows], logits))
        chosen = kinds[0]
        scores = self.validation_scores_
        if len(kinds) == 2 and scores["hgb"] > scores["logistic"] + self.selection_margin:
            chosen = "hgb"
        self.model_kind_ = chosen
        rows, logits = oof[chosen]
        self.calibration_ = (1.0, 0.0)
        if self.calibrate:
            a, b = _platt(logits, y[rows])
            if a <= 0 and self.validation_ == "time":
                # the time folds are too small to calibrate on (their ranking is noise):
                # calibrate on folds grouped by account instead
                log.warning("time-aware validation folds too small to calibrate on; calibrating on grouped folds")
                folds = self._splits(X, y, groups, None)
                self.validation_ = f"time (calibrated on {self.validation_})"
                rows, logits = self._oof_logits(X, y, chosen, folds)
                a, b = _platt(logits, y[rows])
            if a > 0:
                self.calibration_ = (a, b)
            else:
                log.warning("the churn model has no out-of-fold signal (Platt slope %.3f <= 0); "
                            "probabilities are left uncalibrated", a)
        a, b = self.calibration_
        self.oof_proba_ = expit(a * logits + b)  # the logistic function, without overflow on large logits
        self.oof_y_ = y[rows]
        self.pipeline_ = self._fit_pipeline(self._pipeline(X, chosen), X, y)
        if chosen == "hgb" and importlib.util.find_spec("shap") is None:
            from sklearn.inspection import permutation_importance

            result = permutation_importance(self.pipeline_, X, y, scoring="roc_auc", n_repeats=5,
                                            random_state=self.random_state)
            self.permutation_importance_ = pd.Series(result.importances_mean, index=X.columns).sort_values(
                ascending=False)
        log.info("churn model: %s chosen (validation %s, ROC-AUC %s), calibration a=%.3f b=%.3f", chosen,
                 self.validation_, {k: round(v, 3) for k, v in self.validation_scores_.items()}, a, b)
        return self

    def _prepare(self, X) -> pd.DataFrame:
        check_is_fitted(self, "pipeline_")
        X = _to_frame(X)
        missing = [c for c in self.features_used_ if c not in X.columns]
        if missing:
            log.warning("scoring without feature(s) %s (treated as missing)", ", ".join(missing))
            X = X.copy()
            for col in missing:
                X[col] = None if self.categorical_[col] else np.nan
        return _clean(X, self.features_used_, self.categorical_)

    def raw_decision_function(self, X) -> np.ndarray:
        """The fitted model's log-odds before calibration."""
        prepared = self._prepare(X)  # checks that the model is fitted
        with threadpool_limits(limits=self.n_threads):
            return self.pipeline_.decision_function(prepared)

    def decision_function(self, X) -> np.ndarray:
        """Calibrated log-odds of churn."""
        raw = self.raw_decision_function(X)
        a, b = self.calibration_
        return a * raw + b

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probabilities, columns ``[retained, churned]``."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def explain(self, X, *, background=None):
        """Per-account contributions to the calibrated log-odds; see :func:`cxlens.models.explain.explain`."""
        from cxlens.models.explain import explain

        return explain(self, X, background=background)

    def save(self, folder: str | Path) -> dict[str, Path]:
        """Write the fitted model into ``folder`` (created) as ``churn_model.json`` (structure, parameters) and
        ``churn_model.npz`` (arrays): no pickle, so loading it runs no code from the files."""
        check_is_fitted(self, "pipeline_")
        return save_state(self, folder, _STEM, extra_types=(ChurnModel, SignedLogisticRegression))

    @classmethod
    def load(cls, folder: str | Path) -> ChurnModel:
        """The model :meth:`save` wrote in ``folder``."""
        model = load_state(folder, _STEM, extra_types=(ChurnModel, SignedLogisticRegression))
        if not isinstance(model, ChurnModel) or not hasattr(model, "pipeline_"):
            raise DataError(f"{folder}: {_STEM}.json does not hold a fitted churn model; train it again.")
        return model

    def transformed_columns(self) -> list[str]:
        """For each model column, the input feature it comes from (same order as the model sees them)."""
        check_is_fitted(self, "pipeline_")
        names = self.pipeline_.named_steps["features"].get_feature_names_out()
        return [self.features_used_[int(name.split("__", 1)[0][1:])] for name in names]
