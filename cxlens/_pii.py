"""Finding personal data in text: one detector per type, validated where the data has a checksum.

Every detector is a plain function ``text -> [(start, end, type)]``; :func:`find_pii` runs them in priority
order and keeps the first of overlapping spans. Validation keeps numbers that are not personal data:

* ``CARD`` - 13 to 19 digits (spaces or dashes allowed) that pass the Luhn check.
* ``IBAN`` - country code, check digits and 11-30 letters/digits whose ISO 13616 mod-97 remainder is 1.
* ``SSN`` - ``AAA-GG-SSSS`` (dashes or spaces; never 000/666/9xx, 00, 0000), or 9 digits after "SSN".
* ``PHONE`` - an international ``+CC ...`` number, a North American ``(555) 123-4567`` / ``555-123-4567``, or
  7-15 digits in groups after a phone word (call, phone, tel, mobile, WhatsApp ...). Digits after an order,
  ticket, case, invoice, tracking, version or error word are not a phone: order numbers stay.
* ``IP`` - IPv4 (each part 0-255; not after "version"/"build"/"v") and IPv6.
* ``ADDRESS`` - a house number, capitalised street words and a street suffix (``221B Baker Street``,
  ``1600 Pennsylvania Ave NW, Washington, DC 20500``), a PO box, or a UK postcode.
* ``PERSON`` - a heuristic, not spaCy NER (``en_core_web_sm`` is published on GitHub, not on PyPI, save unofficial
  re-uploads cxlens does not install):
  a given name from a list (``cxlens/data/pii``), capitalised, with the following capitalised surname;
  a name after a title (Mr, Ms, Dr) or after a cue (``my name is``, ``Hi``, ``Thanks,``, ``spoke to``); names
  that are also words (Will, May, Mark) count only after a cue or before a surname.
* ``EMAIL`` (also ``name [at] host [dot] com``) and ``HANDLE`` (``@name``, as on Twitter).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

__all__ = ["PII_TYPES", "find_pii", "iban_valid", "luhn_valid"]

#: every type, in priority order (an earlier type wins an overlap)
PII_TYPES = ("EMAIL", "IBAN", "CARD", "SSN", "IP", "PHONE", "ADDRESS", "PERSON", "HANDLE")

Span = tuple[int, int, str]

# bounded repeats (a local part has at most 64 characters, a label 63): linear time on long runs of digits and dots
EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,8}\.[A-Za-z]{2,24}(?![\w-])")
EMAIL_SPELLED = re.compile(r"(?i)(?<![\w.+-])[\w.+-]{1,64}\s{0,3}(?:\[at\]|\(at\)|\s+at\s+)\s{0,3}[\w-]{1,63}\s{0,3}"
                           r"(?:\[dot\]|\(dot\)|\s+dot\s+)\s{0,3}"
                           r"(?:com|net|org|edu|gov|co|io|de|fr|uk|in)\b")
HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{1,15}(?![\w@])")
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])")
SSN_CUED = re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?| #)?)\W{0,4}(\d{9})(?!\d)")
IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                  r"(?![\d]|\.\d)")
IPV6 = re.compile(r"(?i)(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}:)"
                  r"{0,5}[0-9a-f]{1,4}|::(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})(?![\w:])")
VERSION_CUE = re.compile(r"(?i)\b(?:version|ver\.?|build|firmware|release|update|updated to|beta|v)"
                         r"(?:\s+(?:number|no\.?|#))?(?:\s+(?:is|was))?\s*[:#(]?\s*$")
PHONE = re.compile(r"(?<![\w+#/$£€-])(?<!\d\.)"
                   r"(\+\s?\d(?:[\d ()-]|\.(?=\d)){5,20}\d|\(?\d(?:[\d ()-]|\.(?=\d)){5,20}\d)"
                   r"(?![\w/]|[.,]\d|-\d)")  # a dot only between digits: "v1.2. 555-0100" is two things
NANP = re.compile(r"^(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}$")
PHONE_CUE = re.compile(r"(?i)\b(?:phone|call(?:ed)?|tel|telephone|mobile|cell|whatsapp|sms|text me|fax|ph|mob|"
                       r"contact(?: me)?(?: at| on)?|reach me(?: at| on)?|number is|no\.?)"
                       r"(?:\s+(?:me|us|my|our|mobile|cell|phone|number|no\.?|#|is|at|on)){0,3}\W{0,12}$")
#: a phone word within 40 characters: a bare ten-digit North American number then counts ("call us back ... 7403607771")
PHONE_WORD = re.compile(r"(?i)\b(?:call(?:ed|ing)?|phone|mobile|cell|dial(?:ed)?|ring|reach (?:me|us)|text me|tel)\b")
BARE_NANP = re.compile(r"^1?[2-9]\d{2}[2-9]\d{6}$")
#: words that make the number after them an id or a code, not a phone (both cue lists below start from them)
ID_WORDS = (r"order|ticket|case|ref|reference|invoice|tracking|track|account|acct|id|serial|error|code|confirmation|"
            r"booking|claim|reservation|file")
#: words near a bare number that make it something else: "refund 2345678901", "tracking shows 9405511899",
#: "8881234567 reward points"
NOT_PHONE_NEAR = re.compile(r"(?i)\b(?:" + ID_WORDS + r"|refund|shows|inv|points?|member|customer|total|balance|"
                            r"amount)\b\W*(?:\w+\W+)?$")
NOT_PHONE_AFTER = re.compile(r"(?i)\W*(?:(?:as|is)\s+(?:the|my|your|an?)\s+)?(?:points?|pts|miles|reward|dollars|usd|"
                             r"eur|gbp|bytes|kb|mb|gb|order|reference|ref|ticket|case|invoice)\b")
TOLL_FREE = re.compile(r"^(?:\+?1[ .-]?)?\(?8(?:00|33|44|55|66|77|88)\)?[ .-]?\d{3}[ .-]?\d{4}$")
#: a vanity toll-free number: 1-800-FLY-DELTA, 1800IFlySWA
VANITY = re.compile(r"(?<![\w-])(?:1[ -]?)?8(?:00|33|44|55|66|77|88)[ -]?"
                    r"((?=[A-Z0-9-]*[A-Z])[A-Za-z0-9][A-Za-z0-9-]{5,11})"
                    r"(?![\w-])")
NOT_PHONE_CUE = re.compile(r"(?i)(?:" + ID_WORDS + r"|i\.d\.?|sku|model|version|build|receipt|transaction|policy|"
                           r"imei|pnr|flight|item|part|product|tag|bag|baggage|luggage|seat|gate|locator)"
                           r"\W{0,6}(?:numbers?|nos?\.?|num|#|ids?)?(?:\W+(?:is|was))?\W{0,6}$")
LIST_TAIL = re.compile(r"(?:\d[\d ()./-]*\d\s*(?:,|\band\b|&)\s*)+$")
DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
STREET_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
                 r"Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq|Trail|Crescent|Close|Row|Alley|Gardens)")
ADDRESS = re.compile(
    r"\b\d{1,6}[A-Za-z]?\s+(?:(?:N|S|E|W|North|South|East|West)\.?\s+)?(?:(?:\d+(?:st|nd|rd|th)|[A-Z][a-z]+)\.?\s+)"
    r"{1,4}" + STREET_SUFFIX + r"\b\.?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|#)\.?\s*[\w-]+)?"
    r"(?:,\s*[A-Z][a-zA-Z]+(?:\s[A-Z][a-zA-Z]+){0,2})?(?:,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)?")
PO_BOX = re.compile(r"(?i)\bP\.?\s?O\.?\s+Box\s+\d+\b")
UK_POSTCODE = re.compile(r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?)\s\d[ABD-HJLNP-UW-Z]{2}\b")
US_CITY_ZIP = re.compile(r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,\s(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|"
                         r"LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|"
                         r"WA|WV|WI|WY|DC)\s\d{5}(?:-\d{4})?\b")
NAME = r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?"
TITLE_CUE = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)\.?\s+(" + NAME + r"(?:\s+" + NAME + r")?)")
STRONG_CUE = re.compile(r"(?i:\b(?:my name is|my name's|name's|call me|ask for|asked for|spoke (?:to|with)|"
                        r"speak (?:to|with)|talked (?:to|with)|chatted with|signed|agent|representative|rep|advisor|"
                        r"adviser|colleague|manager|supervisor|named|called|from|regards|sincerely|cheers|thanks|"
                        r"thank you|thx|ty|best|hi|hello|hey|dear|morning|afternoon|evening|i'?m|i am|this is|"
                        r"it'?s|im)\b[,:]?\s+)([A-Za-z][a-z]+(?:['-][A-Za-z]?[a-z]+)?)(?:\s+(" + NAME + r"))?")
#: two capitalised words, overlapping matches ("Watching Taylor Swift" tries "Watching Taylor" and "Taylor Swift")
FULL_NAME = re.compile(r"(?<![@\w])(?=(" + NAME + r")[ \t]+(" + NAME + r")\b)")
WORD = re.compile(r"(?<![@\w])" + NAME + r"\b")
#: words of letters in any script ("Zoë", "Yılmaz"), looked up in the ASCII-folded lists by :func:`_fold`
WORDS = re.compile(r"[^\W\d_]+")
#: a greeting, then a capitalised word and punctuation: a name even when it is not listed ("Hi Mathew,")
GREETING = re.compile(r"(?i:\b(?:hi|hello|hey|dear|morning|afternoon|evening|thanks|thank you|regards|cheers))"
                      r",?[ \t]+(" + NAME + r")(?:[ \t]+(" + NAME + r"))?(?=[ \t]*(?:[,.!?:;]|$|\n))")
#: a closing line (regards, thanks, cheers ...) and then a line of one to three capitalised words: a signature
SIGNATURE = re.compile(r"(?im:^[ \t]*(?:kind |best |warm )?(?:regards|respectfully|sincerely|thanks|thank you|cheers|"
                       r"best|yours truly|yours)[ \t]*[,.!]?[ \t]*\n[ \t]*)(" + NAME + r"(?:[ \t]+" + NAME + r"){0,2})"
                       r"[ \t]*$")
#: an agent's signature on social media: ``^Kartik``, ``- Sarah`` at the end (``^SJ`` initials are not names)
SIGNED = re.compile(r"(?:\^|(?<=\s)[-\u2013\u2014~])[ \t]?([A-Z][a-z]{2,}(?:[ \t]+[A-Z][a-z]+)?)[ \t]*$")
#: words that open a place name ("San Jose", "Lake Charles", "Puerto Rico", "St. Louis"); none is a listed given
#: name or surname, except North and West (kept from the first list): "Costa", "Rio", "Monte" open names too
PLACE_PREFIX_WORDS = (r"(?:San|Santa|Santo|St|Saint|Ste|Sainte|Mt|Ft|Los|Las|Port|Fort|Mount|Lake|New|North|South|East|"
                      r"West|Puerto|Punta|Playa|Bahia|Mont|Cape|Grand)")
#: a place prefix right before a position (a whole word: "DaCosta John" is no place)
PLACE_PREFIX = re.compile(r"(?<![\w.])" + PLACE_PREFIX_WORDS + r"(?:\.[ \t]*|[ \t]+)$")
#: a span that opens with a place prefix: "Santa Clara", "Puerto Vallarta", "Mt. Vernon" are places
PLACE_OPENING = re.compile(PLACE_PREFIX_WORDS + r"(?:\.[ \t]*|[ \t]+)\S")
#: a capitalised word and a space ending the text before a position: "Emily " in "Emily St. John"
NAME_BEFORE = re.compile(r"(?<!\w)[A-Z][\w'-]*[ \t]+$")
#: capitalised words after a cue that are not names (greetings to a team, brands, fillers, street words)
NOT_NAMES = frozenset("""
street road avenue lane drive court way place boulevard square terrace close row park station airport store
iban swift bic visa amex mastercard paypal venmo zelle ssn pin otp sim imei vpn wifi ios
field airport international intl route airways airlines airline air terminal center centre city county
university college hospital school bank mall hotel club church river valley beach bay island
america washington houston dallas denver logan boston chicago vegas orlando atlanta seattle miami detroit
newark phoenix portland london berlin madrid dublin toronto vancouver sydney melbourne virgin
is are was were be been being do does did have has had can could would should might must shall i he she they
them his her its our what when where which who why how if then than but or as any some every each other
""".split()) | frozenset("""
team there all everyone everybody support guys folks again so sir madam friend friends customer customers
service care help the a an and for your you me us we it this that not very so much just still really please
sorry here now today tomorrow yes no ok okay good great bad new old in on at to of with from by my our their
alexa siri cortana echo google apple amazon microsoft youtube spotify twitter facebook instagram netflix
uber lyft paypal xbox playstation nintendo samsung android iphone ipad windows mac mojang minecraft yahoo
gmail outlook hulu disney verizon comcast xfinity att tmobile sprint delta united american southwest
monday tuesday wednesday thursday friday saturday sunday january february march july september october
november december happy sad fine well sure glad back going trying having getting unable able
""".split())
PLACE_WORDS = frozenset("field airport international intl route airways airlines airline terminal center centre "
                        "city county university college hospital school bank mall hotel club church river valley "
                        "beach bay island street road avenue lane drive park station office".split())
#: given names that are also US states: a place after "City, " ("Herndon, Virginia")
STATE_NAMES = frozenset("virginia georgia carolina indiana montana dakota florida nevada alabama".split())
#: two words in capitals, overlapping matches ("BY SELENA GOMEZ" tries "BY SELENA" and "SELENA GOMEZ")
CAPS_PAIR = re.compile(r"(?<![@\w])(?=([A-Z]{2,})[ \t]+([A-Z]{2,})(?![\w]))")
#: cues after which a name written in lower case is still a name ("hi im joe")
LOWER_CASE_CUES = ("my name is", "my name's", "name's", "call me", "i'm", "im", "i am")
#: weak cues: the word after them must be a listed given name ("Hi Spotify" is not a person); after the other
#: cues (my name is, spoke with, ask for, Mr ...) any capitalised word that is not a stop word counts
NAME_ONLY_CUES = ("hi", "hello", "hey", "dear", "morning", "afternoon", "evening", "thanks", "thank you", "thx", "ty",
                  "best", "cheers", "regards", "sincerely", "i'm", "im", "i am", "this is", "it's", "its", "from",
                  "called", "agent", "rep", "manager")
#: greetings, after which a listed surname is a name too ("Hi Tucker"); never alone (surnames are often words)
GREETING_CUES = ("hi", "hello", "hey", "dear")


@cache
def _word_list(name: str) -> frozenset[str]:
    """The words of ``cxlens/data/pii/<name>`` (lines starting with ``#`` are comments)."""
    text = resources.files("cxlens").joinpath("data", "pii", name).read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


@cache
def _names() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(given names, given names that are also English words, surnames), lower case."""
    return (_word_list("first_names.txt") - NOT_NAMES, _word_list("ambiguous_names.txt") - NOT_NAMES,
            _word_list("surnames.txt"))


def _common_words() -> frozenset[str]:
    """English words that are often written in lower case (``common_words.txt``): not an unlisted given name."""
    return _word_list("common_words.txt")


def luhn_valid(digits: str) -> bool:
    """The Luhn check of a card number (digits only)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    """ISO 13616: the IBAN's letters as numbers (A=10 ... Z=35), country and check digits moved to the end,
    mod 97 is 1."""
    compact = re.sub(r"[ -]", "", text).upper()
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def _emails(text: str) -> Iterable[Span]:
    for m in EMAIL.finditer(text):
        yield m.start(), m.end(), "EMAIL"
    for m in EMAIL_SPELLED.finditer(text):
        yield m.start(), m.end(), "EMAIL"


#: how card numbers are printed: groups of 4 (Visa, Mastercard, Discover; 19 digits as 4-4-4-4-3), 4-6-5 (Amex),
#: 4-6-4 (Diners), or no separators; anything else (an Amazon order 112-1234567-1234567) is not a card
CARD_GROUPS = {(4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1), (4, 4, 4, 3), (4, 4, 4, 2)}


def _cards(text: str) -> Iterable[Span]:
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        groups = tuple(len(g) for g in re.split(r"[ -]", m.group()))
        if len(groups) > 1 and groups not in CARD_GROUPS:
            continue
        if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits):
            yield m.start(), m.end(), "CARD"


def _ibans(text: str) -> Iterable[Span]:
    for m in IBAN.finditer(text):
        value = m.group().rstrip(" -")
        while len(value) >= 15:  # a trailing group may be the next word (``... 7654 32 AB``): shorten and retry
            if iban_valid(value):
                yield m.start(), m.start() + len(value), "IBAN"
                break
            cut = max(value.rfind(" "), value.rfind("-"))
            if cut < 0:
                break
            value = value[:cut]


def _ssns(text: str) -> Iterable[Span]:
    for m in SSN.finditer(text):
        if not PHONE_CUE.search(text[max(0, m.start() - 30):m.start()]):
            yield m.start(), m.end(), "SSN"
    for m in SSN_CUED.finditer(text):
        yield m.start(1), m.end(1), "SSN"


def _ips(text: str) -> Iterable[Span]:
    for m in IPV4.finditer(text):
        if not VERSION_CUE.search(text[max(0, m.start() - 20):m.start()]):
            yield m.start(), m.end(), "IP"
    for m in IPV6.finditer(text):
        if re.search(r"[a-fA-F]|::", m.group()) and m.group().count(":") >= 2:
            yield m.start(), m.end(), "IP"


def _phones(text: str) -> Iterable[Span]:
    for m in PHONE.finditer(text):
        value = m.group(1).strip()
        start = m.start(1)
        if value.startswith("(") and ")" not in value:
            value, start = value[1:], start + 1
        value = value.rstrip(").-( ")
        extension = re.match(r"(.*\d)\(\d{1,3}$", value)  # "610-362-7498(99) VM full": the line ends at 7498
        if extension and NANP.match(extension.group(1)):
            value = extension.group(1)
        digits = re.sub(r"\D", "", value)
        if not 7 <= len(digits) <= 15 or DATE_LIKE.match(value) or re.fullmatch(r"\d{1,2}[:.]\d{2}", value):
            continue
        before = text[max(0, start - 80):start]
        before = LIST_TAIL.sub("", before)  # "tag numbers 0016 964012, 0016 964077": the cue covers the list
        if NOT_PHONE_CUE.search(before) and not re.search(r"(?i)(phone|mobile|cell|tel)\W*(number|no\.?|#)?\W*$",
                                                           before):
            continue
        grouped = NANP.match(value) is not None
        international = value.startswith("+") and len(digits) >= 8
        cued = PHONE_CUE.search(before) is not None
        if "." in value and not (grouped or international) \
                and (not cued or re.search(r"(?:^|\.)\d(?:\.|$)", value)):  # versions, builds: 10.0.15252.0
            continue
        trunk = re.fullmatch(r"0\d{1,4}[ -]\d{3,4}[ -]?\d{3,4}", value) is not None
        if grouped or cued or international or trunk:
            yield start, start + len(value), "PHONE"
        elif _uncued_phone(text, start, start + len(value), value, digits):
            yield start, start + len(value), "PHONE"
    for m in VANITY.finditer(text):
        tail = m.group(1).replace("-", "")
        before = text[max(0, m.start() - 40):m.start()]
        if 7 <= len(tail) <= 10 and sum(c.isalpha() for c in tail) >= 5 and not _not_a_phone(before, "") \
                and not VERSION_CUE.search(before):
            yield m.start(), m.end(), "PHONE"


def _not_a_phone(before: str, after: str) -> bool:
    """A word right before or after the number that makes it an id, an amount or a code, not a phone."""
    return (NOT_PHONE_NEAR.search(before[-30:]) is not None or NOT_PHONE_CUE.search(before) is not None
            or NOT_PHONE_AFTER.match(after) is not None)


def _uncued_phone(text: str, start: int, end: int, value: str, digits: str) -> bool:
    """Numbers written with no phone word right before them that are phones all the same: a toll-free number
    (1-800 ...), an international prefix with a separator (``0011 800-55558000``), or a North American number
    with a phone word nearby (``please call us back ... 7403607771``); none after an id, amount or code word."""
    if _not_a_phone(text[max(0, start - 80):start], text[end:end + 20]):
        return False
    if TOLL_FREE.match(value):
        return True
    if re.match(r"(?:00|011)[ -]?[1-9]", value) and re.search(r"[ -]", value) and 10 <= len(digits) <= 15:
        return True
    near = text[max(0, start - 40):min(len(text), end + 40)]
    return BARE_NANP.match(value) is not None and PHONE_WORD.search(near) is not None


def _addresses(text: str) -> Iterable[Span]:
    for pattern in (ADDRESS, PO_BOX, UK_POSTCODE, US_CITY_ZIP):
        for m in pattern.finditer(text):
            yield m.start(), m.end(), "ADDRESS"


def _persons(text: str) -> Iterable[Span]:
    names, ambiguous, surnames = _names()
    for m in TITLE_CUE.finditer(text):
        low = m.group(1).split()[0].lower()
        if low in _common_words() and low not in names and low not in ambiguous and low not in surnames:
            continue  # "Mr. Robot", "Mr. Big", "Dr. Pepper": a title before a word, not a name ("Mr. Brown" stays)
        yield m.start(1), m.end(1), "PERSON"
    pos = 0
    while (m := STRONG_CUE.search(text, pos)) is not None:
        pos = m.start(1)  # the word after a cue may itself be a cue: "hi im joe"
        word = m.group(1)
        low = word.lower()
        cue = text[m.start():m.start(1)].strip(" ,:").lower()
        if low in NOT_NAMES or (low not in names and (cue == "from" or _place_follows(text, m.end(1)))):
            continue  # "from Paris", "called Paris office": places (a listed name stays: "Karen office manager")
        listed = low in names or low in ambiguous or (cue in GREETING_CUES and low in surnames)  # "Hi Tucker"
        if not listed and (cue in NAME_ONLY_CUES or not word[0].isupper()):
            continue
        if not word[0].isupper() and cue not in LOWER_CASE_CUES:  # "this is odd" is not Odd
            continue
        end = m.end(2) if m.group(2) and m.group(2).lower() not in NOT_NAMES else m.end(1)
        yield m.start(1), end, "PERSON"
    for m in GREETING.finditer(text):
        if m.group(1).lower() not in NOT_NAMES:
            end = m.end(2) if m.group(2) and m.group(2).lower() not in NOT_NAMES else m.end(1)
            yield m.start(1), end, "PERSON"
    for pattern in (SIGNATURE, SIGNED):
        for m in pattern.finditer(text):
            first = m.group(1).split()[0].lower()
            caret = pattern is SIGNED and text[:m.start(1)].rstrip().endswith("^")
            # "^Kartik" is a signature; "- More Bandwidth" may be a list item: a listed name only
            if first not in NOT_NAMES and (pattern is SIGNATURE or caret or first in names or first in ambiguous):
                yield m.start(1), m.end(1), "PERSON"
    for m in FULL_NAME.finditer(text):
        first, last = m.group(1).lower(), m.group(2).lower()
        start, end = m.start(1), m.end(2)
        if _in_place_name(text, start, end) or _place_follows(text, end):
            continue
        if (first in names or first in ambiguous) and (last not in NOT_NAMES and last not in ambiguous
                                                        and (last not in names or first in names)
                                                        or last in surnames and last not in PLACE_WORDS):
            yield start, end, "PERSON"  # a listed surname after a given name: "Taylor Swift", "Jack Black"
        elif last in surnames and _unlisted_name(first) and _unlisted_name(last) and last not in PLACE_WORDS:
            yield start, end, "PERSON"  # a word that is no English word before a listed surname: "Alvina Lam"
    for m in WORD.finditer(text):
        low = m.group().lower()
        if low in names and not _after_place_prefix(text, m.start()) \
                and not _place_follows(text, m.end()) \
                and not _state_after_city(text, m.start(), m.end(), low):
            yield m.start(), m.end(), "PERSON"
    for m in CAPS_PAIR.finditer(text):  # a full name in capitals: "BY SELENA GOMEZ" (not "JACKSON MS")
        last = m.group(2).lower()
        if m.group(1).lower() in names and last not in NOT_NAMES and last not in ambiguous \
                and len(last) > 2 and last not in PLACE_WORDS:
            yield m.start(1), m.end(2), "PERSON"


def _unlisted_name(low: str) -> bool:
    """A capitalised word that may be a name nobody listed: not a common English word, a brand or a stop word."""
    return len(low) >= 3 and low not in _not_names() and low not in _common_words()


def tagged_name_ok(span: str) -> bool:
    """Whether a span the name tagger called a person is kept: it holds a listed given name or a listed surname
    that is no English word, or starts with a given name that is also a word and goes on capitalised, or every word
    of it is capitalised (``Alvina``, not ``CCTV``) and neither an English
    word, a brand, a place nor a place word (the tagger alone also tags ``Battery``, ``Nashville``, ``Adobe``)."""
    words = WORDS.findall(span)
    lows = [_fold(w) for w in words]
    excluded = _not_names()
    if not words or any(w in excluded or w in PLACE_WORDS for w in lows):
        return False
    names, ambiguous, surnames = _names()
    common = _common_words()
    if any(w in names or (w in surnames and w not in common) for w in lows):
        return True
    if len(words) > 1 and lows[0] in ambiguous and words[-1][0].isupper():
        return True  # a given name that is also a word, before another capitalised one: "Justin Biebers"
    return all(low not in common and low not in ambiguous and len(word) > 2 and word[0].isupper() and word[1:].islower()
               for low, word in zip(lows, words))


def _after_place_prefix(text: str, start: int) -> re.Match | None:
    """The place prefix right before ``start`` ("Lake " in "Lake Charles"), or ``None``."""
    return PLACE_PREFIX.search(text, max(0, start - 10), start)


def _in_place_name(text: str, start: int, end: int, *, tagged: bool = False) -> bool:
    """A span that is (part of) a place name: after a place prefix ("Puerto Rico", "Lake Charles") or opening
    with one ("Santa Clara", "Grand Rapids"). ``tagged``: a span of the name tagger, for which a prefix after a
    capitalised word is part of a name ("Emily St. John")."""
    before = _after_place_prefix(text, start)
    if before is not None and not (tagged and NAME_BEFORE.search(text, max(0, before.start() - 30), before.start())):
        return True
    return PLACE_OPENING.match(text, start, end) is not None


def _fold(word: str) -> str:
    """A word as the name lists hold it: lower case, accents dropped ("Zoë" -> "zoe", "Yılmaz" -> "ylmaz")."""
    if word.isascii():
        return word.lower()
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()


def may_hold_tagged_name(text: str) -> bool:
    """Whether a span of ``text`` could pass :func:`tagged_name_ok` at all (a word of it would make it pass): texts
    without one are not given to the tagger, which is ten times slower than the rules."""
    names, ambiguous, surnames = _names()
    common, excluded = _common_words(), _not_names()
    for m in WORDS.finditer(text):
        word = m.group()
        low = _fold(word)
        if low in names or (low in surnames and low not in common):
            return True
        if word[0].isupper() and (low in ambiguous or (len(word) > 2 and word[1:].islower() and low not in common
                                                      and low not in excluded)):
            return True
    return False


@cache
def _not_names() -> frozenset[str]:
    """:data:`NOT_NAMES` and the brands, places and demonyms of ``not_names.txt`` (for the tagger's spans)."""
    return NOT_NAMES | _word_list("not_names.txt")


def _state_after_city(text: str, start: int, end: int, low: str) -> bool:
    """``Herndon, Virginia, 20171`` / ``Herndon, Virginia.``: a state after a city, not ``Sure, Virginia will``."""
    if low not in STATE_NAMES or not re.search(r"[A-Z][a-z]+,[ \t]*$", text[max(0, start - 30):start]):
        return False
    return re.match(r",?[ \t]*(?:\d{5}\b|USA?\b|$|[.!?;\n])", text[end:end + 12]) is not None


def _place_follows(text: str, end: int) -> bool:
    """``Logan airport``, ``Love Field``, ``Jackson County``: the next word makes the name a place."""
    if re.match(r",[ \t]*[A-Z]{2}\b(?![a-z])", text[end:end + 6]):  # "Jackson, MS"
        return True
    following = re.match(r"[ \t]+([A-Za-z]+)", text[end:end + 20])
    return following is not None and following.group(1).lower() in PLACE_WORDS


def _handles(text: str) -> Iterable[Span]:
    for m in HANDLE.finditer(text):
        yield m.start(), m.end(), "HANDLE"


DETECTORS = {"EMAIL": _emails, "IBAN": _ibans, "CARD": _cards, "SSN": _ssns, "IP": _ips, "PHONE": _phones,
             "ADDRESS": _addresses, "PERSON": _persons, "HANDLE": _handles}


def find_pii(text: str, *, types: Iterable[str] = PII_TYPES, tagged: Iterable[tuple[int, int]] = ()) -> list[Span]:
    """The personal data in ``text``: ``(start, end, type)`` spans, sorted, not overlapping (an earlier type in
    :data:`PII_TYPES` wins an overlap, then the longer span).

    ``tagged``: spans the name tagger (:mod:`cxlens._name_tagger`) called a person; those :func:`tagged_name_ok`
    accepts are names too, next to the rules' own."""
    if not text:
        return []
    wanted = [t for t in PII_TYPES if t in set(types)]
    found: list[tuple[int, int, int, str]] = []
    for rank, kind in enumerate(wanted):
        for start, end, label in DETECTORS[kind](text):
            if end > start:
                found.append((rank, start, end, label))
        if kind == "PERSON":
            found += [(rank, start, end, "PERSON") for start, end in tagged if tagged_name_ok(text[start:end])
                      and not _in_place_name(text, start, end, tagged=True)]
    found.sort(key=lambda s: (s[0], -(s[2] - s[1]), s[1]))
    taken: list[Span] = []
    for _, start, end, label in found:
        clash = [i for i, (s, e, _) in enumerate(taken) if start < e and end > s]
        if not clash:
            taken.append((start, end, label))
        elif all(taken[i][2] == label for i in clash):  # the same type overlapping: one span over both
            merged = (min([start] + [taken[i][0] for i in clash]), max([end] + [taken[i][1] for i in clash]), label)
            if all(merged[1] <= s or merged[0] >= e for j, (s, e, _) in enumerate(taken) if j not in clash):
                taken = [t for i, t in enumerate(taken) if i not in clash] + [merged]
    return sorted(taken)
