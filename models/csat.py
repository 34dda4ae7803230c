"""Estimated CSAT for the tickets nobody rated: a model trained on the surveyed ones.

Only a few conversations get a CSAT answer (Intercom cites about 8 %). :class:`CsatModel` learns, from
the surveyed tickets, how a conversation that went like this one was rated, the design of Zendesk's
satisfaction prediction and Sprinklr's predicted CSAT:

* **text**: the customer's sentiment (``sentiment_score`` / ``sentiment`` when the tickets are scored);
* **request**: ``request_type``, ``channel``, ``priority``, ``team``;
* **timing**: hours to first response and to resolution, waiting and handling time;
* **effort**: agent replies, contacts, reopened, transfers (where the columns exist);
* **history**: the account's mean CSAT over its earlier rated tickets (strictly before this one).

:func:`ticket_features` builds these columns (never the answers themselves: CSAT, NPS, CES, nor the
generator's ``true_*`` columns); :class:`CsatModel` (scikit-learn contract) fits a logistic regression for
P(good rating) (>= ``good_threshold``, 4 of 5 by default) and a multinomial one for the 1-5 score;
``estimated_score`` is the expected score. Exact linear contributions give each ticket's top reasons.
Saved without pickle (:mod:`cxlens._estimator_store`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from cxlens._estimator_store import load_state, save_state
from cxlens.errors import DataError

__all__ = ["CsatModel", "TICKET_CATEGORIES", "TICKET_NUMBERS", "ticket_features"]

#: categorical ticket columns used when present
TICKET_CATEGORIES = ("request_type", "channel", "priority", "team", "sentiment")
#: numeric ticket columns used when present (durations in seconds become hours below)
TICKET_NUMBERS = ("sentiment_score", "agent_replies", "contacts", "transfers", "wait_time_s", "handle_time_s",
                  "paused_s")
_STEM = "csat_model"
_PHRASES = {
    "first_response_hours": lambda v: f"first reply after {v:.1f} h",
    "resolution_hours": lambda v: f"resolved after {v:.1f} h",
    "wait_time_s": lambda v: f"waited {v / 60:.0f} min",
    "handle_time_s": lambda v: f"handled for {v / 60:.0f} min",
    "paused_s": lambda v: f"paused for {v / 3600:.1f} h",
    "agent_replies": lambda v: f"{v:.0f} agent replies",
    "contacts": lambda v: f"{v:.0f} contacts",
    "transfers": lambda v: f"{v:.0f} transfers",
    "reopened": lambda v: "reopened" if v >= 0.5 else "not reopened",
    "sentiment_score": lambda v: f"customer sentiment {v:+.2f}",
    "account_csat_before": lambda v: f"this account's earlier CSAT {v:.1f} of 5",
}
#: a contribution (log-odds of a good rating) must lower it at least this much to be a reason
MIN_EFFECT = 0.1
#: +1: more of it makes a conversation worse (cited only above the surveyed tickets' median), -1: less of it
_WORSE = {"first_response_hours": 1, "resolution_hours": 1, "wait_time_s": 1, "handle_time_s": 1, "paused_s": 1,
          "agent_replies": 1, "contacts": 1, "transfers": 1, "reopened": 1, "sentiment_score": -1,
          "account_csat_before": -1}


def _hours(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() / 3600.0


def ticket_features(tickets: pd.DataFrame) -> pd.DataFrame:
    """One row per ticket (same index), the columns :class:`CsatModel` reads (see the module docstring)."""
    out = pd.DataFrame(index=tickets.index)
    for col in TICKET_CATEGORIES:
        if col in tickets:  # pandas categories: one copy of each level, not a string per ticket
            out[col] = tickets[col].astype("category")
    for col in TICKET_NUMBERS:
        if col in tickets:
            out[col] = pd.to_numeric(tickets[col], errors="coerce").astype("float64")
    if "reopened" in tickets:
        out["reopened"] = tickets["reopened"].astype("boolean").astype("float64")
    if "created_at" in tickets:
        for col, name in (("first_response_at", "first_response_hours"), ("resolved_at", "resolution_hours")):
            if col in tickets:
                out[name] = _hours(tickets[col], tickets["created_at"])
        if {"account_id", "csat"} <= set(tickets.columns):
            out["account_csat_before"] = _earlier_mean(tickets)
    return out


def _earlier_mean(tickets: pd.DataFrame) -> pd.Series:
    """Per ticket, the mean CSAT of the same account's tickets created strictly before it (NaN if none)."""
    order = tickets[["created_at", "account_id", "csat"]].sort_values("created_at", kind="stable")
    score = pd.to_numeric(order["csat"], errors="coerce")
    account = order["account_id"].astype(object).where(order["account_id"].notna(), "__none__")
    total = score.fillna(0.0).groupby(account).cumsum() - score.fillna(0.0)
    count = score.notna().astype(float).groupby(account).cumsum() - score.notna().astype(float)
    mean = (total / count.where(count > 0)).where(order["account_id"].notna())
    return mean.reindex(tickets.index)


def _preprocessing(X: pd.DataFrame, columns: list[str], categorical: dict[str, bool]) -> ColumnTransformer:
    parts = []
    for i, col in enumerate(columns):
        if categorical[col]:
            pipe = Pipeline([("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5,
                                                      sparse_output=False)), ("scale", StandardScaler())])
        else:
            value = Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True))])
            union = FeatureUnion([("value", value), ("missing", MissingIndicator(features="all"))])
            pipe = Pipeline([("expand", union), ("scale", StandardScaler())])
        parts.append((f"f{i}", pipe, [col]))
    return ColumnTransformer(parts, remainder="drop")


def _clean(X: pd.DataFrame, columns: list[str], categorical: dict[str, bool]) -> pd.DataFrame:
    out = {}
    for col in columns:
        values = X[col] if col in X else pd.Series(np.nan, index=X.index)
        if categorical[col]:
            out[col] = values.astype(object).where(values.notna(), "missing").astype(str)
        else:
            out[col] = pd.to_numeric(values, errors="coerce").astype("float64")
    return pd.DataFrame(out, index=X.index)


class CsatModel(ClassifierMixin, BaseEstimator):
    """P(good rating) and an estimated 1-5 score per ticket, from how the conversation went.

    Parameters
    ----------
    C : float
        Inverse L2 strength of both logistic regressions.
    good_threshold : float
        A rating at or above this is good (4 of 5, as the ``csat`` KPI's ``csat_threshold``).

    Attributes
    ----------
    classes_ ([0, 1]: bad, good), features_used_, categorical_, medians_ (numbers, on the surveyed
    tickets), preprocessing_, good_model_ (binary), score_model_ (multinomial over the ratings seen),
    n_features_in_
    """

    def __init__(self, *, C: float = 0.5, good_threshold: float = 4.0) -> None:
        self.C = C
        self.good_threshold = good_threshold

    def fit(self, X: pd.DataFrame, y) -> CsatModel:
        """``X``: :func:`ticket_features` of rated tickets; ``y``: their ratings (1-5)."""
        if not isinstance(X, pd.DataFrame):
            raise DataError("CsatModel.fit needs a DataFrame of ticket features (cxlens.models.csat.ticket_features).")
        ratings = pd.to_numeric(pd.Series(np.asarray(y)), errors="coerce").to_numpy(dtype=float)
        if np.isnan(ratings).any() or len(ratings) != len(X):
            raise DataError("CsatModel.fit: y must be one rating per row of X, with no missing value.")
        good = (ratings >= self.good_threshold).astype(int)
        if len(np.unique(good)) < 2:
            raise DataError("Every rated ticket is on the same side of the good-rating line: an estimate needs "
                            "both good and bad ratings.")
        self.n_features_in_ = X.shape[1]
        self.features_used_ = [c for c in X.columns if X[c].notna().any() and X[c].nunique(dropna=False) > 1]
        if not self.features_used_:
            raise DataError("No ticket column varies: an estimated CSAT needs timing, effort or text columns.")
        self.categorical_ = {c: not pd.api.types.is_numeric_dtype(X[c]) for c in self.features_used_}
        clean = _clean(X, self.features_used_, self.categorical_)
        self.preprocessing_ = _preprocessing(clean, self.features_used_, self.categorical_).fit(clean)
        Z = self.preprocessing_.transform(clean)
        self.medians_ = {c: float(clean[c].median()) for c in self.features_used_ if not self.categorical_[c]}
        self.classes_ = np.array([0, 1])
        self.good_model_ = LogisticRegression(C=self.C, max_iter=5000).fit(Z, good)
        self.score_model_ = LogisticRegression(C=self.C, max_iter=5000).fit(Z, np.rint(ratings).astype(int))
        return self

    def _z(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "good_model_")
        return self.preprocessing_.transform(_clean(X, self.features_used_, self.categorical_))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Columns ``[bad, good]``: the probability of a rating below / at or above ``good_threshold``."""
        Z = self._z(X)  # checks that the model is fitted
        return self.good_model_.predict_proba(Z)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def estimated_score(self, X: pd.DataFrame) -> np.ndarray:
        """The expected rating (1-5 scale): sum over ratings of rating x its probability."""
        Z = self._z(X)
        p = self.score_model_.predict_proba(Z)
        return p @ self.score_model_.classes_.astype(float)

    def reasons(self, X: pd.DataFrame, *, k: int = 2) -> list[list[str]]:
        """Per ticket, the ``k`` features that lower its chance of a good rating most (exact: the linear
        model's contributions, at least ``MIN_EFFECT`` in log-odds; known values only), in words, e.g.
        ``"first reply after 30.0 h"``; empty when none lowers it."""
        Z = self._z(X)
        names = self.preprocessing_.get_feature_names_out()
        position = {f: i for i, f in enumerate(self.features_used_)}
        columns = np.array([position[self.features_used_[int(n.split("__", 1)[0][1:])]] for n in names])
        per_feature = np.zeros((len(Z), len(self.features_used_)))
        np.add.at(per_feature.T, columns, (Z * self.good_model_.coef_[0]).T)
        values = _clean(X, self.features_used_, self.categorical_)
        eligible = per_feature <= -MIN_EFFECT
        for j, feature in enumerate(self.features_used_):  # known values, on their bad side: one pass per column
            column = values[feature]
            known = column.ne("missing").to_numpy() if self.categorical_[feature] else column.notna().to_numpy()
            eligible[:, j] &= known & self._worse_than_usual(feature, column)
        order = np.argsort(np.where(eligible, per_feature, np.inf), axis=1, kind="stable")[:, :k]
        cells = values.to_numpy(dtype=object)
        return [[_reason(self.features_used_[j], cells[i, j]) for j in order[i] if eligible[i, j]]
                for i in range(len(Z))]

    def _worse_than_usual(self, feature: str, values: pd.Series) -> np.ndarray:
        """A timing, effort or sentiment value is a reason only on its bad side of the surveyed median."""
        direction = _WORSE.get(feature)
        if direction is None or self.categorical_[feature]:
            return np.ones(len(values), dtype=bool)
        numbers = values.to_numpy(dtype=float)
        if feature == "reopened":
            return numbers >= 0.5
        median = self.medians_.get(feature, np.nan)
        return numbers > median if direction > 0 else numbers < median

    def save(self, folder) -> dict:
        """``csat_model.json`` + ``csat_model.npz`` in ``folder``: no pickle."""
        check_is_fitted(self, "good_model_")
        return save_state(self, folder, _STEM, extra_types=(CsatModel,))

    @classmethod
    def load(cls, folder) -> CsatModel:
        model = load_state(folder, _STEM, extra_types=(CsatModel,))
        if not isinstance(model, CsatModel):
            raise DataError(f"{folder}: {_STEM}.json does not hold a CSAT model; estimate again.")
        return model


def _reason(feature: str, value: object) -> str:
    if isinstance(value, str):
        return f"{feature.replace('_', ' ')}: {value}"
    if feature in _PHRASES:
        return _PHRASES[feature](float(value))
    return f"{feature.replace('_', ' ')} {float(value):,.3g}"
