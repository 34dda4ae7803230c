"""Account jobs: train the churn model, score accounts, and the Monday at-risk review.

Plain functions named for what they return; the CLI (``cxlens train churn``,
``cxlens accounts score | at-risk``) only parses arguments and calls them.

* :func:`train_churn` -> :class:`ChurnTraining` (model, validation metrics, training set);
  :func:`save_churn_model` writes it to a folder, :func:`track_churn_training`
  logs it to MLflow and registers it (alias ``champion``).
* :func:`load_churn_model` loads from a folder (``churn_model.json`` + ``.npz``: no pickle)
  or, with ``trust_model=True`` only (a pickle can run code when loaded), an MLflow URI
  (``models:/cxlens-churn@champion``) or a ``model.joblib`` of an older cxlens.
* :func:`score_accounts` -> one row per current account: churn probability,
  health score and band, MRR at risk, top three reasons in words.
* :func:`at_risk_review` -> :class:`AtRiskReview` (the ranked table, the
  summary, the retention KPIs, the tickets behind each account);
  :func:`write_at_risk_review` writes ``at_risk.csv`` and ``at_risk.html``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlens._estimator_store import is_pickle_file, load_pickle
from cxlens.config import KPIConfig
from cxlens.errors import ConfigError, ConfigProblem, DataError, InvalidConfigError, UntrustedModelError
from cxlens.models.churn import MODEL_FILES, ChurnModel
from cxlens.models.features import FEATURE_TICKET_COLUMNS, FeatureTables, as_utc, build_features, default_as_of
from cxlens.models.health import HealthConfig, component_scores, fit_weights, health_scores
from cxlens.models.labels import TrainingSet, sampled_by_account, time_splits, training_set
from cxlens.models.reasons import EVIDENCE_TICKET_COLUMNS, account_reasons, reason_evidence
from cxlens.models.risk import DEFAULT_RISK_RULE, RiskRule
from cxlens.pipelines._accounts_backtest import backtest_records, backtest_rule
from cxlens.pipelines._accounts_backtest import risk_backtest as _risk_backtest

__all__ = [
    "AtRiskReview", "ChurnTraining", "RETENTION_KPIS", "REVIEW_TICKET_COLUMNS", "at_risk_review", "backtest_rule",
    "evaluation_metrics",
    "flagged_accounts",
    "feature_tables", "fitted_health_config", "load_churn_model", "recent_problem_tickets",
    "retention_metrics", "risk_backtest", "save_churn_model", "score_accounts", "track_churn_training",
    "train_churn", "write_at_risk_review",
]

log = logging.getLogger(__name__)
#: the pickled model of a folder written before cxlens saved without pickle
LEGACY_MODEL_FILE = "model.joblib"
_RESAVE = ("save it again without pickle (in Python: cxlens.pipelines.accounts.load_churn_model(path, "
           "trust_model=True).save(folder)) or train it again with `cxlens train churn`")
#: Training rows (accounts x snapshots) above which :func:`train_churn` fits on a sample of the accounts.
MAX_TRAINING_ROWS = 500_000
REGISTERED_NAME = "cxlens-churn"
RETENTION_KPIS = ("churn_rate", "retention_rate", "mrr_new", "mrr_expansion", "mrr_contraction", "mrr_churned",
                  "net_revenue_retention", "customer_lifetime_value", "predicted_churn_rate", "at_risk_accounts",
                  "revenue_at_risk", "customer_health_score")


def feature_tables(dataset) -> FeatureTables:
    """The tables the account features read, from a loaded :class:`cxlens.dataset.Dataset`."""
    if dataset.accounts is None:
        raise DataError("Account jobs need the accounts table: give {accounts}.", params=("accounts",))
    return FeatureTables(accounts=dataset.accounts, tickets=dataset.tickets, messages=dataset.messages,
                         surveys=dataset.surveys)


# ---------------------------------------------------------------- training


def evaluation_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """ROC-AUC, PR-AUC, Brier, log loss and top-decile lift of probabilities ``p`` for labels ``y``."""
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    both = len(np.unique(y)) == 2
    k = max(1, int(round(len(y) * 0.1)))
    top = np.argsort(-p, kind="stable")[:k]
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1])),
        "lift_top_decile": float(y[top].mean() / y.mean()) if y.mean() > 0 else None,
        "n_validation": float(len(y)),
        "churn_rate_validation": float(y.mean()),
    }


@dataclass
class ChurnTraining:
    """A fitted churn model with how it was trained and validated."""

    model: ChurnModel
    data: TrainingSet
    metrics: dict[str, float | None]
    params: dict[str, Any] = field(default_factory=dict)


def train_churn(tables: FeatureTables, *, horizon_days: float | None = None, label_col: str | None = None,
                as_of: str | pd.Timestamp | None = None, model: str = "auto", random_state: int = 0,
                step_days: float = 30.0, max_snapshots: int = 12,
                max_rows: int | None = MAX_TRAINING_ROWS) -> ChurnTraining:
    """Build the point-in-time training set and fit a :class:`ChurnModel` (time-aware folds when possible).

    ``max_rows``: above this many rows (accounts x snapshots), the model is fitted on every row of a
    seeded sample of the accounts (:func:`cxlens.models.labels.sampled_by_account`); ``None`` uses all.
    On a 125,000-account history, fitting on every row raised the process's memory by 1.5 GB, most of it
    in the logistic model's out-of-fold fits (its spline features expand the rows into one dense matrix).
    """
    data = training_set(tables, horizon_days=horizon_days, label_col=label_col, as_of=as_of,
                        step_days=step_days, max_snapshots=max_snapshots)
    available = len(data.y)
    if max_rows is not None and available > max_rows:
        data = sampled_by_account(data, max_rows=max_rows, seed=random_state)
        log.info("churn model: fitted on %d of %d training rows (every snapshot of a sample of %d accounts)",
                 len(data.y), available, len(set(data.account_id)))
    splits = None
    if horizon_days is not None:
        splits = time_splits(data.snapshot, data.y, horizon_days=horizon_days) or None
        if splits is None:
            log.warning("not enough history for time-aware validation; using folds grouped by account")
    estimator = ChurnModel(model=model, random_state=random_state)
    estimator.fit(data.X, data.y, groups=data.account_id, splits=splits)
    metrics = evaluation_metrics(estimator.oof_y_, estimator.oof_proba_)
    for kind, score in estimator.validation_scores_.items():
        metrics[f"validation_roc_auc_{kind}"] = score
    params = {"model": estimator.model_kind_, "model_choice": model, "validation": estimator.validation_,
              "horizon_days": horizon_days, "label_col": label_col, "as_of": data.as_of.isoformat(),
              "n_rows": len(data.y), "n_rows_available": available, "n_accounts": len(set(data.account_id)),
              "n_snapshots": len(set(pd.to_datetime(data.snapshot))), "churn_rate": float(data.y.mean()),
              "features": ",".join(estimator.features_used_), "calibration_a": estimator.calibration_[0],
              "calibration_b": estimator.calibration_[1], "random_state": random_state}
    return ChurnTraining(model=estimator, data=data, metrics=metrics, params=params)


def calibration_plot(y: np.ndarray, p: np.ndarray, path: str | Path, *, bins: int = 10) -> Path:
    """Reliability diagram (observed churn rate per predicted-probability bin) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    ax.plot([0, 1], [0, 1], linestyle="--", color="#999999", label="perfectly calibrated")
    ax.plot(predicted, observed, marker="o", color="#c0392b", label="churn model (validation)")
    ax.set_xlabel("predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.set_title("Calibration")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def save_churn_model(training: ChurnTraining, out_dir: str | Path) -> dict[str, Path]:
    """Write the model (``churn_model.json`` + ``churn_model.npz``, no pickle), ``model.json`` (params,
    metrics, features) and ``calibration.png``; an older save's ``model.joblib`` in the folder is removed."""
    out = Path(out_dir)
    saved = training.model.save(out)
    (out / LEGACY_MODEL_FILE).unlink(missing_ok=True)
    paths = {"model": saved["json"], "model_arrays": saved["npz"], "card": out / "model.json"}
    card = {"params": training.params, "metrics": training.metrics,
            "features": list(training.model.features_used_)}
    paths["card"].write_text(json.dumps(card, indent=2, default=str), encoding="utf-8")
    try:
        paths["calibration"] = calibration_plot(training.model.oof_y_, training.model.oof_proba_,
                                                out / "calibration.png")
    except ImportError:
        log.warning("matplotlib is not installed: no calibration plot (pip install matplotlib)")
    return paths


def track_churn_training(training: ChurnTraining, paths: dict[str, Path], *, tracking_uri: str | None = None,
                         registered_name: str = REGISTERED_NAME, experiment: str = "cxlens-churn"):
    """Log params, metrics, the calibration plot and the model to MLflow; register it as ``@champion``."""
    from cxlens.tracking import log_run

    artifacts = [p for key, p in paths.items() if key not in ("model", "model_arrays")]
    return log_run(experiment=experiment, params=training.params, metrics=training.metrics, artifacts=artifacts,
                   model=training.model, registered_name=registered_name, tracking_uri=tracking_uri,
                   run_name=f"churn-{training.params['model']}")


def load_churn_model(ref: str | Path, *, tracking_uri: str | None = None, trust_model: bool = False) -> ChurnModel:
    """A churn model from a folder written by ``cxlens train churn`` or an MLflow URI.

    An MLflow model (a URI, or a folder holding ``MLmodel``) and a ``model.joblib`` of an older cxlens (the file,
    or a folder holding it) are pickles, which can run any code they carry when loaded: they are loaded only with
    ``trust_model=True`` (else :class:`~cxlens.errors.UntrustedModelError`, before the file is read).
    """
    text = str(ref)
    if "://" not in text and not text.startswith(("models:", "runs:")):
        path = Path(text)
        if path.is_file() and path.name in MODEL_FILES:
            path = path.parent
        if path.is_dir() and all((path / name).is_file() for name in MODEL_FILES):
            return ChurnModel.load(path)
        if path.is_dir() and (path / LEGACY_MODEL_FILE).exists():
            path = path / LEGACY_MODEL_FILE
        elif path.is_dir() and (path / "MLmodel").exists():
            from cxlens.tracking import load_model

            _trusted_mlflow(text, trust_model)
            return load_model(str(path.resolve()), tracking_uri=tracking_uri)
        if not path.is_file() or not is_pickle_file(path):
            raise ConfigError(f"No churn model at {text}: give the folder `cxlens train churn --out` wrote, "
                              "or models:/cxlens-churn@champion (with {trust_model}).", params=("trust_model",))
        model = load_pickle(path, trust_model=trust_model, resave=_RESAVE)
    else:
        from cxlens.tracking import load_model

        _trusted_mlflow(text, trust_model)
        model = load_model(text, tracking_uri=tracking_uri)
    if not isinstance(model, ChurnModel):
        raise ConfigError(f"{text} is a {type(model).__name__}, not a cxlens churn model.")
    return model


def _trusted_mlflow(ref: str, trust_model: bool) -> None:
    """An MLflow model is a cloudpickle file: loading it can run any code it carries, so only when trusted."""
    if not trust_model:
        raise UntrustedModelError(
            f"{ref} is an MLflow model, which MLflow stores as a pickle: loading it can run any code it carries. "
            "Pass {trust_model} if you (or someone you trust) logged it, or give the folder `cxlens train churn "
            "--out` wrote, which holds no pickle.", params=("trust_model",))


# ---------------------------------------------------------------- scoring


def fitted_health_config(tables: FeatureTables, *, as_of: pd.Timestamp, horizon_days: float = 90.0,
                         base: HealthConfig | None = None) -> HealthConfig:
    """Health weights fitted on past outcomes: components at ``as_of - horizon``, churn in the horizon after."""
    base = base or HealthConfig()
    if "churned_at" not in tables.accounts:
        raise InvalidConfigError([ConfigProblem("fit_health_weights", True, "needs the accounts' churned_at column "
                                                                            "(past outcomes).")])
    past = as_of - pd.Timedelta(days=horizon_days)
    features = build_features(tables, as_of=past)
    churned = tables.accounts.drop_duplicates("account_id").set_index("account_id")["churned_at"].reindex(
        features.index)
    y = ((churned >= past) & (churned < as_of)).fillna(False).astype(int)
    weights = fit_weights(component_scores(features), y)
    if "churn_risk" in base.weights:
        # the model's own risk keeps its configured share; the rest is split by the fitted weights
        share = base.weights["churn_risk"] / sum(base.weights.values())
        weights = {k: v * (1 - share) for k, v in weights.items()} | {"churn_risk": share}
    log.info("fitted health weights: %s", {k: round(v, 3) for k, v in weights.items()})
    return HealthConfig(weights=weights, good=base.good, poor=base.poor)


def score_accounts(tables: FeatureTables, model: ChurnModel, *, as_of: str | pd.Timestamp | None = None,
                   health: HealthConfig | None = None, n_reasons: int = 3) -> pd.DataFrame:
    """Churn probability, health, MRR at risk and reasons for every account active at ``as_of``.

    Sorted by churn probability, highest first.  ``mrr_at_risk`` is
    ``churn_probability x mrr`` (expected monthly revenue lost).  ``reason_<i>``: a risk-raising signal
    against the peers or the account's history (:mod:`cxlens.models.reasons`), ``reason_<i>_tickets`` the
    tickets behind it.
    """
    as_of = default_as_of(tables) if as_of is None else as_utc(as_of)
    features = build_features(tables, as_of=as_of)
    probability = pd.Series(model.predict_proba(features)[:, 1], index=features.index)
    explanation = model.explain(features)
    reasons = account_reasons(explanation, features, k=n_reasons,
                              evidence=reason_evidence(tables.tickets, as_of=as_of))
    health_table = health_scores(features, churn_probability=probability, config=health)
    accounts = tables.accounts.drop_duplicates("account_id").set_index("account_id")
    mrr = accounts["mrr"].reindex(features.index) if "mrr" in accounts else pd.Series(np.nan, index=features.index)
    out = pd.DataFrame({"account_id": features.index, "churn_probability": probability.round(4).to_numpy()})
    if "plan" in accounts:
        out["plan"] = accounts["plan"].reindex(features.index).to_numpy()
    out["mrr"] = mrr.to_numpy()
    out["mrr_at_risk"] = (probability * mrr).round(2).to_numpy()
    for col in ("health_score", "health_band", "health_reasons"):
        out[col] = health_table[col].to_numpy()
    for i in range(n_reasons):
        out[f"reason_{i + 1}"] = [r[i].text if i < len(r) else "" for r in reasons]
        out[f"reason_{i + 1}_tickets"] = [" ".join(r[i].tickets) if i < len(r) else "" for r in reasons]
    out["explanation_method"] = explanation.method
    out["as_of"] = as_of.isoformat()
    return out.sort_values("churn_probability", ascending=False, kind="stable").reset_index(drop=True)


def flagged_accounts(table: pd.DataFrame, *, rule: RiskRule = DEFAULT_RISK_RULE) -> pd.DataFrame:
    """``table`` (from :func:`score_accounts`) with ``at_risk`` after ``churn_probability``: who ``rule``
    flags (:mod:`cxlens.models.risk`; default the top decile)."""
    flag = pd.array(rule.flag(table["churn_probability"].to_numpy(dtype=float)), dtype="boolean")
    out = table.drop(columns=["at_risk"], errors="ignore")
    out.insert(out.columns.get_loc("churn_probability") + 1, "at_risk", flag)
    return out


# ---------------------------------------------------------------- the review


#: every ticket column :func:`at_risk_review` reads (features, reasons' evidence, the problem tickets, "now"):
#: ``cxlens score`` reads only these for the accounts stage, so the rest of a scored table is not held meanwhile
REVIEW_TICKET_COLUMNS = FEATURE_TICKET_COLUMNS | EVIDENCE_TICKET_COLUMNS | frozenset(
    {"ticket_id", "account_id", "created_at", "resolved_at", "first_response_at", "subject", "sentiment", "reopened",
     "csat"})


def recent_problem_tickets(tickets: pd.DataFrame | None, *, as_of: pd.Timestamp, days: float = 90.0,
                           limit: int = 5) -> pd.DataFrame:
    """Tickets of the last ``days`` before ``as_of`` that were negative, unresolved, reopened or rated low.

    One row per ticket (newest first, at most ``limit`` per account) with the
    account, the creation time, the subject and why it is listed.
    """
    columns = ["account_id", "ticket_id", "created_at", "subject", "why"]
    if tickets is None or "account_id" not in tickets:
        return pd.DataFrame(columns=columns)
    t = tickets.loc[tickets["account_id"].notna() & (tickets["created_at"] < as_of)
                    & (tickets["created_at"] >= as_of - pd.Timedelta(days=days))]
    why = pd.Series("", index=t.index, dtype=object)

    def add(mask: pd.Series, word: str) -> None:
        mask = mask.fillna(False).astype(bool)
        why.loc[mask] = why.loc[mask] + np.where(why.loc[mask] == "", "", ", ") + word

    if "sentiment" in t:
        add(t["sentiment"] == "negative", "negative")
    if "resolved_at" in t:
        add(~(t["resolved_at"] < as_of).fillna(False).astype(bool), "unresolved")
        if "reopened" in t:
            add((t["reopened"] == True) & (t["resolved_at"] < as_of), "reopened")  # noqa: E712 (nullable)
        if "csat" in t:
            add((t["csat"] <= 2) & (t["resolved_at"] < as_of), "low CSAT")
    listed = t.loc[why != ""].assign(why=why[why != ""])
    if "subject" not in listed:
        listed = listed.assign(subject="")
    listed = listed.sort_values("created_at", ascending=False).groupby("account_id", sort=False).head(limit)
    return listed[columns].reset_index(drop=True)


def retention_metrics(accounts: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp,
                      config: KPIConfig | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The retention and risk KPIs from the :mod:`cxlens.metrics` registry over ``[start, end]``.

    Returns ``(values, skipped)``: skipped KPIs name the inputs they lack
    (e.g. ``mrr_expansion`` and ``net_revenue_retention`` need ``mrr_start``).
    """
    from cxlens.metrics import compute_kpis, get_kpi_names, make_tables

    names = [n for n in RETENTION_KPIS if n in set(get_kpi_names())]
    report = compute_kpis(make_tables(accounts=accounts, period_start=start, period_end=end),
                          config=config, names=names)
    return report.kpis, report.skipped


@dataclass
class AtRiskReview:
    """Everything the at-risk page shows."""

    table: pd.DataFrame
    summary: dict[str, Any]
    retention: dict[str, Any]
    retention_skipped: dict[str, list[str]]
    tickets: pd.DataFrame
    model_info: dict[str, Any]


def at_risk_review(tables: FeatureTables, *, model: ChurnModel | None = None, horizon_days: float = 90.0,
                   label_col: str | None = None, as_of: str | pd.Timestamp | None = None,
                   health: HealthConfig | None = None, fit_health_weights: bool = False,
                   config: KPIConfig | None = None, model_kind: str = "auto",
                   random_state: int = 0, rule: RiskRule | None = None, backtest_dates: int = 0) -> AtRiskReview:
    """Score every current account and assemble the review.

    Trains a model first (``model_kind``: auto, logistic or hgb) when none is given.  Who is at risk
    (the ``at_risk`` column): ``config.risk_threshold`` when set (absolute), else ``rule``, else the
    candidate rule (:mod:`cxlens.models.risk`: top decile, 2x the base rate) that was most precise in the
    back-test over ``backtest_dates`` past dates (:func:`risk_backtest`; 0: no back-test, the default
    rule, the top decile, which also replaces a relative rule that flags nobody).  ``revenue_at_risk`` =
    sum of MRR x probability over the flagged accounts.
    """
    config = config or KPIConfig()
    as_of = default_as_of(tables) if as_of is None else as_utc(as_of)
    model_info: dict[str, Any] = {}
    if model is None:
        training = train_churn(tables, horizon_days=None if label_col else horizon_days, label_col=label_col,
                               as_of=as_of, model=model_kind, random_state=random_state)
        model = training.model
        model_info = {"trained": "on the fly from this history", **training.params,
                      **{f"validation_{k}": v for k, v in training.metrics.items()}}
        del training  # its training set (up to 500,000 rows of features) is not needed to score: free it now
    else:
        model_info = {"trained": "given", "model": getattr(model, "model_kind_", "?"),
                      "validation": getattr(model, "validation_", "?")}
    if fit_health_weights:
        health = fitted_health_config(tables, as_of=as_of, horizon_days=horizon_days, base=health)
    table = score_accounts(tables, model, as_of=as_of, health=health)
    backtest = pd.DataFrame()
    if backtest_dates and not label_col:
        backtest = risk_backtest(tables, as_of=as_of, horizon_days=horizon_days, n_dates=backtest_dates,
                                 model_kind=model_kind, random_state=random_state)
    if config.risk_threshold is not None:
        rule, why = RiskRule.absolute(config.risk_threshold), "set by --risk-threshold / [kpi] risk_threshold"
    elif rule is not None:
        why = "given"
    else:
        rule, why = backtest_rule(backtest)
    probability = table["churn_probability"].to_numpy(dtype=float)
    if config.risk_threshold is None and len(table) and not rule.flag(probability).any():
        rule, why = DEFAULT_RISK_RULE, f"the default: {rule.describe()} flags nobody today"
    tickets = recent_problem_tickets(tables.tickets, as_of=as_of)
    per_account = tickets.groupby("account_id")["ticket_id"].apply(lambda s: " ".join(s)) if len(tickets) else {}
    table["recent_problem_tickets"] = table["account_id"].map(per_account).astype("str").fillna("")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table = flagged_accounts(table, rule=rule)
    at_risk = table["at_risk"].astype(bool)
    summary = {
        "as_of": as_of.isoformat(), "accounts_scored": len(table), "risk_threshold": rule.threshold(probability),
        "risk_rule": rule.describe(probability), "risk_rule_kind": rule.kind, "risk_rule_value": rule.value,
        "risk_rule_why": why, "base_rate": float(np.nanmean(probability)) if len(table) else None,
        "at_risk_accounts": int(at_risk.sum()),
        "revenue_at_risk": float(np.nansum(table.loc[at_risk, "mrr_at_risk"])),
        "mrr_of_at_risk_accounts": float(np.nansum(table.loc[at_risk, "mrr"])),
        "expected_mrr_loss": float(np.nansum(table["mrr_at_risk"])),
        "total_mrr": float(np.nansum(table["mrr"])),
        "mean_churn_probability": float(table["churn_probability"].mean()),
        "health_bands": {b: int((table["health_band"] == b).sum()) for b in ("good", "average", "poor")},
        "explanation_method": str(table["explanation_method"].iloc[0]) if len(table) else "",
        "period_days": horizon_days,
        "backtest": backtest_records(backtest),
    }
    scored = tables.accounts.drop_duplicates("account_id").merge(
        table[["account_id", "churn_probability", "at_risk", "health_score", "health_band"]], on="account_id",
        how="left")
    retention, skipped = retention_metrics(scored, start=as_of - pd.Timedelta(days=horizon_days), end=as_of,
                                           config=config)
    return AtRiskReview(table=table, summary=summary, retention=retention, retention_skipped=skipped,
                        tickets=tickets, model_info=model_info)


def write_at_risk_review(review: AtRiskReview, out_dir: str | Path, *, top: int = 50) -> dict[str, Path]:
    """``at_risk.csv`` (every account, ranked), ``at_risk.html`` (self-contained page), ``summary.json``."""
    from cxlens._csv_safety import write_csv
    from cxlens.pipelines._accounts_html import render_at_risk_html

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "at_risk.csv", "html": out / "at_risk.html", "summary": out / "summary.json"}
    write_csv(review.table, paths["csv"])
    paths["html"].write_text(render_at_risk_html(review, top=top), encoding="utf-8")
    paths["summary"].write_text(json.dumps({"summary": review.summary, "retention": review.retention,
                                            "retention_skipped": review.retention_skipped,
                                            "model": review.model_info}, indent=2, default=str), encoding="utf-8")
    return paths


def risk_backtest(tables: FeatureTables, **options) -> pd.DataFrame:
    """Precision at 10/20/50, lift over the base rate and each at-risk rule's precision on past dates, with
    no look-ahead (a model trained before each date); see :mod:`cxlens.pipelines._accounts_backtest`."""
    return _risk_backtest(tables, train=train_churn, **options)
