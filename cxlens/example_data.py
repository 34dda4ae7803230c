"""A realistic, deterministic example archive in the canonical schema.

``write_example_archive(out, n_tickets=2000, seed=7)`` writes ``tickets``,
``messages``, ``accounts``, ``surveys`` and ``mentions`` (CSV, Parquet or
JSON Lines) covering one year (2025).  The same seed gives byte-identical
files.  Everything is vectorised numpy, generated in chunks of tickets, so a
1M-ticket / ~5M-message archive takes minutes, not hours.

The package ships one such archive (2,000 tickets, seed 7, CSV) in ``cxlens/data/example_archive``:
:func:`example_archive_path` finds it wherever cxlens is installed, :func:`copy_example_archive` copies it
into a folder of your own (``cxlens example-data --bundled --out DIR``).

What is in it (see ``examples/README.md``):

* five channels with channel-typical speed (chat/phone in seconds, email in
  hours), agents (~1 per 60 tickets, at least 5) in five teams, priorities,
  SLA breaches from the long tails, a backlog at the end of the year
  (conversations cut at the archive's "now"), reopened tickets, abandoned
  calls and chats with their wait, bot self-service, handle and paused time,
  CSAT/NPS/CES on a subset (also as rows of ``surveys``);
* accounts (~1 per 8 tickets) with plan, MRR, seats and usage; ~15-20% churn,
  and churners show it in the 90 days before: more tickets, complaint and
  cancellation requests, negative text, slower answers, more reopened and
  unresolved tickets, low scores, fewer logins;
* conversations of customer, bot, agent, internal-note and system messages
  with text per request type (slot-filled templates in
  :mod:`cxlens._example_text`); the truth is kept in ``true_request_type`` and
  ``true_sentiment`` (tickets, mentions) for evaluating the models.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np

from cxlens._resources import shipped_path
from cxlens.errors import ConfigError, DataError
from cxlens._example_text import MENTIONS, REQUEST_TYPES, SLOT_VALUES, TEXT, render
from cxlens._example_writer import TableWriter

__all__ = ["EXAMPLE_ARCHIVE", "EXAMPLE_TABLES", "REQUEST_TYPES", "copy_example_archive", "example_archive_path",
           "write_example_archive"]

log = logging.getLogger(__name__)

#: how the bundled archive was made: ``write_example_archive(out, **EXAMPLE_ARCHIVE)``
EXAMPLE_ARCHIVE = {"n_tickets": 2000, "seed": 7, "fmt": "csv"}
#: its files, ``<table>.csv``
EXAMPLE_TABLES = ("tickets", "messages", "accounts", "surveys", "mentions")

START = int(np.datetime64("2025-01-01T00:00:00", "s").astype(np.int64))
DAY = 86400
END = START + 365 * DAY  # the archive's "now": later messages have not happened yet
CHUNK = 50_000
CHANNELS = ("email", "chat", "phone", "web", "social")
CHANNEL_P = (0.34, 0.26, 0.18, 0.12, 0.10)
TEAMS = ("billing", "logistics", "technical", "sales", "customer_care")
# request type -> team
RT_TEAM = np.array([0, 0, 1, 1, 1, 2, 3, 3, 2, 2, 0, 4, 4])
RT_P = np.array([  # normal, in the 90 days before churn, without an account (prospects)
    [.05, .09, .07, .12, .11, .12, .05, .05, .14, .07, .07, .04, .02],
    [.20, .12, .03, .05, .03, .04, .01, .02, .18, .04, .10, .18, .00],
    [.00, .00, .00, .00, .00, .20, .30, .50, .00, .00, .00, .00, .00],
])
PLANS = ("starter", "growth", "pro", "enterprise")
PRIORITIES = ("low", "normal", "high", "urgent")
# median seconds to first reply per channel; lognormal sigma
FRT_MEDIAN = np.array([3.5 * 3600, 35.0, 45.0, 5 * 3600, 40 * 60])
FRT_SIGMA = np.array([1.1, 0.8, 0.9, 1.1, 1.0])
FOLLOW_MEDIAN = np.array([3 * 3600, 40.0, 20.0, 4 * 3600, 30 * 60])  # customer's answer to an agent


def write_example_archive(out: Path, *, n_tickets: int, seed: int, fmt: str = "csv") -> dict[str, Path]:
    """Write the five tables under ``out``; return ``{table: path}``. See the module docstring."""
    if int(n_tickets) < 1:
        raise ConfigError(f"n_tickets must be at least 1, got {n_tickets}.")
    if fmt not in ("csv", "parquet", "jsonl"):
        raise ConfigError(f"Unknown format {fmt!r}: use csv, parquet or jsonl.")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n = int(n_tickets)
    rng = np.random.default_rng([seed, 0])
    accounts = _accounts(rng, max(5, n // 8))
    plan = _ticket_plan(rng, n, accounts)
    agents = _agents(max(5, n // 60), rng)
    writer = TableWriter(out, fmt)
    n_messages = 0
    for chunk_no, lo in enumerate(range(0, n, CHUNK)):
        crng = np.random.default_rng([seed, 1, chunk_no])
        sel = slice(lo, min(n, lo + CHUNK))
        tickets, messages, surveys = _chunk(crng, lo, {k: v[sel] for k, v in plan.items()}, accounts, agents,
                                            n_messages)
        n_messages += len(messages["message_id"][1])
        writer.write("tickets", tickets)
        writer.write("messages", messages)
        writer.write("surveys", surveys)
        log.info("example data: %d / %d tickets", sel.stop, n)
    writer.write("accounts", _account_table(accounts))
    writer.write("mentions", _mentions(np.random.default_rng([seed, 2]), max(20, n // 5)))
    return writer.close()


def example_archive_path() -> Path:
    """The folder of the example archive shipped inside the package (``tickets.csv``, ``messages.csv``,
    ``accounts.csv``, ``surveys.csv``, ``mentions.csv``), wherever cxlens is installed. Read it, don't write
    to it: :func:`copy_example_archive` gives you a copy of your own."""
    folder = shipped_path("cxlens", "data", "example_archive")
    missing = [t for t in EXAMPLE_TABLES if not (folder / f"{t}.csv").is_file()]
    if missing:
        raise DataError(f"The bundled example archive lacks {', '.join(f'{t}.csv' for t in missing)} in {folder}: "
                        f"this cxlens install is incomplete. Reinstall it, or generate the same archive with "
                        f"`cxlens example-data --tickets 2000 --seed 7 --out DIR`.")
    return folder


def copy_example_archive(out: str | Path) -> dict[str, Path]:
    """Copy the bundled example archive into ``out`` (created; files of the same name are replaced);
    return ``{table: path}``."""
    source = example_archive_path()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for table in EXAMPLE_TABLES:
        written[table] = Path(shutil.copyfile(source / f"{table}.csv", out / f"{table}.csv"))
    return written


# ---------------------------------------------------------------- accounts, agents, ticket plan


def _accounts(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    plan = rng.choice(4, size=n, p=[0.4, 0.32, 0.2, 0.08])
    signup = rng.integers(START - 200 * DAY, END - 45 * DAY, size=n)
    churn_p = np.array([0.28, 0.21, 0.15, 0.09])[plan]
    window_lo = np.maximum(signup + 45 * DAY, START + 20 * DAY)
    churns = (rng.random(n) < churn_p) & (window_lo < END - DAY)
    churned = np.where(churns, window_lo + rng.random(n) * np.maximum(END - DAY - window_lo, 0), np.nan)
    seats = np.round(np.array([2, 8, 25, 120])[plan] * rng.lognormal(0, 0.45, n)).clip(1)
    price = np.array([19.0, 29.0, 39.0, 49.0])[plan]
    mrr = np.round(seats * price * rng.lognormal(0, 0.15, n), 2)
    usage = rng.lognormal(np.log(14), 0.35, n) * np.where(churns, 0.6, 1.0) * rng.lognormal(0, 0.3, n)
    return {"idx": np.arange(n), "plan": plan, "signup": signup.astype(np.float64), "churned": churned,
            "seats": seats, "mrr": mrr, "logins": np.round(seats * usage), "churns": churns,
            "industry": rng.choice(6, size=n), "risk": rng.normal(0, 1, n)}


def _account_table(a: dict[str, np.ndarray]) -> dict[str, tuple[str, np.ndarray]]:
    n = len(a["idx"])
    industries = np.array(["retail", "software", "health", "education", "finance", "media"], dtype=object)
    return {
        "account_id": ("num:A:6", a["idx"]),
        "signup_at": ("ts", a["signup"]),
        "churned_at": ("ts", a["churned"]),
        "mrr": ("float", a["mrr"]),
        "plan": ("str", np.array(PLANS, dtype=object)[a["plan"]]),
        "seats": ("int", a["seats"]),
        "logins_30d": ("int", a["logins"]),
        "industry": ("str", industries[a["industry"]]),
        "region": ("str", np.array(["na", "emea", "apac", "latam"], dtype=object)[a["idx"] * 7 % 4]),
        "is_churned": ("bool", a["churns"]),
    } if n else {}


def _agents(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    team = np.arange(n) % len(TEAMS)
    order = np.argsort(team, kind="stable")
    counts = np.bincount(team, minlength=len(TEAMS))
    names = np.array(SLOT_VALUES["agent"], dtype=object)
    return {"id": _ids("AG", order, 4), "number": order, "team": team[order], "counts": counts,
            "offset": np.r_[0, np.cumsum(counts)[:-1]], "name": names[order % len(names)],
            "skill": rng.normal(0, 1, n)}


def _ticket_plan(rng: np.random.Generator, n: int, a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Who writes when: account, creation time and whether the account is in its pre-churn phase."""
    life_lo = np.maximum(a["signup"], START)
    life_hi = np.where(a["churns"], a["churned"], END - 60)
    weight = np.sqrt(a["seats"]) * rng.lognormal(0, 0.5, len(life_lo)) * ((life_hi - life_lo) / (365 * DAY))
    weight *= np.where(a["churns"], 1.8, 1.0)
    acc = rng.choice(len(life_lo), size=n, p=weight / weight.sum())
    lo, hi = life_lo[acc], life_hi[acc]
    pre = a["churns"][acc] & (rng.random(n) < 0.6)
    lo = np.where(pre, np.maximum(lo, hi - 90 * DAY), lo)
    prospect = rng.random(n) < 0.04
    lo, hi = np.where(prospect, START, lo), np.where(prospect, END - 60, hi)
    created = lo + rng.random(n) * (hi - lo)
    # time of day: busy in the (UTC) working day, quiet at night
    hour_w = np.array([1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 8, 9, 10, 9, 8, 6, 5, 4, 3, 2, 2, 1], float)
    day = np.floor(created / DAY) * DAY
    sod = (rng.choice(24, size=n, p=hour_w / hour_w.sum()) + rng.random(n)) * 3600
    created = np.floor(np.clip(day + sod, lo, hi - 1))
    distress = (a["churns"][acc] & (created >= a["churned"][acc] - 90 * DAY)) | (rng.random(n) < 0.04)
    order = np.argsort(created, kind="stable")
    return {"acc": np.where(prospect, -1, acc)[order], "created": created[order],
            "distress": (distress & ~prospect)[order]}


# ---------------------------------------------------------------- one chunk of tickets


def _chunk(rng: np.random.Generator, lo: int, p: dict[str, np.ndarray], a: dict[str, np.ndarray],
           agents: dict[str, np.ndarray], msg_offset: int):
    m = len(p["created"])
    created, dis, acc = p["created"], p["distress"], p["acc"]
    d = dis.astype(float)
    rt = _pick(rng, RT_P, np.where(acc < 0, 2, dis.astype(int)))
    channel = rng.choice(5, size=m, p=CHANNEL_P)
    severe = np.isin(rt, (8, 10, 11)) | dis
    score = rng.normal(0, 1, m) + 0.9 * severe
    priority = np.digitize(score, [-0.85, 0.95, 1.9])
    team = RT_TEAM[rt]
    agent = agents["offset"][team] + (rng.random(m) * agents["counts"][team]).astype(int)
    skill = agents["skill"][agent]
    sentiment = np.where(rt == 11, 0, np.where(rt == 12, np.where(rng.random(m) < 0.85, 2, 1),
                         _pick(rng, np.array([[.17, .71, .12], [.7, .28, .02]]), dis.astype(int))))
    live = np.isin(channel, (1, 2))  # chat, phone
    abandoned = live & (rng.random(m) < 0.06 + 0.06 * d)
    self_service = np.isin(channel, (1, 3)) & ~abandoned & (rng.random(m) < np.where(np.isin(rt, (4, 5, 9)), .25, .03))
    wait = np.where(live, rng.lognormal(np.log(np.where(channel == 2, 45, 25)), 1.0, m) * (1 + 1.5 * d), np.nan)
    wait = np.where(abandoned, np.where(rng.random(m) < 0.15, rng.uniform(1, 5, m), rng.lognormal(np.log(90), .8, m)),
                    wait)
    speed = (1 + 1.5 * d) * np.array([1.6, 1.0, 0.75, 0.5])[priority] * np.exp(-0.1 * skill)
    frt = rng.lognormal(np.log(FRT_MEDIAN[channel]), FRT_SIGMA[channel]) * speed
    frt = np.where(channel == 2, wait, np.where(channel == 1, wait + rng.uniform(5, 25, m), frt))
    with_agent = ~abandoned & ~self_service
    recent = created > END - 30 * DAY  # most of the backlog is young; a few old tickets are stuck
    unresolved_plan = with_agent & (rng.random(m) < np.where(recent, 0.12 + 0.1 * d, 0.006 + 0.03 * d))
    k = rng.geometric(np.array([0.55, 0.45, 0.6, 0.55, 0.5])[channel]) + (rng.random(m) < .5 * d)
    k = np.minimum(k, 6)
    reopened_plan = with_agent & (rng.random(m) < 0.04 + 0.14 * d)
    k = np.where(reopened_plan, np.maximum(k, 2), np.where(with_agent, k, 0))
    tix = {"idx": np.arange(m), "rt": rt, "channel": channel, "sentiment": sentiment, "dis": dis, "k": k,
           "created": created, "frt": frt, "speed": speed, "reopened": reopened_plan, "unresolved": unresolved_plan,
           "self_service": self_service, "abandoned": abandoned, "wait": wait, "agent_id": agents["id"][agent]}
    slots = _slots(rng, lo, created, acc, agents["name"][agent], a)
    msgs, resolved_plan_at, reopen_at = _conversations(rng, tix, slots)
    msgs = {c: v[msgs["t"] <= END] for c, v in msgs.items()}  # what happened up to "now"
    first_text = _first_texts(msgs, m)

    # ---- ticket facts from the messages that exist
    role, t_idx, t = msgs["role"], msgs["tidx"], msgs["t"]
    is_agent, is_cust = role == "agent", role == "customer"
    replies = np.bincount(t_idx[is_agent], minlength=m)
    first_resp = np.full(m, np.nan)
    ai = np.flatnonzero(is_agent)
    uniq, first_pos = np.unique(t_idx[ai], return_index=True)
    first_resp[uniq] = t[ai[first_pos]]
    resolved = ~unresolved_plan & ~abandoned & (resolved_plan_at <= END)
    resolved_at = np.where(resolved, resolved_plan_at, np.nan)
    reopened = reopened_plan & (reopen_at <= END)
    ca = np.flatnonzero(is_agent | is_cust)
    last_pos = np.r_[np.flatnonzero(np.diff(t_idx[ca])), len(ca) - 1] if len(ca) else np.array([], int)
    last_role = np.full(m, "", dtype=object)
    last_role[t_idx[ca[last_pos]]] = role[ca[last_pos]]
    status = np.where(resolved, np.where(resolved_at < END - 4 * DAY, "closed", "solved"),
                      np.where(replies == 0, np.where(abandoned, "closed", "new"),
                               np.where(last_role == "customer", "open",
                                        np.where(rng.random(m) < 0.2, "on_hold", "pending")))).astype(object)
    contacts = np.where(np.isin(channel, (1, 2)), 1 + reopened, np.bincount(t_idx[is_cust], minlength=m))
    contacts = np.where(abandoned, 1, contacts).astype(float)
    ht = np.where(channel == 2, rng.lognormal(np.log(330), 0.5, m) + rng.uniform(30, 120, m),
                  np.where(channel == 1, rng.lognormal(np.log(480), 0.5, m),
                           rng.lognormal(np.log(200), 0.6, m) * np.maximum(replies, 1)))
    handle = np.round(ht * np.exp(-0.12 * skill) * (1 + 0.4 * d), 1)
    handle = np.where((replies > 0) & with_agent, handle, np.nan)
    paused = np.where(resolved & np.isin(channel, (0, 3)) & (rng.random(m) < 0.2),
                      np.round((resolved_at - created) * rng.uniform(0.1, 0.5, m)), np.nan)
    sla_miss = (first_resp - created) > np.array([86400, 60, 180, 86400, 3600])[channel]
    surveys, scores = _surveys(rng, m, resolved, resolved_at, dis, reopened, sla_miss, sentiment, skill, lo, acc,
                               agents["number"][agent])
    answered = np.where(live, ~abandoned, False)
    subject = np.where(np.isin(channel, (0, 3)), render(rng, [TEXT[f"subject.{r}"] for r in REQUEST_TYPES], rt,
                                                          slots, np.arange(m)), None)
    tickets = {
        "ticket_id": ("num:T:7", lo + np.arange(m)),
        "created_at": ("ts", created),
        "channel": ("str", np.array(CHANNELS, dtype=object)[channel]),
        "account_id": ("num:A:6", acc),
        "agent_id": ("num:AG:4", np.where(with_agent, agents["number"][agent], -1)),
        "team": ("str", np.where(with_agent, np.array(TEAMS, dtype=object)[team], None)),
        "subject": ("str", subject),
        "text": ("str", first_text),
        "status": ("str", status),
        "priority": ("str", np.array(PRIORITIES, dtype=object)[priority]),
        "first_response_at": ("ts", first_resp),
        "resolved_at": ("ts", resolved_at),
        "reopened": ("bool", reopened),
        "contacts": ("int", contacts),
        "agent_replies": ("int", replies.astype(float)),
        "handle_time_s": ("float", handle),
        "wait_time_s": ("float", np.round(wait, 1)),
        "paused_s": ("float", paused),
        "answered": ("bool", np.where(live, answered, np.nan)),
        "abandoned": ("bool", np.where(live, abandoned, np.nan)),
        "self_service": ("bool", self_service),
        "csat": ("float", scores["csat"]),
        "nps": ("float", scores["nps"]),
        "ces": ("float", scores["ces"]),
        "true_request_type": ("str", np.array(REQUEST_TYPES, dtype=object)[rt]),
        "true_sentiment": ("str", np.array(["negative", "neutral", "positive"], dtype=object)[sentiment]),
    }
    n_msg = len(t)
    messages = {
        "message_id": ("num:M:8", msg_offset + np.arange(n_msg)),
        "ticket_id": ("num:T:7", lo + t_idx),
        "sent_at": ("ts", t),
        "author_role": ("str", role),
        "author_id": ("id", msgs["author"]),
        "text": ("str", msgs["text"]),
    }
    return tickets, messages, surveys


def _slots(rng, lo, created, acc, agent_names, a) -> dict[str, np.ndarray]:
    m = len(created)
    s = {k: np.array(v, dtype=object)[rng.integers(0, len(v), m)] for k, v in SLOT_VALUES.items()}
    s["agent"] = agent_names
    has_acc = acc >= 0
    s["plan"] = np.where(has_acc, np.array([p.title() for p in PLANS], dtype=object)[a["plan"][acc]], s["plan"])
    s["account_id"] = np.where(has_acc, _ids("A", np.maximum(acc, 0), 6), None)
    s["order"] = _ids("#", rng.integers(100000, 999999, m), 6)
    s["amount"] = np.char.add("$", np.char.mod("%.2f", np.round(rng.lognormal(np.log(60), 0.9, m), 2))).astype(object)
    s["days"] = rng.integers(2, 15, m).astype(str).astype(object)
    day = (created + rng.integers(-20, 20, m) * DAY).astype(np.int64).astype("datetime64[s]").astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    names = np.array(["January", "February", "March", "April", "May", "June", "July", "August", "September",
                      "October", "November", "December"], dtype=object)
    s["date"] = names[month.astype(np.int64) % 12] + " " + ((day - month).astype(np.int64) + 1).astype(str).astype(object)
    s["ticket"] = _ids("#T", lo + np.arange(m), 7)
    return s


def _conversations(rng, x: dict[str, np.ndarray], slots: dict[str, np.ndarray]):
    """Every message of every ticket in the chunk, sorted by ticket and time.

    Returns the message columns, each ticket's planned resolution time and
    the time of the customer's reopening message (NaN where none).
    """
    from cxlens._example_conversation import build_conversations

    return build_conversations(rng, x, slots, follow_median=FOLLOW_MEDIAN, end=END)


def _first_texts(msgs: dict[str, np.ndarray], m: int) -> np.ndarray:
    out = np.full(m, None, dtype=object)
    cust = np.flatnonzero(msgs["role"] == "customer")
    uniq, pos = np.unique(msgs["tidx"][cust], return_index=True)
    out[uniq] = msgs["text"][cust[pos]]
    return out


def _surveys(rng, m, resolved, resolved_at, dis, reopened, sla_miss, sentiment, skill, lo, acc, agent_numbers):
    neg = (sentiment == 0).astype(float)
    d = dis.astype(float)
    bad = 1.5 * d + 0.8 * reopened + 0.5 * sla_miss + 0.5 * neg - 0.25 * skill
    responded = resolved_at + rng.lognormal(np.log(6 * 3600), 1.0, m)
    ok = resolved & (responded <= END)
    take = {"csat": ok & (rng.random(m) < 0.3), "nps": ok & (rng.random(m) < 0.1), "ces": ok & (rng.random(m) < 0.1)}
    raw = {"csat": np.clip(np.round(4.5 - bad + rng.normal(0, 0.7, m)), 1, 5),
           "nps": np.clip(np.round(9.0 - 2.2 * bad + rng.normal(0, 1.3, m)), 0, 10),
           "ces": np.clip(np.round(2.3 + 1.3 * bad + rng.normal(0, 0.9, m)), 1, 7)}
    scores = {k: np.where(take[k], raw[k], np.nan) for k in raw}
    rows = [(k, np.flatnonzero(take[k])) for k in ("csat", "nps", "ces")]
    idx = np.concatenate([r for _, r in rows])
    kind = np.concatenate([np.full(len(r), k, dtype=object) for k, r in rows])
    score = np.concatenate([raw[k][r] for k, r in rows])
    order = np.lexsort((kind, idx))
    idx, kind, score = idx[order], kind[order], score[order]
    table = {
        "kind": ("str", kind), "score": ("float", score), "responded_at": ("ts", np.floor(responded[idx])),
        "ticket_id": ("num:T:7", lo + idx),
        "account_id": ("num:A:6", acc[idx]),
        "agent_id": ("num:AG:4", agent_numbers[idx]),
    }
    return table, scores


# ---------------------------------------------------------------- mentions


def _mentions(rng: np.random.Generator, n: int) -> dict[str, tuple[str, np.ndarray]]:
    kinds = ("question", "complaint", "praise", "neutral", "reply")
    kind = rng.choice(5, size=n, p=[0.25, 0.25, 0.15, 0.2, 0.15])
    posted = START + rng.random(n) * (END - 3600 - START)
    outage = START + 200 * DAY  # a bad week: complaints pile up
    spike = (kind == 1) & (rng.random(n) < 0.25)
    posted = np.floor(np.where(spike, outage + rng.random(n) * 7 * DAY, posted))
    order = np.argsort(posted, kind="stable")
    kind, posted = kind[order], posted[order]
    slots = {k: np.array(v, dtype=object)[rng.integers(0, len(v), n)] for k, v in SLOT_VALUES.items()}
    slots["brand"] = np.full(n, "Northwind", dtype=object)
    slots["order"] = _ids("#", rng.integers(100000, 999999, n), 6)
    slots["days"] = rng.integers(2, 15, n).astype(str).astype(object)
    slots["error"] = np.where(spike[order], "E500", slots["error"])
    text = render(rng, [MENTIONS[k] for k in kinds], kind, slots, np.arange(n))
    ids = _ids("X", np.arange(n), 7)
    parent = np.floor(rng.random(n) * np.arange(n)).astype(int)
    in_reply = np.where((kind == 4) & (np.arange(n) > 0), ids[parent], None)
    reply_p = np.array([0.7, 0.6, 0.2, 0.05, 0.0])[kind]
    replied = np.where(rng.random(n) < reply_p, posted + np.round(rng.lognormal(np.log(3600), 1.1, n)), np.nan)
    sentiment = np.where(kind == 1, "negative", np.where(kind == 2, "positive", "neutral")).astype(object)
    return {
        "mention_id": ("num:X:7", np.arange(n)), "posted_at": ("ts", posted), "text": ("str", text),
        "platform": ("str", np.array(["twitter", "facebook", "instagram", "reddit"], dtype=object)[
            rng.choice(4, size=n, p=[0.55, 0.15, 0.15, 0.15])]),
        "author": ("id", _ids("u", rng.integers(1, max(2, n // 2), n), 5)),
        "brand": ("str", np.full(n, "northwind", dtype=object)),
        "in_reply_to": ("id", in_reply),
        "replied_at": ("ts", np.where(replied <= END, replied, np.nan)),
        "true_sentiment": ("str", sentiment),
        "true_is_question": ("bool", kind == 0),
        "true_is_complaint": ("bool", kind == 1),
    }


# ---------------------------------------------------------------- helpers


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded numbers, as an object array of str."""
    return np.char.add(prefix, np.char.zfill(np.asarray(numbers, dtype=np.int64).astype(str), width)).astype(object)


def _pick(rng: np.random.Generator, probs: np.ndarray, row: np.ndarray) -> np.ndarray:
    """One category per item, from the probability row ``probs[row[i]]``."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    return (rng.random(len(row))[:, None] > cum[row]).sum(axis=1).clip(0, probs.shape[1] - 1)
