"""A logistic regression whose coefficients keep a sign given in advance (scikit-learn's estimator contract).

:class:`SignedLogisticRegression` minimises scikit-learn's L2-penalised logistic loss,
``0.5 * ||w||^2 + C * sum(log(1 + exp(-y_i (x_i . w + b))))`` (the intercept is not penalised), with
L-BFGS-B and bounds: a column with sign ``+1`` gets ``w >= 0``, ``-1`` gets ``w <= 0``, ``0`` is free.
The churn model uses it so that, e.g., a higher CSAT can never raise churn risk
(:mod:`cxlens.models.signals`). Without signs it is an ordinary L2 logistic regression.

:func:`column_signs` maps the input features' directions onto the columns a fitted preprocessing step
produces (a number's value column gets its feature's sign, its missing flag and spline terms none).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from cxlens.errors import DataError

__all__ = ["SignedLogisticRegression", "column_signs"]


class SignedLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary L2 logistic regression with sign-constrained coefficients.

    Parameters
    ----------
    C : float
        Inverse L2 strength (as scikit-learn's ``LogisticRegression``).
    signs : sequence of int or None
        One of ``+1``, ``-1``, ``0`` per input column (``None``: all free).
    max_iter : int
        L-BFGS-B iterations.

    Attributes
    ----------
    classes_, coef_ (1 x columns), intercept_ (1,), n_features_in_, n_iter_
    """

    def __init__(self, *, C: float = 1.0, signs=None, max_iter: int = 5000) -> None:
        self.C = C
        self.signs = signs
        self.max_iter = max_iter

    def fit(self, X, y) -> SignedLogisticRegression:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise DataError("SignedLogisticRegression needs exactly two classes in y.")
        target = (y == self.classes_[1]).astype(float)
        n, d = X.shape
        signs = np.zeros(d) if self.signs is None else np.asarray(self.signs, dtype=float)
        if signs.shape != (d,):
            raise DataError(f"SignedLogisticRegression: {len(signs)} signs for {d} columns.")
        bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs] + [(None, None)]
        C = float(self.C)

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:-1], theta[-1]
            z = X @ w + b
            value = 0.5 * float(w @ w) + C * float(np.sum(np.logaddexp(0.0, z) - target * z))
            residual = C * (expit(z) - target)
            return value, np.append(X.T @ residual + w, residual.sum())

        start = np.zeros(d + 1)
        rate = np.clip(target.mean(), 1e-6, 1 - 1e-6)
        start[-1] = np.log(rate / (1 - rate))
        result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": self.max_iter})
        self.coef_ = result.x[:-1].reshape(1, -1)
        self.intercept_ = np.array([result.x[-1]])
        self.n_features_in_ = d
        self.n_iter_ = np.array([int(result.nit)])
        return self

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return np.asarray(X, dtype=float) @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]


def column_signs(sources: list[str], names: list[str], directions: dict[str, int]) -> np.ndarray:
    """For each output column of the preprocessing (its input feature ``sources[j]``, its output name
    ``names[j]``), the sign it is constrained to: the feature's direction on every value column of a
    number (``f<i>__value__...``: the value and its rank, both increasing in it; constrained numbers get
    no spline basis), 0 everywhere else (missing flags, categories)."""
    signs = np.zeros(len(sources), dtype=np.int64)
    for j, (source, name) in enumerate(zip(sources, names)):
        if "__value__" in name:
            signs[j] = directions.get(source, 0)
    return signs
