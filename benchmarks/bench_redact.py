"""PII redaction (issue 24): precision and recall per type, and throughput.

Two labelled sets:

* **generated hard cases** (seeded): every type in several real-world formats (international phones, spaced /
  dashed / compact cards and IBANs of six countries, US and UK addresses, names with and without cues, names
  from a held-out list that partly misses cxlens's own list), each text mixed with look-alikes that must stay:
  order, ticket, tracking and invoice numbers, versions, dates, times, prices, Luhn-invalid card numbers,
  IBANs with a wrong check digit, error codes, product names, greetings to a brand.
* **real public texts**: a hand-labelled sample of the IBM Twitter customer-care dev set
  (``benchmarks/data/pii_ibm_dev_gold.json`` says which messages and what is in them), and 384 tweets to airlines,
  to @SpotifyCares and to @AmazonHelp (``benchmarks/pii_real_sample.py`` draws them: every message with an email-,
  phone- or IP-like candidate plus random ones; ``benchmarks/data/pii_real/labels_a.csv`` / ``labels_b.csv``
  hold two annotators' labels as character offsets, never the values; ``guideline.md`` is what they followed);
  and two fresh samples of such tweets for person names (``benchmarks/data/pii_real_names``, 380, and
  ``pii_real_names_test``, 357; drawn 7 Dec from the messages the samples before left: name-like contexts and random
  ones): the first became the name tagger's development set, the second measures the final detector once.

An entity is found when a detected span of the same type overlaps it; a detected span is right when it overlaps
a labelled entity of its type. Usage::

    python benchmarks/bench_redact.py [--n 400] [--seed 24] [--repeat 5] [--only names] [--errors]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import time
from collections import Counter
from pathlib import Path

from cxlens._pii import PII_TYPES, find_pii, luhn_valid
from cxlens.redact import _tagged, redact_texts

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "ibm_twitter_cdp" / "dev.json"
GOLD = ROOT / "benchmarks" / "data" / "pii_ibm_dev_gold.json"
CANDIDATES = re.compile(r"\w@\w|\d[\d\s().-]{6,}\d|\d+\.\d+\.\d+\.\d+|\bmy name\b|\bI'?m [A-Z]|"
                        r"\b(?:Mr|Mrs|Ms|Dr)\.? [A-Z]")

# held-out names for the generated set: about half are in cxlens/data/pii/first_names.txt, half are not
FIRST = ["Maria", "James", "Priya", "Ahmed", "Sofia", "Chen", "Olivia", "Mateo", "Fatima", "Lukas", "Aiko", "Kwame",
         "Ingrid", "Rohan", "Chiara", "Tomasz", "Amara", "Ewan", "Leila", "Dmitri", "Nadia", "Oluwaseun", "Bjorn",
         "Hamid", "Siobhan", "Thiago", "Anneliese", "Kenji", "Zainab", "Callum", "Emily", "Daniel", "Laura", "Kevin",
         "Grace", "Mark", "Will", "Jessica", "Marcus", "Helena"]
LAST = ["Lopez", "Okafor", "Schmidt", "Nakamura", "Kowalski", "Haddad", "Fitzgerald", "Andersson", "Moreau",
        "Chatterjee", "Silva", "Novak", "Mensah", "Rossi", "Brennan", "Yilmaz", "Petrov", "Lindqvist", "Adeyemi",
        "Walsh", "Henderson", "Brown", "Garcia", "Murphy"]
STREETS = ["Baker", "Maple", "Elm", "Sunset", "Pennsylvania", "Church", "High", "Station", "Oak", "Victoria"]
SUFFIX = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Blvd", "Way", "Court"]
CITIES = [("Springfield", "IL", "62704"), ("Austin", "TX", "78701"), ("Portland", "OR", "97205"),
          ("Boston", "MA", "02110")]
UK = [("London", "NW1 6XE"), ("Leeds", "LS1 4AP"), ("Manchester", "M1 1AE")]
IBAN_LAYOUT = {"DE": 18, "GB": 18, "FR": 23, "NL": 14, "ES": 20, "IT": 23}
NEGATIVES = ["order #A-{n5}", "order number {n10}", "Amazon order 112-{n7}-{n7}", "ticket {n8}",
             "tracking 1Z{AZ3}{n12}", "invoice INV-{n4}", "version {v}", "build 10.0.{n5}.1", "on {date}",
             "at 10:{mm} am", "for ${price}", "card number 4111 1111 1111 {bad4}", "error 0x8007{n4}",
             "the iPhone 15 Pro", "my Galaxy S24", "Hi Spotify,", "Thanks team!", "model X{n3}", "{n2} items",
             "case 00{n6}", "IBAN DE00 1234 5678 9012 3456 78 (wrong check digits)"]


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for last in string.digits:
        if luhn_valid(body + last):
            return body + last
    raise AssertionError


def _iban(country: str, rng: random.Random) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(IBAN_LAYOUT[country]))
    if country in ("GB", "NL"):
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + bban[4:]
    number = int("".join(str(int(ch, 36)) for ch in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


def _value(kind: str, rng: random.Random) -> tuple[str, str]:
    """(the value, a context with {} where it goes)."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if kind == "EMAIL":
        local = rng.choice([f"{first}.{last}", f"{first[0]}{last}{rng.randint(1, 99)}", f"{first}_{last}",
                            f"{first}+support"]).lower()
        value = f"{local}@{rng.choice(['gmail.com', 'example.co.uk', 'mail.acme-corp.com', 'outlook.de', 'yahoo.fr'])}"
        if rng.random() < 0.1:
            value = f"{local} [at] gmail [dot] com"
        return value, rng.choice(["email me at {}", "my email is {}", "{} is my login", "contact: {}",
                                  "I wrote from {} twice"])
    if kind == "PHONE":
        value = rng.choice([f"+1 (415) 555-{rng.randint(1000, 9999)}", f"+44 20 7946 {rng.randint(1000, 9999)}",
                            f"+49 30 {rng.randint(1000000, 99999999)}", f"+33 1 23 45 {rng.randint(10, 99)} 89",
                            f"+91 98765 {rng.randint(10000, 99999)}", f"(212) 555-{rng.randint(1000, 9999)}",
                            f"212-555-{rng.randint(1000, 9999)}", f"212.555.{rng.randint(1000, 9999)}",
                            f"020 7946 {rng.randint(1000, 9999)}", f"07700 {rng.randint(100000, 999999)}",
                            f"+61 2 9876 {rng.randint(1000, 9999)}", f"+81 3-1234-{rng.randint(1000, 9999)}"])
        return value, rng.choice(["call me on {}", "my number is {}", "{} is my cell", "reach me at {}",
                                  "phone: {}", "I tried {} twice", "text {} please"])
    if kind == "CARD":
        digits = rng.choice([_luhn_complete("4", 16, rng), _luhn_complete(str(rng.randint(51, 55)), 16, rng),
                             _luhn_complete(rng.choice(["34", "37"]), 15, rng)])
        if len(digits) == 15:
            value = rng.choice([f"{digits[:4]} {digits[4:10]} {digits[10:]}", digits])
        else:
            sep = rng.choice([" ", "-", ""])
            value = sep.join(digits[i:i + 4] for i in range(0, 16, 4))
        return value, rng.choice(["charged my card {}", "card {} exp 09/27", "use {} instead",
                                  "the card ending... no, the full number is {}"])
    if kind == "IBAN":
        iban = _iban(rng.choice(list(IBAN_LAYOUT)), rng)
        value = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.6 else iban
        return value, rng.choice(["refund to IBAN {}", "my IBAN: {}", "transfer it to {} please"])
    if kind == "SSN":
        value = f"{rng.randint(100, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        return value, rng.choice(["SSN {}", "my social is {}", "{} is my SSN"])
    if kind == "IP":
        value = rng.choice([f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                            f"2001:db8:{rng.randint(1, 9999):x}::{rng.randint(1, 65535):x}"])
        return value, rng.choice(["my IP is {}", "blocked from {}", "login from {} was not me"])
    if kind == "ADDRESS":
        city, state, zipcode = rng.choice(CITIES)
        value = rng.choice([f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(SUFFIX)}",
                            f"{rng.randint(1, 999)} {rng.choice(STREETS)} {rng.choice(SUFFIX)}, {city}, {state} "
                            f"{zipcode}",
                            "{} {} Road, {} {}".format(rng.randint(1, 200), rng.choice(STREETS), *rng.choice(UK))])
        return value, rng.choice(["ship to {}", "I moved to {} last month", "deliver at {}"])
    if kind == "PERSON":
        value = rng.choice([first, f"{first} {last}"])
        context = rng.choice(["Hi {},", "my name is {}", "Thanks, {}", "I spoke with {} yesterday",
                              "{} here again", "Regards,\n{}", "ask {} about it", "is {} working today?"])
        if rng.random() < 0.15:
            value, context = last, rng.choice(["Mr. {} called", "Ms {} said no"])
        return value, context
    raise ValueError(kind)


def _negative(rng: random.Random) -> str:
    template = rng.choice(NEGATIVES)
    fill = {f"n{k}": "".join(rng.choice(string.digits) for _ in range(k)) for k in (2, 3, 4, 5, 6, 7, 8, 10, 12)}
    bad = str(rng.randint(0, 9999)).zfill(4)
    while luhn_valid("411111111111" + bad):
        bad = str(rng.randint(0, 9999)).zfill(4)
    return template.format(**fill, AZ3="".join(rng.choice(string.ascii_uppercase) for _ in range(3)),
                           v=f"{rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}",
                           date=rng.choice(["2024-03-04", "12/06/2024", "March 3rd"]), mm=f"{rng.randint(0, 59):02d}",
                           price=f"{rng.randint(1, 2000)}.{rng.randint(0, 99):02d}", bad4=bad)


def generated(n: int, seed: int) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """``n`` texts with their gold spans: two or three entities of random types between look-alikes."""
    rng = random.Random(seed)
    kinds = [k for k in PII_TYPES if k != "HANDLE"]
    out = []
    for _ in range(n):
        text, gold = "", []
        for _ in range(rng.randint(2, 3)):
            text += _negative(rng).capitalize() + ". "
            kind = rng.choice(kinds)
            value, context = _value(kind, rng)
            head, tail = context.split("{}")
            start = len(text) + len(head)
            text += head + value + tail + ". "
            gold.append((kind, start, start + len(value)))
        text += _negative(rng) + "."
        out.append((text, gold))
    return out


def real(*, held_out: bool = False) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """The hand-labelled IBM dev messages (the first set, or the held-out one); @handles by Twitter's syntax."""
    from pii_real_sample import locate

    conversations = json.loads(DEV.read_text(encoding="utf-8"))
    texts = [turn.get("message") or "" for conv in conversations for turn in conv["dialogContent"]]
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    sample = gold["samples"]
    random.seed(sample["seed_a"])
    first = set(random.sample(range(len(texts)), sample["n_a"]))
    random.seed(sample["seed_b"])
    second = set(random.sample([i for i in range(len(texts)) if i not in first], sample["n_b"]))
    chosen = sorted(first | second | {i for i, t in enumerate(texts) if CANDIDATES.search(t)})
    labels = gold["labels"]
    if held_out:
        random.seed(gold["held_out"]["seed"])
        chosen = sorted(random.sample([i for i in range(len(texts)) if i not in set(chosen)], gold["held_out"]["n"]))
        labels = gold["held_out"]["labels"]
    out = []
    for i in chosen:
        text = texts[i]
        spans = []
        for kind, surface in labels.get(str(i), []):
            start = locate(text, surface, [(s, e) for _, s, e in spans])  # not "@TuckerCarlson"'s Tucker
            spans.append((kind, start, start + len(surface)))
        spans += [("HANDLE", m.start(), m.end()) for m in re.finditer(r"(?<![\w@])@[A-Za-z0-9_]{1,15}(?![\w@])", text)]
        out.append((text, spans))
    return out


def real_tweets(annotator: str = "a", which: str = "tweets") -> list[tuple[str, list[tuple[str, int, int]]]]:
    """The labelled tweets of sample ``which`` (``tweets``: ``benchmarks/data/pii_real``, 384; ``names``:
    ``benchmarks/data/pii_real_names``, 380), texts read from ``../shared/data``."""
    import pandas as pd

    from pii_real_sample import SETS, sample_texts

    texts = dict(zip(*sample_texts(which)[["key", "text"]].T.values))
    labels = pd.read_csv(SETS[which] / f"labels_{annotator}.csv", keep_default_na=False)
    out = []
    for key, rows in labels.groupby("key", sort=False):
        text = texts[key]
        spans = [(r.type, int(r.start), int(r.end)) for r in rows.itertuples() if r.type != "NONE"]
        spans += [("HANDLE", m.start(), m.end()) for m in re.finditer(r"(?<![\w@])@[A-Za-z0-9_]{1,15}(?![\w@])", text)]
        out.append((text, spans))
    return out


def agreement(which: str = "tweets") -> str:
    """How often the two annotators of a tweet sample gave the same (message, type, span)."""
    import pandas as pd

    from pii_real_sample import SETS

    a, b = (set(map(tuple, pd.read_csv(SETS[which] / f"labels_{x}.csv", keep_default_na=False).astype(str).to_numpy()))
            for x in "ab")
    return f"{len(a & b)} of {len(a | b)} label rows identical ({len(a & b) / len(a | b):.1%})"


def score(items, names: str = "tagger") -> dict[str, dict[str, float]]:
    tp_gold, n_gold, tp_pred, n_pred = Counter(), Counter(), Counter(), Counter()
    misses = []
    texts = [text for text, _ in items]
    tagged = _tagged(texts, PII_TYPES, names)  # the texts redact_texts would give the tagger, and its spans
    for text, gold in items:
        spans = tagged.get(text, ())
        pred = find_pii(text, tagged=spans)
        for kind, s, e in gold:
            n_gold[kind] += 1
            if any(k == kind and ps < e and pe > s for ps, pe, k in pred):
                tp_gold[kind] += 1
            else:
                misses.append(("missed", kind, text[s:e], text))
        for ps, pe, kind in pred:
            n_pred[kind] += 1
            if any(k == kind and ps < e and pe > s for k, s, e in gold):
                tp_pred[kind] += 1
            else:
                misses.append(("false", kind, text[ps:pe], text))
    table = {}
    for kind in PII_TYPES:
        if n_gold[kind] or n_pred[kind]:
            table[kind] = {"labelled": n_gold[kind], "found": n_pred[kind],
                           "recall": tp_gold[kind] / n_gold[kind] if n_gold[kind] else float("nan"),
                           "precision": tp_pred[kind] / n_pred[kind] if n_pred[kind] else float("nan")}
    return {"table": table, "errors": misses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="generated texts (default 400)")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=5, help="passes over the dev texts for throughput")
    parser.add_argument("--errors", action="store_true", help="print every miss and false hit")
    parser.add_argument("--only", choices=["generated", "ibm", "ibm-held-out", "tweets", "names", "names-test"],
                        action="append", help="measure only these sets (repeatable; default all)")
    parser.add_argument("--names", choices=["tagger", "rules"], default="tagger",
                        help="person names by the rules and the name tagger (default) or the rules alone")
    args = parser.parse_args()
    sets = {"generated": lambda: ("generated hard cases", generated(args.n, args.seed)),
            "ibm": lambda: ("IBM dev, hand-labelled (the rules were revised after seeing its errors)", real()),
            "ibm-held-out": lambda: ("IBM dev, held-out (labelled before the detector ran on it)",
                                     real(held_out=True)),
            "tweets": lambda: ("tweets to airlines, Spotify and Amazon (phone and name rules revised after seeing "
                               f"their errors; annotators: {agreement()})", real_tweets()),
            "names": lambda: ("fresh tweets for person names (the name tagger's development set; annotators: "
                              f"{agreement('names')})", real_tweets(which="names")),
            "names-test": lambda: ("tweets for person names, test (measured once, at the end; annotators: "
                                   f"{agreement('names_test')})", real_tweets(which="names_test"))}
    sets = [load() for key, load in sets.items() if not args.only or key in args.only]
    for name, items in sets:
        result = score(items, args.names)
        print(f"\n{name}: {len(items)} texts")
        print("| type | labelled | found | precision | recall |\n|---|---:|---:|---:|---:|")
        for kind, row in result["table"].items():
            print(f"| {kind} | {row['labelled']} | {row['found']} | {row['precision']:.3f} | {row['recall']:.3f} |")
        if args.errors:
            for what, kind, value, text in result["errors"]:
                print(f"  {what} {kind}: {value!r} in {text[:160]!r}")
    texts = [turn.get("message") or "" for conv in json.loads(DEV.read_text(encoding="utf-8"))
             for turn in conv["dialogContent"]]
    chars = sum(map(len, texts))
    start = time.perf_counter()
    for _ in range(args.repeat):
        redact_texts([t + " " for t in texts], names=args.names)  # fresh strings: redact_texts caches repeats
    seconds = (time.perf_counter() - start) / args.repeat
    print(f"\nthroughput (one process): {len(texts) / seconds:,.0f} texts/s, {chars / seconds / 1e6:.2f} M chars/s "
          f"({len(texts)} IBM dev messages, mean {chars / len(texts):.0f} chars, {args.repeat} passes)")


if __name__ == "__main__":
    main()
