"""The messages of generated tickets (part of :mod:`cxlens.example_data`).

Vectorised over tickets: each kind of message (the customer's first message,
acknowledgements, the j-th agent reply, follow-ups, notes, ...) is made for
every ticket that has it at once; a loop runs only over the reply number
(at most 6).  Channels: 0 email, 1 chat, 2 phone, 3 web, 4 social.
"""

from __future__ import annotations

import numpy as np

from cxlens._example_text import REQUEST_TYPES, TEXT, render

__all__ = ["build_conversations"]

EMAIL, CHAT, PHONE, WEB, SOCIAL = range(5)
SENTIMENTS = ("negative", "neutral", "positive")


class _Blocks:
    """Collects message blocks, then sorts them into one table."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, seq: int, tidx: np.ndarray, t: np.ndarray, role: str, author: np.ndarray,
            text: np.ndarray) -> None:
        if len(tidx):
            self.parts.append((tidx, np.floor(t), np.full(len(tidx), seq), np.full(len(tidx), role, dtype=object),
                               author, text))

    def table(self) -> dict[str, np.ndarray]:
        cols = [np.concatenate([p[i] for p in self.parts]) for i in range(6)]
        tidx, t, seq, role, author, text = cols
        order = np.lexsort((seq, t, tidx))
        return {"tidx": tidx[order], "t": t[order], "role": role[order], "author": author[order],
                "text": text[order]}


def _join(*parts: np.ndarray) -> np.ndarray:
    """Join text pieces with one space, skipping empty pieces (object arrays of str)."""
    out = parts[0].astype(object)
    for part in parts[1:]:
        sep = np.where((out != "") & (part != ""), " ", "").astype(object)
        out = out + sep + part
    return out


def build_conversations(rng: np.random.Generator, x: dict[str, np.ndarray], slots: dict[str, np.ndarray], *,
                        follow_median: np.ndarray, end: float):
    """Messages for the tickets in ``x``; see :func:`cxlens.example_data._conversations`."""
    m = len(x["created"])
    ch, rt, k = x["channel"], x["rt"], x["k"]
    created, speed = x["created"], x["speed"]
    agent_ids = x["agent_id"]
    customer = slots["account_id"]
    sent = x["sentiment"]
    none = np.full(m, None, dtype=object)
    b = _Blocks()

    def pools(prefix: str) -> list[tuple[str, ...]]:
        return [TEXT[f"{prefix}.{r}"] for r in REQUEST_TYPES]

    # ---- the customer's first message (an abandoned call has none: only a system line)
    phone_gone = (ch == PHONE) & x["abandoned"]
    first = np.flatnonzero(~phone_gone)
    body = render(rng, pools("first"), rt[first], slots, first)
    opener = render(rng, [TEXT[f"open.{s}"] for s in SENTIMENTS], sent[first], slots, first)
    emotion = render(rng, [TEXT[f"emotion.{s}"] for s in SENTIMENTS], sent[first], slots, first)
    text = _join(opener, body, emotion)
    text = np.where(ch[first] == PHONE, "[call transcript] Customer: " + text, text)
    b.add(0, first, created[first], "customer", customer[first], text)
    gone = np.flatnonzero(phone_gone)
    b.add(0, gone, created[gone] + x["wait"][gone], "system", none[gone],
          np.full(len(gone), "Caller hung up in the queue.", dtype=object))

    # ---- acknowledgements: auto-reply (email/web), bot (chat), call connected (phone)
    ack = np.flatnonzero(np.isin(ch, (EMAIL, WEB)) & (rng.random(m) < np.where(ch == EMAIL, 1.0, 0.7)))
    b.add(1, ack, created[ack] + 2, "system", none[ack],
          render(rng, [TEXT["system"][:1]], np.zeros(len(ack), int), slots, ack))
    bot = np.flatnonzero((ch == CHAT) & (rng.random(m) < 0.85))
    b.add(1, bot, created[bot] + 1, "bot", np.full(len(bot), "bot", dtype=object),
          render(rng, [TEXT["bot"]], np.zeros(len(bot), int), slots, bot))
    call = np.flatnonzero((ch == PHONE) & ~x["abandoned"])
    b.add(1, call, created[call] + x["wait"][call], "system", none[call],
          np.full(len(call), "Call connected.", dtype=object))

    # ---- self-service: the bot answers and the customer is done
    ss = np.flatnonzero(x["self_service"])
    t_ss = created[ss] + rng.uniform(3, 12, len(ss))
    b.add(2, ss, t_ss, "bot", np.full(len(ss), "bot", dtype=object),
          render(rng, [TEXT["bot.selfservice"]], np.zeros(len(ss), int), slots, ss))
    t_ss2 = t_ss + rng.uniform(20, 90, len(ss))
    b.add(3, ss, t_ss2, "customer", customer[ss],
          render(rng, [TEXT["customer.selfservice"]], np.zeros(len(ss), int), slots, ss))
    resolved_at = np.full(m, np.nan)
    resolved_at[ss] = t_ss2 + 5

    # ---- agent replies and customer follow-ups
    live = np.isin(ch, (CHAT, PHONE))
    agent_median = np.where(live, np.where(ch == CHAT, 30.0, 15.0), 0.6 * np.array([3.5, 0, 0, 5, 0.67])[ch] * 3600)
    t = created + x["frt"]
    last_agent = np.full(m, np.nan)
    reopen_at = np.full(m, np.nan)
    angry = (sent == 0) | x["dis"]
    for j in range(1, int(k.max(initial=0)) + 1):
        has = np.flatnonzero(k >= j)
        is_last = k[has] == j
        closing = is_last & ~x["unresolved"][has]
        pool = np.where(j == 1, rt[has], np.where(rng.random(len(has)) < 0.5, rt[has], 13))
        reply = render(rng, pools("agent") + [TEXT["agent.follow"]], pool, slots, has)
        greet = np.where(np.isin(ch[has], (EMAIL, WEB, SOCIAL)) & (j == 1),
                         render(rng, [TEXT["agent.greet"]], np.zeros(len(has), int), slots, has), "")
        sign = np.where(ch[has] == EMAIL, render(rng, [TEXT["agent.sign"]], np.zeros(len(has), int), slots, has), "")
        close = np.where(closing, render(rng, [TEXT["agent.close"]], np.zeros(len(has), int), slots, has), "")
        text = _join(greet.astype(object), reply, close.astype(object), sign.astype(object))
        text = np.where(ch[has] == PHONE, "[call transcript] Agent: " + text, text)
        b.add(10 + 2 * j, has, t[has], "agent", agent_ids[has], text)
        last_agent[has] = t[has]
        # the customer answers (unless this was the last reply)
        more = has[~is_last]
        if not len(more):
            continue
        reopen = x["reopened"][more] & (k[more] == j + 1)
        gap = rng.lognormal(np.log(follow_median[ch[more]]), 0.9)
        gap = np.where(reopen, rng.lognormal(np.log(1.5 * 86400), 0.6, len(more)), gap)
        t_c = t[more] + gap
        cpool = np.where(angry[more] & (rng.random(len(more)) < 0.6), 14,
                         np.where(rng.random(len(more)) < 0.5, rt[more], 13))
        ctext = render(rng, pools("follow") + [TEXT["follow.generic"], TEXT["follow.negative"]], cpool, slots, more)
        ctext = np.where(ch[more] == PHONE, "[call transcript] Customer: " + ctext, ctext)
        b.add(11 + 2 * j, more, t_c, "customer", customer[more], ctext)
        ro = more[reopen]
        b.add(11 + 2 * j, ro, t[ro] + 60, "system", none[ro],
              render(rng, [TEXT["system"][4:5]], np.zeros(len(ro), int), slots, ro))
        b.add(12 + 2 * j, ro, t_c[reopen] + 1, "system", none[ro],
              np.full(len(ro), "Customer reopened the ticket.", dtype=object))
        reopen_at[ro] = t_c[reopen]
        t[more] = t_c + rng.lognormal(np.log(agent_median[more]), 1.0) * speed[more]

    # ---- after the last reply: resolved, or waiting on the customer / on us
    worked = np.flatnonzero(k > 0)
    unres = x["unresolved"][worked]
    done = worked[~unres]
    lag = np.where(live[done], rng.uniform(5, 60, len(done)), rng.lognormal(np.log(2 * 3600), 1.0, len(done)))
    resolved_at[done] = np.floor(last_agent[done] + lag)
    said = done[rng.random(len(done)) < 0.3]
    b.add(90, said, resolved_at[said], "system", none[said],
          render(rng, [TEXT["system"][4:5]], np.zeros(len(said), int), slots, said))
    waiting = worked[unres & (rng.random(len(worked)) < 0.6)]
    t_w = last_agent[waiting] + rng.lognormal(np.log(follow_median[ch[waiting]]), 0.9)
    b.add(90, waiting, t_w, "customer", customer[waiting],
          render(rng, [TEXT["follow.negative"]], np.zeros(len(waiting), int), slots, waiting))

    # ---- internal notes by the agent (never a response)
    noted = worked[rng.random(len(worked)) < 0.25]
    t_n = created[noted] + rng.random(len(noted)) * (last_agent[noted] - created[noted]) + 1
    b.add(50, noted, t_n, "note", agent_ids[noted],
          render(rng, [TEXT["note"]], np.zeros(len(noted), int), slots, noted))
    return b.table(), resolved_at, reopen_at
