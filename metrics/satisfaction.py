"""Satisfaction KPIs: CSAT, NPS, CES (customers) and ESAT (employees).

Answers come from the ``surveys`` table (rows of that ``kind``) when it holds
any, else from the tickets' ``csat`` / ``nps`` / ``ces`` columns: one source
per figure, never both added together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._measures import numbers
from cxlens.metrics._partials import Rows
from cxlens.metrics._registry import Measure, Tables, register_kpi, register_rows

__all__ = ["ces", "csat", "esat", "nps", "responses"]


def responses(tables: Tables, kind: str) -> pd.DataFrame:
    """The answers of one survey ``kind``: columns ``score`` (float) and, where known, ``ticket_id``/``agent_id``.

    Surveys win when they hold rows of ``kind``; otherwise the tickets' column
    named ``kind``.  Rows without a score are dropped.
    """
    surveys = tables.surveys
    if surveys is not None and "score" in surveys and "kind" in surveys:
        mask = (surveys["kind"] == kind).to_numpy(dtype=bool, na_value=False)
        if mask.any():
            columns = ["score"] + [c for c in ("ticket_id", "agent_id") if c in surveys]
            return _scored(surveys.loc[mask, columns])
    tickets = tables.tickets
    if tickets is not None and kind in tickets:
        columns = [kind, "ticket_id"] + (["agent_id"] if "agent_id" in tickets else [])
        return _scored(tickets[columns].rename(columns={kind: "score"}))
    return pd.DataFrame({"score": pd.Series(dtype="float64")})


def _scored(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with a numeric ``score`` (coerced to float)."""
    score = numbers(frame, "score")
    keep = score.notna().to_numpy()
    return frame.loc[keep].assign(score=score[keep])


def _ids(answers: pd.DataFrame, column: str = "ticket_id") -> pd.Series | None:
    return answers[column] if column in answers else None


def satisfied_share(scores: np.ndarray, threshold: float) -> float:
    """% of ``scores`` at or above ``threshold``."""
    return 100.0 * float((scores >= threshold).sum()) / len(scores)


@register_kpi(name="csat", unit="%", direction="higher",
              formula="CSAT responses >= csat_threshold / CSAT responses x 100",
              requires=("tickets.csat|surveys.score",), category="satisfaction")
def csat(tables: Tables, config: KPIConfig) -> Measure:
    """Customer satisfaction (CSAT): share of satisfied answers (>= 4 on 1-5 by default), in %.

    Answers outside ``csat_scale`` are ignored.
    """
    answers = responses(tables, "csat")
    low, high = config.csat_scale
    answers = answers.loc[answers["score"].between(low, high).to_numpy()]
    if not len(answers):
        return Measure(value=None, n=0)
    return Measure(value=satisfied_share(answers["score"].to_numpy(), config.csat_threshold), n=len(answers),
                   ids=_ids(answers))


@register_kpi(name="nps", unit="score", direction="higher",
              formula="% promoters (>= 9) - % detractors (<= 6), -100..100",
              requires=("tickets.nps|surveys.score",), category="satisfaction")
def nps(tables: Tables, config: KPIConfig) -> Measure:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), from -100 to 100."""
    answers = responses(tables, "nps")
    if not len(answers):
        return Measure(value=None, n=0)
    scores = answers["score"].to_numpy()
    promoters = (scores >= config.nps_promoter_min).sum()
    detractors = (scores <= config.nps_detractor_max).sum()
    return Measure(value=100.0 * float(promoters - detractors) / len(scores), n=len(scores), ids=_ids(answers))


@register_kpi(name="ces", unit="score", direction="lower",
              formula="mean(CES answers), 1-7",
              requires=("tickets.ces|surveys.score",), category="satisfaction")
def ces(tables: Tables, config: KPIConfig) -> Measure:
    """Customer Effort Score: mean effort answer on 1-7 (lower = less effort)."""
    answers = responses(tables, "ces")
    if not len(answers):
        return Measure(value=None, n=0)
    return Measure(value=float(answers["score"].mean()), n=len(answers), ids=_ids(answers))


@register_kpi(name="esat", unit="%", direction="higher",
              formula="ESAT responses >= esat_threshold / ESAT responses x 100",
              requires=("surveys.score",), category="satisfaction")
def esat(tables: Tables, config: KPIConfig) -> Measure:
    """Employee satisfaction (ESAT): share of agents' answers >= 4 on 1-5, in %.

    From ``surveys`` rows of kind ``esat``; ``ids`` are the answering agents.
    """
    answers = responses(tables, "esat")
    if not len(answers):
        return Measure(value=None, n=0, id_kind="agent_id")
    return Measure(value=satisfied_share(answers["score"].to_numpy(), config.esat_threshold), n=len(answers),
                   ids=_ids(answers, "agent_id"), id_kind="agent_id")


# --- per-row contributions for grouped reports: survey answers when the group has some of that kind,
# else the tickets' column (as responses() decides per group) ---

def answer_rows(tables: Tables, kind: str, contribution, *, scale: float = 1.0) -> Rows:
    """Rows over the answers of ``kind``: ``contribution(score)`` per answer (NaN: not counted)."""
    fallback = None
    tickets = tables.tickets
    if tickets is not None and kind in tickets:
        fallback = Rows("tickets", contribution(numbers(tickets, kind).to_numpy()), scale=scale)
    surveys = tables.surveys
    if surveys is not None and "score" in surveys and "kind" in surveys:
        mask = (surveys["kind"] == kind).to_numpy(dtype=bool, na_value=False)
        scores = np.where(mask, numbers(surveys, "score").to_numpy(), np.nan)
        return Rows("surveys", contribution(scores), scale=scale, present=mask, otherwise=fallback)
    if fallback is None:
        return Rows("tickets", np.full(0 if tickets is None else len(tickets), np.nan), scale=scale)
    return fallback


def _at_least(scores: np.ndarray, threshold: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(scores), np.nan, (scores >= threshold).astype(np.float64))


@register_rows("csat")
def _csat_rows(tables: Tables, config: KPIConfig) -> Rows:
    low, high = config.csat_scale

    def satisfied(scores: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            in_scale = (scores >= low) & (scores <= high)
        return np.where(in_scale, _at_least(scores, config.csat_threshold), np.nan)

    return answer_rows(tables, "csat", satisfied, scale=100.0)


@register_rows("nps")
def _nps_rows(tables: Tables, config: KPIConfig) -> Rows:
    def promoter_minus_detractor(scores: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            sign = (scores >= config.nps_promoter_min).astype(np.float64) - (scores <= config.nps_detractor_max)
        return np.where(np.isnan(scores), np.nan, sign)

    return answer_rows(tables, "nps", promoter_minus_detractor, scale=100.0)


@register_rows("ces")
def _ces_rows(tables: Tables, config: KPIConfig) -> Rows:
    return answer_rows(tables, "ces", lambda scores: scores)


@register_rows("esat")
def _esat_rows(tables: Tables, config: KPIConfig) -> Rows:
    return answer_rows(tables, "esat", lambda scores: _at_least(scores, config.esat_threshold), scale=100.0)
