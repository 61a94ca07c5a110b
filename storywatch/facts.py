"""Hard facts in a sentence: money, counts and sizes, percentages, dates, and names.

Pure patterns plus a capitalised-phrase heuristic (no model, nothing downloaded). Each fact is a
`Fact(kind, text, normalized)`: `text` is the span as written, `normalized` the key that makes two
wordings of the same fact equal, so "who reported it first" is a GROUP BY on `normalized`.

Kinds and their normal forms:

* ``money`` — a currency and an amount: "$15 billion", "15 billion dollars", "US$15bn" all become
  ``USD 15000000000``; "€2bn" is ``EUR 2000000000``; "£3m" is ``GBP 3000000``.
* ``quantity`` — a number with a unit: "100 billion parameters" is ``100000000000 parameters``;
  the hyphenated compound "70-billion-parameter" is ``70000000000 parameters``, "256,000-token" is
  ``256000 tokens``, "300 million monthly users" is ``300000000 monthly users``. The unit is the
  words after the number up to the first plural-looking word (at most three words, stopping at a
  function word); with no plural among them, the first word alone. Units are written in the
  plural. A number with no unit ("the 70B") is not a fact, nor are spelled-out numbers ("two
  models") or four-digit numbers from 1900 to 2099 without a comma, which are read as years
  ("by 2030 regulators").
* ``percent`` — "8 percent", "8 per cent" and "8%" are ``8%``; "2 percentage points" is ``2 pp``.
* ``date`` — a calendar date: "December 9" and "Dec. 9" are ``--12-09`` (ISO 8601 with the year
  left out), "Dec. 9, 2026" and "9 December 2026" are ``2026-12-09``, "December 2026" is
  ``2026-12``, "the first quarter of 2027" and "Q1 2027" are ``2027-Q1``. Relative dates ("next
  spring", "on Friday") and bare years are skipped.
* ``name`` — an organisation, person or product: a run of capitalised words ("Alexandr Wang",
  "Scale AI", "Signal Daily", "Meta Quest 3", "University of Cambridge"), with possessives
  dropped ("Meta's" is "Meta") and normalised to lower case. Not names: months and weekdays,
  common words that open a sentence ("The", "Under", "Developers"), generic acronyms on their own
  ("AI", "CEO"), nationalities ("Chinese"). A single capitalised word that opens the sentence
  counts only when it is mixed-case ("OpenAI") or capitalised mid-sentence somewhere in
  `context` (the article it came from), since "Meta declined to comment" and "Lawyers declined
  to comment" look alike; with a context, a longer run that opens the sentence also loses a
  first word never capitalised mid-sentence there ("Smaller Avocado models" gives "Avocado").
  Title-case lines (headlines, section heads) yield no names.

Where spans overlap the first kind in this order wins: date, money, percent, name, quantity
("Llama 4 family" is a name, not a quantity).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

MONEY = "money"
QUANTITY = "quantity"
PERCENT = "percent"
DATE = "date"
NAME = "name"
NUMERIC_KINDS = frozenset({MONEY, QUANTITY, PERCENT, DATE})


@dataclass(frozen=True)
class Fact:
    """One hard fact: its kind, the span as written, and its normal form (the join key)."""

    kind: str
    text: str
    normalized: str


# Same-length character folding, so spans found in the folded text index the original.
_FOLD = str.maketrans({"‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "’": "'", "‘": "'",
                       "\u00a0": " ", "\u202f": " ", "\u2009": " "})

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE_WORDS = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_SCALE_SUFFIX = {"k": 10**3, "m": 10**6, "mn": 10**6, "mln": 10**6, "b": 10**9, "bn": 10**9,
                 "t": 10**12, "tn": 10**12, "trn": 10**12}
_SCALE = r"(?:[\s-]*(?P<word>thousand|million|billion|trillion)\b|(?P<suffix>bn|mn|mln|trn|tn|[kmbt])\b)"
_CURRENCY_PREFIX = {"$": "USD", "us$": "USD", "$us": "USD", "usd": "USD", "a$": "AUD", "c$": "CAD",
                    "hk$": "HKD", "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP", "¥": "JPY",
                    "jpy": "JPY", "cny": "CNY", "rmb": "CNY", "inr": "INR", "₹": "INR", "chf": "CHF"}
_CURRENCY_WORD = {"dollar": "USD", "dollars": "USD", "us dollars": "USD", "euro": "EUR", "euros": "EUR",
                  "pound": "GBP", "pounds": "GBP", "pounds sterling": "GBP", "sterling": "GBP", "yen": "JPY",
                  "yuan": "CNY", "renminbi": "CNY", "rupees": "INR", "francs": "CHF"}

# After a currency sign the letter scales may be capitals too ("$70B"); elsewhere "70B" is a model
# name, not a count.
_MONEY_SCALE = (r"(?:[\s-]*(?P<word>thousand|million|billion|trillion)\b"
                r"|(?P<suffix>(?i:bn|mn|mln|trn|tn|[kmbt]))\b)")
_MONEY_PREFIX = re.compile(
    r"(?<![\w$€£¥₹])(?P<cur>US\$|\$US|HK\$|A\$|C\$|[$€£¥₹]|(?:USD|EUR|GBP|JPY|CNY|RMB|INR|CHF)\s?)"
    rf"\s?(?P<num>{_NUM}){_MONEY_SCALE}?",
)
_MONEY_SUFFIX = re.compile(
    rf"(?<![\w.,$€£¥₹-])(?P<num>{_NUM}){_SCALE}?\s+(?P<cur>US dollars|dollars?|euros?|pounds sterling|pounds?"
    r"|sterling|yen|yuan|renminbi|rupees|francs)\b",
    re.I,
)
_PERCENT = re.compile(
    rf"(?<![\w.,-])(?P<num>{_NUM})\s?(?:(?P<pp>percentage points?)|%|per\s?cent\b|pct\b)", re.I
)
_COMPOUND = re.compile(
    rf"(?<![\w.,$€£¥₹-])(?P<num>{_NUM})(?:-(?P<word>thousand|million|billion|trillion))?-(?P<unit>[a-z]+)"
    r"(?![\w-])",
)
_SPACED = re.compile(
    rf"(?<![\w.,$€£¥₹-])(?P<num>{_NUM}){_SCALE}?\s+(?P<rest>[a-z][a-z-]*(?:\s+[a-z][a-z-]*){{0,2}})",
)

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4,
    "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = (r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December"
          r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?")
_DAY = r"(?P<day>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DATES = [
    re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?(?![\d:,]\d|\s?%|\d)"),
    re.compile(rf"\b{_DAY}\s+{_MONTH}(?:,?\s+{_YEAR})?\b"),
    re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b"),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12]\d|3[01])\b"),
]
_QUARTER = re.compile(
    r"\b(?:(?P<ord>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter\s+of\s+|Q(?P<q>[1-4])\s+)(?P<year>(?:19|20)\d\d)\b",
    re.I,
)
_YEARLIKE = re.compile(r"(?:19|20)\d\d")  # "by 2030 regulators", "2030-era": years, not counts
_QUARTERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}

# Words that end a unit ("300 million users *above* which"); a unit never starts with one.
_FUNCTION_WORDS = frozenset(
    """a an the and or but nor of to in on at by for from with without into onto over under above below
    than then that which who whom whose this these those it its is are was were be been being has have
    had do does did will would shall should can could may might must not no so as if per up down out off
    about after before since until while when where across against among around between during through
    toward towards via within more less most least each every all some any both either neither other
    such only also just even still yet ago later earlier apiece each""".split()
)
_ALREADY_PLURAL = frozenset("people staff data media children men women police personnel equipment software "
                            "hardware feet teeth mice".split())

_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_MONTH_NAMES = frozenset(m for m in _MONTHS if len(m) > 3) | {"jan", "feb", "apr", "jun", "jul", "aug",
                                                              "sep", "sept", "oct", "nov", "dec"}
# Capitalised only because they open a sentence or a quote; never names on their own.
_COMMON = frozenset(
    """a an the this that these those it its he she they we i you his her their our my your there here
    but and or so yet however meanwhile still instead also then now today yesterday tomorrow in on at
    as after before while when whenever if although though because since for from with without by to
    of under over into about during until what which who whom whose why how where some many most
    several both each every all no not none one two three four five six seven eight nine ten other
    others another such more less only even just last next first second third earlier later finally
    inside outside within beyond among across despite unlike like according analysts critics
    developers lawyers investors people sources officials executives researchers users companies
    experts observers rivals customers employees startups historically currently separately
    similarly overall update updated editor's note yes okay please thanks""".split()
)
_HONORIFICS = frozenset("mr mrs ms mx dr prof sir dame lord lady".split())
_GENERIC_ACRONYMS = frozenset("ai ceo cto cfo coo api apis gpu gpus cpu llm llms ml vr ar xr tv pc ipo ui ux "
                              "faq pdf usb ok i q".split())
_DEMONYMS = frozenset("""american chinese european british french german japanese korean indian russian
    canadian israeli english western eastern asian african australian italian spanish dutch swiss
    irish scottish welsh taiwanese brazilian mexican""".split())
_CONNECTORS = frozenset({"of", "de", "la", "del", "van", "von", "der", "den", "du", "da", "&"})
# "of" joins two capitalised runs only after one of these ("University of Cambridge", but not
# "Alexandr Wang of Scale AI").
_INSTITUTIONS = frozenset("""university bank department ministry institute school college museum board bureau
    office court house secretary minister commission council church republic kingdom state states
    union academy society association center centre chamber federation league museum foundation
    agency authority hospital city county province duke earl""".split())

_TOKEN = re.compile(r"&|[^\W_][\w]*(?:[-'.&][\w]+)*\.?")
_VERSION = re.compile(r"^\d{1,2}(?:\.\d{1,2})?$")


def extract_facts(sentence: str, context: str | None = None) -> list[Fact]:
    """The sentence's facts in order of appearance, each (kind, normalized) once.

    `context` is the article the sentence comes from; it only decides whether a single
    capitalised word opening the sentence is a name (see the module doc)."""
    return _extract(sentence, context, names=True)


def numeric_facts(sentence: str) -> list[Fact]:
    """Only the money, quantity, percent and date facts (cheaper: no name heuristics).

    Spans that are part of a name ("Llama 4 family") are not excluded here, so a number inside
    a product name may show up as a quantity; novelty uses this only to compare sentences."""
    return _extract(sentence, None, names=False)


def numeric_keys(sentence: str) -> frozenset[str]:
    """``kind:normalized`` of the sentence's numeric facts (what novelty compares)."""
    return frozenset(f"{f.kind}:{f.normalized}" for f in numeric_facts(sentence))


def _extract(sentence: str, context: str | None, names: bool) -> list[Fact]:
    folded = sentence.translate(_FOLD)
    found: list[tuple[int, int, Fact]] = []
    taken: list[tuple[int, int]] = []

    def claim(start: int, end: int, kind: str, normalized: str) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        found.append((start, end, Fact(kind, sentence[start:end].strip(), normalized)))

    if any(c.isdigit() for c in folded):
        for start, end, normalized in _dates(folded):
            claim(start, end, DATE, normalized)
        for start, end, normalized in _money(folded):
            claim(start, end, MONEY, normalized)
        for m in _PERCENT.finditer(folded):
            number = _number(m.group("num"))
            if number is not None:
                claim(m.start(), m.end(), PERCENT, f"{number} pp" if m.group("pp") else f"{number}%")
    if names:
        for start, end, normalized in _names(folded, taken, _capitalised(context) if context else frozenset()):
            claim(start, end, NAME, normalized)
    if any(c.isdigit() for c in folded):
        for start, end, normalized in _quantities(folded):
            claim(start, end, QUANTITY, normalized)

    out: list[Fact] = []
    seen: set[tuple[str, str]] = set()
    for _, _, fact in sorted(found, key=lambda f: (f[0], f[1])):
        if (fact.kind, fact.normalized) not in seen:
            seen.add((fact.kind, fact.normalized))
            out.append(fact)
    return out


# --- numbers ----------------------------------------------------------------------------------


def _number(text: str, scale: int = 1) -> str | None:
    try:
        value = Decimal(text.replace(",", "")) * scale
    except InvalidOperation:
        return None
    value = value.normalize()
    return format(value, "f") if value == value.to_integral() else format(value, "f").rstrip("0")


def _scale(m: re.Match[str]) -> int:
    if m.group("word"):
        return _SCALE_WORDS[m.group("word").lower()]
    if m.group("suffix"):
        return _SCALE_SUFFIX[m.group("suffix").lower()]
    return 1


def _money(folded: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _MONEY_PREFIX.finditer(folded):
        number = _number(m.group("num"), _scale(m))
        if number is not None:
            out.append((m.start(), m.end(), f"{_CURRENCY_PREFIX[m.group('cur').strip().lower()]} {number}"))
    for m in _MONEY_SUFFIX.finditer(folded):
        number = _number(m.group("num"), _scale(m))
        if number is not None:
            out.append((m.start(), m.end(), f"{_CURRENCY_WORD[m.group('cur').lower()]} {number}"))
    return out


def _plural(word: str) -> str:
    if word in _ALREADY_PLURAL or (word.endswith("s") and not word.endswith(("ss", "us", "is"))):
        return word
    if word == "person":
        return "people"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("ch", "sh", "x", "z", "ss", "us", "is")):
        return word + "es"
    return word + "s"


def _looks_plural(word: str) -> bool:
    return word in _ALREADY_PLURAL or (word.endswith("s") and not word.endswith(("ss", "us", "is")))


def _quantities(folded: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _COMPOUND.finditer(folded):
        unit = m.group("unit")
        scale = _SCALE_WORDS[m.group("word")] if m.group("word") else 1
        number = _number(m.group("num"), scale)
        if number is None or unit in _FUNCTION_WORDS or unit in _SCALE_WORDS or _YEARLIKE.fullmatch(m.group("num")):
            continue
        out.append((m.start(), m.end(), f"{number} {_plural(unit)}"))
    for m in _SPACED.finditer(folded):
        unit_words: list[str] = []
        for word in m.group("rest").split():
            if word in _FUNCTION_WORDS or word in _SCALE_WORDS or word in ("percent", "pct", "cent"):
                break
            unit_words.append(word)
        if not unit_words:
            continue
        cut = next((i + 1 for i, w in enumerate(unit_words) if _looks_plural(w)), 1)
        unit_words = unit_words[:cut]
        number = _number(m.group("num"), _scale(m))
        if number is None or _YEARLIKE.fullmatch(m.group(0).split()[0]):
            continue  # "by 2030 regulators": a year, not a count
        # the span ends after the last unit word
        end = m.start("rest")
        for word in unit_words:
            end = folded.index(word, end) + len(word)
        unit = " ".join(unit_words[:-1] + [_plural(unit_words[-1])])
        out.append((m.start(), end, f"{number} {unit}"))
    return out


# --- dates ------------------------------------------------------------------------------------


def _dates(folded: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _QUARTER.finditer(folded):
        quarter = int(m.group("q")) if m.group("q") else _QUARTERS[m.group("ord").lower()]
        out.append((m.start(), m.end(), f"{m.group('year')}-Q{quarter}"))
    for pattern in _DATES:
        for m in pattern.finditer(folded):
            groups = m.groupdict()
            month_text = groups.get("month")
            month = int(month_text) if month_text.isdigit() else _MONTHS[month_text.lower()]
            year, day = groups.get("year"), groups.get("day")
            if day is None:
                out.append((m.start(), m.end(), f"{year}-{month:02d}"))
            elif year:
                out.append((m.start(), m.end(), f"{year}-{month:02d}-{int(day):02d}"))
            else:
                out.append((m.start(), m.end(), f"--{month:02d}-{int(day):02d}"))
    # longest first, so "Dec. 9, 2026" wins over "Dec. 9" in claim()
    return sorted(out, key=lambda d: (-(d[1] - d[0]), d[0]))


# --- names ------------------------------------------------------------------------------------


_OPENER_GAP = re.compile(r"[.!?:;\"“(\[]\W*$")


def _word(raw: str) -> tuple[str, bool]:
    """A token as a candidate name word, and whether it ends the run (possessive or "Meta-owned")."""
    word = raw[:-1] if raw.endswith(".") and not re.fullmatch(r"(?:[^\W\d_]\.)+", raw) else raw
    bare = _strip_possessive(word)
    ends = bare != word
    parts = bare.split("-")
    if len(parts) > 1 and not all(_is_capitalised(p) for p in parts if p):
        return parts[0], True  # "Meta-owned" -> "Meta"; "open-source" -> "open"
    return bare, ends


def _opens(previous: str, gap: str) -> bool:
    """Whether a word opens a sentence, a quote or a clause after a colon, given the token before
    it (empty at the start) and the text in between. The tokenizer keeps a final period on its
    token, so "way. Meta" opens a sentence but "Mr. Wang", "Alexandr N. Wang" and "U.S. Steel" do not."""
    if not previous or _OPENER_GAP.search(gap):
        return True
    if previous.endswith(".") and not gap.strip():
        stem = previous[:-1].lower()
        return not (stem in _HONORIFICS or len(stem) == 1 or "." in stem)
    return False


@lru_cache(maxsize=64)
def _capitalised(context: str) -> frozenset[str]:
    """Words written capitalised somewhere other than where a sentence or quote opens, outside
    title-case lines."""
    out = set()
    for line in context.translate(_FOLD).splitlines():
        tokens = list(_TOKEN.finditer(line))
        if _title_case_line([t.group() for t in tokens]):
            continue
        prev_end, previous = 0, ""
        for m in tokens:
            gap = line[prev_end : m.start()]
            opens = _opens(previous, gap)
            prev_end, previous = m.end(), m.group()
            word, _ = _word(m.group())
            if not opens and _is_capitalised(word):
                out.add(word.lower())
    return frozenset(out)


def _strip_possessive(token: str) -> str:
    for suffix in ("'s", "'"):
        if token.endswith(suffix) and len(token) > len(suffix):
            return token[: -len(suffix)]
    return token


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() or (word[:1].islower() and any(c.isupper() for c in word[1:]))


def _mixed_case(word: str) -> bool:
    """OpenAI, WhatsApp, SiliconANGLE, iPhone, IBM: capitals beyond the first letter."""
    return sum(c.isupper() for c in word) >= 2 or (word[:1].islower() and any(c.isupper() for c in word))


def _title_case_line(tokens: list[str]) -> bool:
    """A headline or section head in title case: (almost) no lower-case word but function words."""
    alpha = [t for t in tokens if t[:1].isalpha() and t.lower() not in _FUNCTION_WORDS]
    lower = sum(not _is_capitalised(t) for t in alpha)
    return len(alpha) >= 4 and lower <= 0.1 * len(alpha)


@dataclass
class _Run:
    words: list[tuple[int, int, str]]
    opens_sentence: bool


def _names(folded: str, taken: list[tuple[int, int]], capitalised: frozenset[str]) -> list[tuple[int, int, str]]:
    tokens = list(_TOKEN.finditer(folded))
    if _title_case_line([t.group() for t in tokens]):
        return []
    runs: list[_Run] = []
    current: _Run | None = None
    pending: list[tuple[int, int, str]] = []  # connectors waiting for the next capitalised word

    def close() -> None:
        nonlocal current
        if current is not None and current.words:
            runs.append(current)
        current = None
        pending.clear()

    prev_end, previous = 0, ""
    for m in tokens:
        gap = folded[prev_end : m.start()]
        opens = _opens(previous, gap)
        if gap.strip() or (opens and previous):
            close()  # punctuation between two words ends a run
        prev_end, previous = m.end(), m.group()
        word, ends_run = _word(m.group())
        start, end = m.start(), m.start() + len(word)
        lower = word.lower()
        if any(start < e and s < end for s, e in taken):
            close()
        elif word == "&" or (lower in _CONNECTORS and not _is_capitalised(word)):
            if current is not None and (word == "&" or current.words[-1][2].lower() in _INSTITUTIONS):
                pending.append((start, end, word))
            else:
                close()
        elif _VERSION.match(word):
            if current is not None and not pending:
                current.words.append((start, end, word))  # "Llama 4", "Apache 2.0"
            close()
        elif (not _is_capitalised(word) or not word[:1].isalpha() and not _mixed_case(word)
              or lower in _MONTH_NAMES or lower in _WEEKDAYS or lower in _HONORIFICS
              or (lower in _COMMON and (opens or current is None))):
            close()
        else:
            if opens:
                close()
            if current is None:
                current = _Run([], opens)
            current.words.extend(pending)
            pending.clear()
            current.words.append((start, end, word))
            if ends_run:
                close()
    close()

    out = []
    for run in runs:
        words = [w for _, _, w in run.words]
        if run.opens_sentence and capitalised and len(words) > 1:
            first = words[0]
            if not _mixed_case(first) and first.lower() not in capitalised:
                run = _Run(run.words[1:], True)  # "Smaller Avocado" -> "Avocado"
                words = words[1:]
        if len(words) == 1:
            w, lw = words[0], words[0].lower()
            if lw in _GENERIC_ACRONYMS or lw in _DEMONYMS or _VERSION.match(w):
                continue
            if run.opens_sentence and not _mixed_case(w) and lw not in capitalised:
                continue
        start, end = run.words[0][0], run.words[-1][1]
        out.append((start, end, re.sub(r"\s+", " ", folded[start:end]).lower()))
    return out
