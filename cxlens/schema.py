"""The canonical tables, declared once.

Every table that enters cxlens is checked against one of these schemas by
:mod:`cxlens.io` (all problems at once, bad rows to quarantine). Code inside
cxlens trusts a validated frame: ids are pandas strings, timestamps are tz-aware UTC,
numbers are floats, flags are booleans (nullable), categories are lower-case.

Scored tables produced by the pipelines extend these with
:meth:`TableSchema.extend` (pandera's "output schema inherits the input
schema").  The human-readable contract is ``docs/data-model.md``; a test keeps
the two in step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

__all__ = [
    "ACCOUNTS",
    "Column",
    "MENTIONS",
    "MESSAGES",
    "RowCheck",
    "SCHEMAS",
    "SURVEYS",
    "SURVEY_SCALES",
    "TICKETS",
    "TableSchema",
    "get_schema",
]

KINDS = ("id", "text", "datetime", "float", "int", "bool", "category")


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    kind: one of ``id`` (string key), ``text``, ``datetime`` (ISO 8601; naive
    means UTC), ``float``, ``int``, ``bool``, ``category`` (lower-cased; checked
    against ``allowed`` when given).  ``minimum``/``maximum`` bound numbers.
    """

    name: str
    kind: str
    required: bool = False
    description: str = ""
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class RowCheck:
    """A check across columns. ``find_bad(frame)`` returns a boolean mask of bad rows.

    Runs after every column has been parsed; rows with a null in either
    column pass (a missing value is not a contradiction).
    """

    name: str
    description: str
    find_bad: Callable[[pd.DataFrame], pd.Series]
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSchema:
    """A canonical table: its columns, its unique key and its cross-column checks."""

    name: str
    columns: tuple[Column, ...]
    key: str | None = None
    checks: tuple[RowCheck, ...] = field(default=())
    description: str = ""

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def extend(self, *, name: str, columns: tuple[Column, ...] = (),
               checks: tuple[RowCheck, ...] = (), description: str = "") -> TableSchema:
        """A derived schema: this one's columns and checks plus new ones."""
        return TableSchema(name=name, columns=self.columns + columns, key=self.key,
                           checks=self.checks + checks, description=description or self.description)


def _not_before(later: str, earlier: str) -> Callable[[pd.DataFrame], pd.Series]:
    def find_bad(frame: pd.DataFrame) -> pd.Series:
        if later not in frame or earlier not in frame:
            return pd.Series(False, index=frame.index)
        return (frame[later] < frame[earlier]).fillna(False).astype(bool)

    find_bad.__name__ = f"{later}_before_{earlier}"
    return find_bad


# Survey scales: kind -> (min, max). CSAT/ESAT 1-5, NPS 0-10, CES 1-7 (the common scales).
SURVEY_SCALES: dict[str, tuple[float, float]] = {
    "csat": (1, 5), "esat": (1, 5), "nps": (0, 10), "ces": (1, 7),
}


def _survey_score_off_scale(frame: pd.DataFrame) -> pd.Series:
    bad = pd.Series(False, index=frame.index)
    for kind, (lo, hi) in SURVEY_SCALES.items():
        rows = frame["kind"] == kind
        bad |= rows & ((frame["score"] < lo) | (frame["score"] > hi))
    return bad.fillna(False).astype(bool)


TICKET_STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
AUTHOR_ROLES = ("customer", "agent", "bot", "system", "note")

TICKETS = TableSchema(
    name="tickets",
    description="One row per ticket / conversation.",
    key="ticket_id",
    columns=(
        Column("ticket_id", "id", required=True, description="Unique ticket / conversation id."),
        Column("created_at", "datetime", required=True, description="When the customer first made contact."),
        Column("channel", "category", description="email, chat, phone, social, web, ... (free values, lower-cased)."),
        Column("account_id", "id", description="The customer account (joins accounts)."),
        Column("agent_id", "id", description="The assigned agent."),
        Column("team", "category", description="The agent's team / group."),
        Column("subject", "text", description="Subject line."),
        Column("text", "text", description="First customer message."),
        Column("status", "category", allowed=TICKET_STATUSES, description="open, pending, on_hold, solved, closed."),
        Column("priority", "category", description="low, normal, high, urgent, ... (free values)."),
        Column("first_response_at", "datetime", description="First public reply by a human agent."),
        Column("resolved_at", "datetime", description="When the ticket was (last) solved."),
        Column("reopened", "bool", description="Reopened after being solved."),
        Column("contacts", "int", minimum=0, description="Customer contacts needed for this issue."),
        Column("agent_replies", "int", minimum=0, description="Public replies by human agents."),
        Column("handle_time_s", "float", minimum=0, description="Talk + hold + after-contact work, seconds."),
        Column("wait_time_s", "float", minimum=0, description="Queue wait before answer, seconds."),
        Column("paused_s", "float", minimum=0,
               description="Seconds spent in paused statuses (pending, on_hold); not counted against SLA."),
        Column("answered", "bool", description="Call/chat answered by an agent."),
        Column("abandoned", "bool", description="Customer left the queue before an answer."),
        Column("self_service", "bool", description="Solved without an agent (help centre, bot)."),
        Column("csat", "float", minimum=1, maximum=5, description="CSAT answer on this ticket, 1-5."),
        Column("nps", "float", minimum=0, maximum=10, description="NPS answer, 0-10."),
        Column("ces", "float", minimum=1, maximum=7, description="Customer effort answer, 1-7."),
    ),
    checks=(
        RowCheck("resolved_before_created", "resolved_at is before created_at",
                 _not_before("resolved_at", "created_at"), ("resolved_at", "created_at")),
        RowCheck("first_response_before_created", "first_response_at is before created_at",
                 _not_before("first_response_at", "created_at"), ("first_response_at", "created_at")),
    ),
)

MESSAGES = TableSchema(
    name="messages",
    description="One row per message of a ticket.",
    key="message_id",
    columns=(
        Column("ticket_id", "id", required=True, description="The ticket the message belongs to."),
        Column("sent_at", "datetime", required=True, description="When it was sent."),
        Column("author_role", "category", required=True, allowed=AUTHOR_ROLES,
               description="customer, agent, bot, system or note (internal note)."),
        Column("author_id", "id", description="Who wrote it (agent id for agents)."),
        Column("message_id", "id", description="Unique message id."),
        Column("text", "text", description="Message body."),
    ),
)

ACCOUNTS = TableSchema(
    name="accounts",
    description="One row per customer account; any extra columns are features.",
    key="account_id",
    columns=(
        Column("account_id", "id", required=True, description="Unique account id."),
        Column("signup_at", "datetime", description="When the account became a customer."),
        Column("churned_at", "datetime", description="When it stopped being one (empty if active)."),
        Column("mrr", "float", minimum=0, description="Monthly recurring revenue now (or at churn)."),
        Column("plan", "category", description="Plan / tier."),
    ),
    checks=(
        RowCheck("churned_before_signup", "churned_at is before signup_at",
                 _not_before("churned_at", "signup_at"), ("churned_at", "signup_at")),
    ),
)

SURVEYS = TableSchema(
    name="surveys",
    description="Survey answers, when they are not columns of tickets.",
    columns=(
        Column("kind", "category", required=True, allowed=tuple(SURVEY_SCALES),
               description="csat, nps, ces or esat."),
        Column("score", "float", required=True, description="The answer on the kind's scale."),
        Column("responded_at", "datetime", required=True, description="When it was answered."),
        Column("ticket_id", "id", description="The ticket it rates."),
        Column("account_id", "id", description="The account that answered."),
        Column("agent_id", "id", description="The agent rated."),
    ),
    checks=(
        RowCheck("score_off_scale", "score is outside its kind's scale (csat/esat 1-5, nps 0-10, ces 1-7)",
                 _survey_score_off_scale, ("kind", "score")),
    ),
)

MENTIONS = TableSchema(
    name="mentions",
    description="Social posts that mention the brand.",
    key="mention_id",
    columns=(
        Column("mention_id", "id", required=True, description="Unique post id."),
        Column("posted_at", "datetime", required=True, description="When it was posted."),
        Column("text", "text", required=True, description="The post."),
        Column("platform", "category", description="twitter, facebook, reddit, ..."),
        Column("author", "id", description="Who posted it."),
        Column("brand", "category", description="The brand / product mentioned."),
        Column("in_reply_to", "id", description="The post it replies to."),
        Column("replied_at", "datetime", description="When the brand replied to it."),
    ),
    checks=(
        RowCheck("replied_before_posted", "replied_at is before posted_at",
                 _not_before("replied_at", "posted_at"), ("replied_at", "posted_at")),
    ),
)

SCHEMAS: dict[str, TableSchema] = {s.name: s for s in (TICKETS, MESSAGES, ACCOUNTS, SURVEYS, MENTIONS)}


def get_schema(name: str) -> TableSchema:
    """The canonical schema called ``name`` (tickets, messages, accounts, surveys, mentions)."""
    from cxlens.errors import UnknownNameError

    try:
        return SCHEMAS[name]
    except KeyError:
        raise UnknownNameError(kind="table", name=name, known=SCHEMAS) from None
