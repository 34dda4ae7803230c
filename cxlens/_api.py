"""The public functions that take what a user holds (a loaded dataset, a scored archive, a path) and
call the KPI engine, the classifiers and the account jobs. They only adapt arguments: the work is
done by :mod:`cxlens.metrics`, :mod:`cxlens.nlp.classify` and :mod:`cxlens.pipelines.accounts`.

Heavy libraries are imported inside the functions, so ``import cxlens`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxlens.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from cxlens.config import KPIConfig
    from cxlens.metrics import KPIReport, Measure, Tables
    from cxlens.models.churn import ChurnModel
    from cxlens.models.health import HealthConfig
    from cxlens.nlp.classify import TextClassifier
    from cxlens.pipelines.accounts import AtRiskReview, ChurnTraining

__all__ = ["at_risk_review", "compute_kpis", "explain_kpi", "load_request_type_model", "train_churn"]

_KPI_TABLES = ("tickets", "messages", "accounts", "surveys", "mentions")


# ---------------------------------------------------------------- KPIs


def compute_kpis(data: Any, *, names: Sequence[str] | None = None, by: Sequence[str] = (),
                 period: str | None = None, config: KPIConfig | str | Path | None = None) -> KPIReport:
    """Every KPI whose inputs are present in ``data`` (or only ``names``), overall and per group.

    ``data``: a dataset from :func:`cxlens.load_dataset`, a scored archive from :func:`cxlens.read_scored`,
    or a dict of validated frames (``{"tickets": dataset.tickets[...]}``). ``by``: ticket columns to
    group by (``["channel", "team"]``); ``period``: ``day``, ``week``, ``month``, ``quarter`` or
    ``year`` of ticket creation. ``config``: a :class:`cxlens.KPIConfig` or the path of its TOML file
    (SLA targets, business hours, thresholds).

    Returns a report: ``.kpis`` (name -> value), ``.n`` (the rows each used), ``.groups``,
    ``.skipped`` (KPIs left out, with the inputs they miss), ``.to_frame()`` and ``.to_dict()``.
    """
    from cxlens.pipelines.kpi_report import kpi_report

    return kpi_report(_kpi_tables(data), config=_kpi_config(config), names=names, by=tuple(by), period=period)


def explain_kpi(name: str, data: Any, *,
                config: KPIConfig | str | Path | None = None) -> tuple[Measure, pd.DataFrame]:
    """One KPI and the rows behind it: ``(measure, rows)``; ``measure`` has ``value``, ``n`` and ``ids``.

    ``data`` and ``config`` as for :func:`compute_kpis`. The rows are those the measure counted
    (for ``sla_breaches``, the breaching tickets): the drill-down of ``cxlens kpis explain``.
    """
    from cxlens.metrics import explain_kpi as _explain

    return _explain(name, _kpi_tables(data), config=_kpi_config(config))


def _kpi_tables(data: Any) -> Tables:
    from cxlens.metrics import Tables, make_tables

    if isinstance(data, Tables):
        return data
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - set(_KPI_TABLES))
        if unknown:
            raise DataError(f"Unknown table(s) {', '.join(map(str, unknown))}: the KPI tables are "
                            f"{', '.join(_KPI_TABLES)}.")
        return make_tables(**{name: data.get(name) for name in _KPI_TABLES})
    frames = {name: getattr(data, name, None) for name in _KPI_TABLES}
    if all(frame is None for frame in frames.values()):
        raise DataError(f"No tables in the {type(data).__name__} given: pass a dataset from cxlens.load_dataset, "
                        "a scored archive from cxlens.read_scored, or a dict of frames such as {'tickets': ...}.")
    return make_tables(**frames)


def _kpi_config(config: KPIConfig | str | Path | None) -> KPIConfig | None:
    if config is None:
        return None
    from cxlens.config import KPIConfig, load_config

    return config if isinstance(config, KPIConfig) else load_config(config)


# ---------------------------------------------------------------- text models


def load_request_type_model(path: str | Path | None = None, *, trust_model: bool = False) -> TextClassifier:
    """The shipped request-type classifier, or the one saved in the folder ``path`` (``cxlens train
    classifier --out``). ``model.predict(texts)``, ``model.predict_confidence(texts)``: below its
    confidence threshold, or far from everything it was trained on, a text is ``other``.

    ``trust_model``: load a folder of an older cxlens whose head is a pickle (``head.joblib``), which can run any
    code it carries; without it such a folder is refused before it is read."""
    if path is None:
        from cxlens.nlp.classify import load_default_model

        return load_default_model()
    from cxlens.nlp.classify import load_classifier

    return load_classifier(path, trust_model=trust_model)


# ---------------------------------------------------------------- accounts


def _feature_tables(data: Any):
    from cxlens.models.features import FeatureTables

    if isinstance(data, FeatureTables):
        return data
    if getattr(data, "accounts", None) is None:
        raise DataError("The account jobs need the accounts table (one row per customer account): "
                        "load it with cxlens.load_dataset(accounts=..., tickets=..., ...).")
    from cxlens.pipelines.accounts import feature_tables

    return feature_tables(data)


def train_churn(data: Any, *, horizon_days: float | None = 90.0, label_col: str | None = None,
                as_of: str | pd.Timestamp | None = None, model: str = "auto",
                random_state: int = 0) -> ChurnTraining:
    """Fit the churn model on the history in ``data`` (a dataset with accounts; tickets, messages and
    surveys add features).

    ``horizon_days``: an account counts as churned at a snapshot when it churns (``churned_at``)
    within this many days after it; or give ``label_col``, an accounts column saying who churned.
    ``model``: ``auto`` (logistic unless gradient-boosted trees beat it clearly), ``logistic`` or
    ``hgb``. Validation is time-aware. Returns ``.model``, ``.metrics`` (ROC-AUC, PR-AUC, lift,
    Brier on validation) and ``.params``.
    """
    from cxlens.pipelines.accounts import train_churn as _train

    return _train(_feature_tables(data), horizon_days=None if label_col else horizon_days, label_col=label_col,
                  as_of=as_of, model=model, random_state=random_state)


def at_risk_review(data: Any, *, model: ChurnModel | str | Path | None = None, horizon_days: float = 90.0,
                   as_of: str | pd.Timestamp | None = None, health: HealthConfig | None = None,
                   fit_health_weights: bool = False, config: KPIConfig | str | Path | None = None,
                   random_state: int = 0, trust_model: bool = False, backtest_dates: int = 0) -> AtRiskReview:
    """Score every current account of ``data`` and assemble the at-risk review (``cxlens accounts at-risk``).

    ``model``: a fitted churn model (``train_churn(...).model``), its folder, or an MLflow URI such as
    ``models:/cxlens-churn@champion``; ``None`` trains one on this history first. ``as_of``: the review
    date (default: the day after the last event). ``health``: the health-score weights and bands
    (:class:`cxlens.HealthConfig`); ``fit_health_weights`` fits the weights on past churn.
    ``config``: KPI settings (``risk_threshold``: a fixed churn probability that counts as at risk; unset,
    the top decile or >= 2x the portfolio's base rate, whichever was more precise in the back-test over
    ``backtest_dates`` past dates, the top decile without one: ``.table["at_risk"]``, ``.summary["risk_rule"]``).
    ``trust_model``: load a ``model`` that is a pickle (an older cxlens's ``model.joblib``, an MLflow model),
    which can run any code it carries; without it such a model is refused before it is read.

    Returns ``.table`` (one row per account, ranked: churn probability, health score and band, MRR
    at risk, the top three reasons in words), ``.summary``, ``.retention`` (retention KPIs over the
    last ``horizon_days``), ``.retention_skipped`` and ``.tickets`` (the recent problem tickets).
    """
    from cxlens.pipelines.accounts import at_risk_review as _review

    if isinstance(model, (str, Path)):
        from cxlens.pipelines.accounts import load_churn_model

        model = load_churn_model(model, trust_model=trust_model)
    return _review(_feature_tables(data), model=model, horizon_days=horizon_days, as_of=as_of, health=health,
                   fit_health_weights=fit_health_weights, config=_kpi_config(config), random_state=random_state,
                   backtest_dates=backtest_dates)
