"""Rebuild cxlens/data/pii/first_names.txt, ambiguous_names.txt, surnames.txt and common_words.txt (issue 24). A
development tool, not a dependency.

Given names: Faker's person providers (MIT licence, https://github.com/joke2k/faker) for 31 Latin-script locales,
folded to ASCII, 3+ letters, plus the hand-made list kept in first_names.txt (nicknames). A name is *ambiguous* (a
name only after a cue or before a surname) when it is also an English word: it appears in lower case at least twice
in licence-clean text (Bitext customer support, BANKING77, GoEmotions, whose authors masked people's names, so a
lower-case name there is the word), or it is in :data:`HAND_AMBIGUOUS`. Until 7 Dec the count also read tweets to
@SpotifyCares (TWCS, non-commercial: for measuring only), and the file was its own input; both stopped. Surnames: the same providers' last names, folded the same way; the heuristic reads them
only next to a given name or after a greeting, never alone (many are English words: Young, Price, Field). Usage::

    pip install --no-deps --target /tmp/fk faker
    PYTHONPATH=/tmp/fk python benchmarks/build_pii_names.py
"""

from __future__ import annotations

import csv
import importlib
import re
from collections import Counter
from pathlib import Path

from cxlens._pii import _fold

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "cxlens" / "data" / "pii"
DATA = ROOT.parent / "shared" / "data"
LOCALES = ["en_US", "en_GB", "en_IE", "en_IN", "en_NG", "en_KE", "en_PK", "en_NZ", "es_ES", "es_MX", "es_AR", "pt_BR",
           "pt_PT", "fr_FR", "de_DE", "it_IT", "pl_PL", "tr_TR", "nl_NL", "sv_SE", "da_DK", "no_NO", "fi_FI", "cs_CZ",
           "ro_RO", "hu_HU", "id_ID", "sw", "ha_NG", "ig_NG", "yo_NG"]
CORPORA = [(DATA / "bitext" / "bitext_customer_support.csv", ("instruction", "response"), ","),
           (DATA / "banking77" / "train.csv", ("text",), ","),
           (DATA / "goemotions" / "train.tsv", (0,), "\t"), (DATA / "goemotions" / "dev.tsv", (0,), "\t")]
#: given names that are words, brands or places however they are written (months, gems, flowers, cities ...)
HAND_AMBIGUOUS = set("""april august june autumn alexa siri amber crystal daisy dawn destiny harmony holly iris ivy
jewel lily ruby sierra sterling safari german nada pero una del jo mercedes paris austin jordan georgia victoria
lincoln dallas houston phoenix denver ed rod herb will pat rob al rich art ray mark frank max jack guy gene bill don
drew sue""".split())
#: licence-clean English text for the common-word list (what a capitalised word usually is when written mid-sentence)
WORD_CORPORA = [(DATA / "bitext" / "bitext_customer_support.csv", ("instruction", "response"), ","),
                (DATA / "banking77" / "train.csv", ("text",), ","),
                (DATA / "goemotions" / "train.tsv", (0,), "\t"),
                *((path, (2,), "\t") for path in sorted((DATA / "semeval2017_task4a_train").glob("twitter-*-A.tsv")))]
HEADER = {"first_names.txt": "# Given names for cxlens's name heuristic (no spaCy model ships with cxlens): Faker's "
                             "person providers\n# (MIT licence) for 31 Latin-script locales, ASCII-folded, plus a hand "
                             "list. Rebuilt by benchmarks/build_pii_names.py.\n",
          "ambiguous_names.txt": "# Given names that are also English words (seen in lower case in public support "
                                 "texts) or hand-listed:\n# a name only after a cue (\"my name is\", \"Hi ...,\", "
                                 "\"Mr\") or before a capitalised surname. Rebuilt by benchmarks/build_pii_names.py.\n",
          "common_words.txt": "# English words: written in lower case in at least a fifth of their mid-sentence uses in "
                              "licence-clean text\n# (Bitext, BANKING77, GoEmotions, SemEval tweets): a capitalised "
                              "one is not taken for an unlisted given name\n# (\"Premiere Pro\"). Rebuilt by "
                              "benchmarks/build_pii_names.py.\n",
          "surnames.txt": "# Surnames: Faker's person providers (MIT licence), the same locales, ASCII-folded. Read only "
                          "next to a given name\n# (\"Taylor Swift\") or after a greeting (\"Hi Tucker\"), never "
                          "alone. Rebuilt by benchmarks/build_pii_names.py.\n"}


def fold(name: str) -> str | None:
    """A name as the lists hold it (:func:`cxlens._pii._fold`, what the detector looks words up with), or ``None``
    when it is shorter than 3 letters or not only letters."""
    text = _fold(name)
    return text if text.isalpha() and len(text) >= 3 else None


def words(path: Path) -> set[str]:
    return {w for line in path.read_text().splitlines() if not line.startswith("#") for w in line.split()}


def common_words() -> set[str]:
    """Words of 3+ letters seen at least 3 times in lower case mid-sentence, in at least a fifth of their mid-sentence
    uses (tweets capitalise words: "Black Friday", "Prime Day")."""
    lower, upper = Counter(), Counter()
    for path, columns, sep in WORD_CORPORA:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f, delimiter=sep) if sep == "\t" else csv.DictReader(f)
            for row in reader:
                for column in columns:
                    try:
                        text = row[column] or ""
                    except (IndexError, KeyError):
                        continue
                    for word in re.findall(r"(?<=[a-z,;:] )[A-Za-z][a-z]{2,}\b", text):
                        (lower if word[0].islower() else upper)[word.lower()] += 1
    return {w for w, n in lower.items() if n >= 3 and 4 * n >= upper[w]}


def main() -> None:
    names = words(OUT / "first_names.txt")
    surnames: set[str] = set()
    for locale in LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ModuleNotFoundError:
            continue
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            values = getattr(provider, attr, None) or ()
            names.update(filter(None, map(fold, values.keys() if isinstance(values, dict) else values)))
        for attr in ("last_names", "last_names_male", "last_names_female"):
            values = getattr(provider, attr, None) or ()
            surnames.update(filter(None, map(fold, values.keys() if isinstance(values, dict) else values)))
    lower = Counter()
    for path, columns, sep in CORPORA:
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f, delimiter=sep) if sep == "\t" else csv.DictReader(f):
                for column in columns:
                    lower.update(re.findall(r"(?<=[a-z,;:] )[a-z]+", row[column] or ""))
    names |= HAND_AMBIGUOUS
    ambiguous = HAND_AMBIGUOUS | {n for n in names if lower[n] >= 2}
    for name, values in (("first_names.txt", names - ambiguous), ("ambiguous_names.txt", ambiguous),
                         ("surnames.txt", surnames), ("common_words.txt", common_words())):
        body = sorted(values)
        lines = [" ".join(body[i:i + 16]) for i in range(0, len(body), 16)]
        (OUT / name).write_text(HEADER[name] + "\n".join(lines) + "\n", encoding="utf-8")
        print(f"{name}: {len(body)} words")


if __name__ == "__main__":
    main()
