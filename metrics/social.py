"""Social KPIs over the mentions table: volume, sentiment, answered questions, response time.

``sentiment`` and ``is_question`` are added by the mentions pipeline;
``replied_at`` is when the brand replied to the post.
"""

from __future__ import annotations

from cxlens.config import KPIConfig
import numpy as np

from cxlens.metrics._measures import flags, mean_measure, share_measure, share_rows
from cxlens.metrics._partials import Rows
from cxlens.metrics._registry import Measure, Tables, register_kpi, register_rows
from cxlens.metrics.ai import negative_share_measure, negative_share_rows, sentiment_index_measure, sentiment_index_rows
from cxlens.metrics.durations import elapsed_seconds

__all__ = [
    "mention_negative_share", "mention_sentiment_index", "mention_volume", "questions_answered_rate",
    "social_first_response_time_mean_s",
]


@register_kpi(name="mention_volume", unit="count", direction="neutral",
              formula="count(mentions posted in the period)", requires=("mentions.mention_id",),
              category="social")
def mention_volume(tables: Tables, config: KPIConfig) -> Measure:
    """Mention volume: social posts that mention the brand."""
    mentions = tables.mentions
    return Measure(value=len(mentions), n=len(mentions), ids=mentions["mention_id"], id_kind="mention_id")


@register_kpi(name="mention_sentiment_index", unit="score", direction="higher",
              formula="% positive - % negative mentions (of those with a sentiment label), -100..100",
              requires=("mentions.sentiment",), category="social")
def mention_sentiment_index(tables: Tables, config: KPIConfig) -> Measure:
    """Mention sentiment index: % positive minus % negative mentions, from -100 to 100."""
    return sentiment_index_measure(tables.mentions, "mention_id")


@register_kpi(name="mention_negative_share", unit="%", direction="lower",
              formula="negative mentions / mentions with a sentiment label x 100",
              requires=("mentions.sentiment",), category="social")
def mention_negative_share(tables: Tables, config: KPIConfig) -> Measure:
    """Mention negative share: mentions whose sentiment is negative, in %."""
    return negative_share_measure(tables.mentions, "mention_id")


@register_kpi(name="questions_answered_rate", unit="%", direction="higher",
              formula="questions with replied_at / mentions with is_question x 100",
              requires=("mentions.is_question", "mentions.replied_at"), category="social")
def questions_answered_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Questions answered: social posts asking a question that the brand replied to, in %.

    ``ids`` are all the questions; the unanswered ones have no ``replied_at``.
    """
    mentions = tables.mentions
    _, question = flags(mentions, "is_question")
    return share_measure(mentions["replied_at"].notna().to_numpy(), question, mentions["mention_id"],
                         id_kind="mention_id")


@register_kpi(name="social_first_response_time_mean_s", unit="s", direction="lower",
              formula="mean(replied_at - posted_at) over mentions the brand replied to",
              requires=("mentions.replied_at",), category="social")
def social_first_response_time_mean_s(tables: Tables, config: KPIConfig) -> Measure:
    """Mean social first response time: from the post to the brand's reply, in (business) seconds."""
    mentions = tables.mentions
    seconds = elapsed_seconds(mentions["posted_at"], mentions["replied_at"], config)
    return mean_measure(seconds, mentions["mention_id"], id_kind="mention_id")


# --- per-row contributions for grouped reports ---

@register_rows("mention_volume")
def _volume_rows(tables: Tables, config: KPIConfig) -> Rows:
    return Rows("mentions", np.zeros(len(tables.mentions)), reduce="count")


@register_rows("mention_sentiment_index")
def _sentiment_rows(tables: Tables, config: KPIConfig) -> Rows:
    return sentiment_index_rows(tables.mentions, "mentions")


@register_rows("mention_negative_share")
def _negative_rows(tables: Tables, config: KPIConfig) -> Rows:
    return negative_share_rows(tables.mentions, "mentions")


@register_rows("questions_answered_rate")
def _questions_rows(tables: Tables, config: KPIConfig) -> Rows:
    mentions = tables.mentions
    _, question = flags(mentions, "is_question")
    return share_rows("mentions", mentions["replied_at"].notna().to_numpy(), question)


@register_rows("social_first_response_time_mean_s")
def _response_rows(tables: Tables, config: KPIConfig) -> Rows:
    mentions = tables.mentions
    return Rows("mentions", elapsed_seconds(mentions["posted_at"], mentions["replied_at"], config).to_numpy())
