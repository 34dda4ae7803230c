"""Train the person-name tagger that ships with cxlens (issue 24): a small spaCy NER, licence-clean data only.

No English NER model is on PyPI (``pip download en-core-web-sm`` finds nothing), and nothing may be downloaded at run
time, so cxlens trains its own. The contexts are real: GoEmotions (Apache-2.0) is 58k Reddit comments in which the
authors replaced every person's name with ``[NAME]``; each ``[NAME]`` is filled with a name drawn from cxlens's
name lists (Faker's given names and surnames, MIT), as a given name, a full name, a surname, and sometimes in lower
case or capitals. Comments without ``[NAME]``, Bitext customer requests (CDLA-Sharing-1.0; their ``{{Order
History}}``-style placeholders become the capitalised words they stand for) and BANKING77 queries (CC BY 4.0) are
the negatives: capitalised words that are not names. Nothing the redaction is measured on (IBM, airline, TWCS
tweets, the generated cases of ``bench_redact.py``) is read here.

    python benchmarks/train_pii_ner.py                       # writes cxlens/data/pii/ner/ (about 12 minutes, 2 cores)
    python benchmarks/train_pii_ner.py --out /tmp/ner --epochs 3
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from cxlens._pii import _word_list

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
NAMES = ROOT / "cxlens" / "data" / "pii"
OUT = NAMES / "ner"
RELIGIONS = ["Christian", "Muslim", "Jewish", "Catholic", "Hindu", "Buddhist", "Mormon", "Protestant", "Sikh"]
#: capitalised words that are not people, written by us: put in a ``[NAME]`` slot (a copy of about a third of the
#: sentences, labelled with no name) so that a capitalised word in a name's place is not a name by its place alone
DISTRACTORS = """Amazon|Spotify|Netflix|Delta|United|Southwest|JetBlue|American Airlines|Virgin America|Google|Apple|
Microsoft|Samsung|Verizon|Comcast|Xfinity|Hulu|Disney|PayPal|Venmo|Uber|Lyft|Airbnb|Walmart|Target|Costco|Best Buy|
Starbucks|McDonald's|Facebook|Instagram|Twitter|Reddit|YouTube|TikTok|Snapchat|WhatsApp|Xbox|PlayStation|Nintendo|
Steam|Windows|Android|iPhone|MacBook|Chromebook|Kindle|Alexa|Siri|Prime|Premium|Gold|Platinum|New York|Los Angeles|
Chicago|Houston|Dallas|Austin|Denver|Boston|Seattle|Miami|Orlando|Atlanta|Phoenix|Nashville|Norfolk|Savannah|Charlotte|
Portland|Vegas|Las Vegas|San Juan|San Francisco|San Diego|Puerto Rico|Texas|Florida|California|Georgia|Virginia|
Carolina|Canada|Mexico|England|London|Paris|Berlin|Dublin|Sydney|Toronto|Denmark|Finland|Sweden|Germany|France|Spain|
Italy|India|Japan|China|Brazil|Europe|Asia|Africa|Chapel Hill|Wall Street|Broadway|Brooklyn|Manhattan|Heathrow|
JFK|LaGuardia|O'Hare|January|February|March|April|June|July|August|September|October|November|December|Monday|
Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Christmas|Easter|Thanksgiving|Halloween|Black Friday|Gate|Terminal|
Customer Service|Support|Billing|Premium|Family Plan|Student|Discover|Daily Mix|Release Radar|Discover Weekly|
Fifth Harmony|Coldplay|Metallica|Nirvana|Radiohead|Maroon|Imagine Dragons|High Sierra|El Capitan|Mojave|Catalina|
Chrome|Firefox|Safari|Edge|Outlook|Gmail|Yahoo|Hotmail|Office|Excel|Teams|Zoom|Slack|Oreo|Pixel|Galaxy|Echo|
Roku|Fire TV|Apple TV|Sonos|Bose|Tesla|Ford|Toyota|Honda|Boeing|Airbus|Marriott|Hilton|Expedia|Visa|Mastercard|
Amex|Chase|Citi|Wells Fargo|Barclays|HSBC|Revolut|Monzo|Bitcoin|Ethereum""".replace("\n", "").split("|")


def _name(rng: random.Random, given: list[str], surnames: list[str]) -> str:
    first, last = rng.choice(given).capitalize(), rng.choice(surnames).capitalize()
    form = rng.random()
    name = first if form < 0.45 else f"{first} {last}" if form < 0.8 else last if form < 0.9 else \
        f"{first[0]}. {last}" if form < 0.93 else first
    style = rng.random()
    return name.lower() if style < 0.05 else name.upper() if style < 0.1 else name


def examples(seed: int = 0) -> list[tuple[str, list[tuple[int, int]]]]:
    """(text, person spans) for training: GoEmotions with names filled in, and the negatives."""
    rng = random.Random(seed)
    given = sorted(_word_list("first_names.txt")) + sorted(_word_list("ambiguous_names.txt"))  # the order drawn from
    surnames = sorted(_word_list("surnames.txt"))
    out, negatives = [], []
    for split in ("train.tsv", "dev.tsv"):
        with (DATA / "goemotions" / split).open(encoding="utf-8", newline="") as f:
            for row in csv.reader(f, delimiter="\t"):
                text = row[0].replace("[RELIGION]", rng.choice(RELIGIONS))
                if "[NAME]" not in text:
                    negatives.append((text, []))
                    continue
                parts, spans = text.split("[NAME]"), []
                built = parts[0]
                for part in parts[1:]:
                    name = _name(rng, given, surnames)
                    spans.append((len(built), len(built) + len(name)))
                    built += name + part
                out.append((built, spans))
                if rng.random() < 0.35:
                    out.append(("".join(p + (rng.choice(DISTRACTORS) if i < len(parts) - 1 else "")
                                        for i, p in enumerate(parts)), []))
    out += rng.sample(negatives, min(len(negatives), 2 * len(out)))
    with (DATA / "bitext" / "bitext_customer_support.csv").open(encoding="utf-8", newline="") as f:
        bitext = [re.sub(r"\{\{([^}]*)\}\}", r"\1", row["instruction"]) for row in csv.DictReader(f)]
    out += [(t, []) for t in rng.sample(bitext, 3000)]
    with (DATA / "banking77" / "train.csv").open(encoding="utf-8", newline="") as f:
        banking = [row["text"] for row in csv.DictReader(f)]
    out += [(t, []) for t in rng.sample(banking, 1500)]
    rng.shuffle(out)
    return out


def train(items, *, epochs: int, seed: int = 0):
    import spacy
    from spacy.training import Example
    from spacy.util import compounding, minibatch

    spacy.util.fix_random_seed(seed)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    ner.add_label("PERSON")
    docs = []
    for text, spans in items:
        doc = nlp.make_doc(text)
        ents = [doc.char_span(s, e, label="PERSON", alignment_mode="expand") for s, e in spans]
        docs.append(Example.from_dict(doc, {"entities": [(e.start_char, e.end_char, "PERSON") for e in ents if e]}))
    optimizer = nlp.initialize(lambda: docs)
    for epoch in range(epochs):
        random.Random(seed + epoch).shuffle(docs)
        losses, start = {}, time.perf_counter()
        for batch in minibatch(docs, size=compounding(8.0, 64.0, 1.05)):
            nlp.update(batch, sgd=optimizer, drop=0.2, losses=losses)
        sys.stderr.write(f"epoch {epoch + 1}/{epochs}: loss {losses['ner']:.1f}, {time.perf_counter() - start:.0f} s\n")
    return nlp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    items = examples(args.seed)
    sys.stderr.write(f"{len(items)} texts, {sum(1 for _, s in items if s)} with names\n")
    nlp = train(items, epochs=args.epochs, seed=args.seed)
    nlp.meta.update({"name": "cxlens_name_tagger", "version": "1.0.0", "license": "Apache-2.0",
                     "spacy_version": ">=3.7.0,<4.0.0", "author": "cxlens",
                     "description": "Person names for cxlens's PII redaction (docs/models/name_tagger.md)"})
    nlp.to_disk(args.out)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    (args.out / "training.json").write_text(json.dumps(
        {"commit": commit.strip() or None, "texts": len(items), "with_names": sum(1 for _, s in items if s),
         "epochs": args.epochs, "seed": args.seed,
         "sources": ["goemotions train+dev ([NAME] filled from cxlens/data/pii name lists; a third copied with "
                     "DISTRACTORS)", "bitext instructions", "banking77 train"]}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
