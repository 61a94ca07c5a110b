"""Article text to sentences: the unit that novelty, facts and version diffs work on.

Pure and regex-based (no model to download). A paragraph is one non-empty line of the extracted
text (trafilatura writes one paragraph a line); a hard-wrapped line that ends mid-sentence is
joined to the next line when that one starts in lower case. Page chrome goes first
(`text.strip_chrome`), then list bullets, then each paragraph is cut at sentence ends.

A sentence ends at ``.``, ``!``, ``?`` or an ellipsis, plus any closing quotes or brackets, when
whitespace and then a capital letter, a digit or an opening quote follow. A period does not end a
sentence after:

* a title ("Mr.", "Dr.", "Gov.", "Sen.", ...): never;
* a single capital initial ("Alexandr N. Wang"): never;
* another abbreviation ("Dec. 9", "Inc.", "etc.") or a dotted acronym ("U.S.", "e.g."): only when
  the next word is a common sentence opener ("The", "It", "But", ...), since "the U.S. Federal
  Trade Commission" goes on and "in the U.S. The company" does not; never before a digit.

Decimals ("$1.5 billion", "Apache 2.0") never split because no whitespace follows the period.
A quotation of several sentences is split like any other text; a closing quote stays with the
sentence it ends.

Kept sentences have at least `MIN_WORDS` words (section headings such as "Key Takeaways" and other
fragments go) and are not boilerplate such as "This article first appeared on TechWire and is
republished with permission." (a syndicated copy must not look new because of its reprint notice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storywatch.text import strip_chrome, words

MIN_WORDS = 4

# Abbreviations after which a period never ends a sentence.
_TITLES = frozenset(
    "mr mrs ms mx dr prof sr jr st mt gov sen rep gen lt col capt cpt sgt maj adm cmdr rev hon pres supt"
    " insp messrs mme mlle".split()
)
# Abbreviations that usually do not end a sentence but may ("... of Acme Inc. The deal ...").
_ABBREVIATIONS = frozenset(
    "inc corp ltd co plc llc bros dept univ assn approx vs etc al cf jan feb apr jun jul aug sep sept"
    " oct nov dec mon tue tues thu thur thurs fri ave blvd hwy".split()
)
# Abbreviations that are also words ("said no.", "she sat."): not an end only before a number.
_BEFORE_NUMBER = frozenset("no nos fig figs vol vols pp p art sec ch mar wed sat sun ft km kg lb lbs oz mi".split())
# Words that open sentences; after an ambiguous abbreviation they mean a new sentence began.
SENTENCE_OPENERS = frozenset(
    """a an the this that these those it its he she they we i you his her their our my your there
    here but and or so yet however meanwhile still instead also then now today yesterday tomorrow
    in on at as after before while when if although though because since for from with without
    by to of under over into about during until what which who why how some many most several
    both each every all no not none one two three four five six seven eight nine ten other others
    another such more less only even just last next first earlier later finally""".split()
)

_BOUNDARY = re.compile(r"(?:[.!?]+|…|\.\.\.)[\"'”’)\]]*\s+")
_OPENING = re.compile(r"[\"'“‘(\[]*(\S)")
_TOKEN_BEFORE = re.compile(r"(\S+)$")
_DOTTED_ACRONYM = re.compile(r"^(?:[^\W\d_]\.)+[^\W\d_]$")
_BULLET = re.compile(r"^\s*(?:[-*•·‣▪◦–—]+\s*|\(?\d{1,2}[.)]\s+)+")
_TERMINAL = re.compile(r"[.!?…:;\"'”’)\]]\s*$")

# Reprint notices and credit lines: not news, and different on every copy of a story.
_BOILERPLATE = re.compile(
    r"(?:\b(?:first|originally)\s+(?:appeared|published|ran)\s+(?:on|in|at|by)\s+\S"
    r"|\brepublished\s+(?:here\s+)?with\s+(?:the\s+)?permission\b|\breprinted\s+with\s+permission\b"
    r"|\ball\s+rights\s+reserved\b|^\s*(?:copyright\b|©)"
    r"|^\s*(?:\(?(?:reporting|writing|editing|additional reporting)\s+by\b)"
    r"|\bclick\s+here\b|\bsign\s+up\s+(?:for|to)\s+(?:our|the)\b|\bsubscribe\s+to\s+(?:our|the)\b"
    r"|\bfollow\s+us\s+on\b|^\s*(?:read|see)\s+(?:more|also)\s*:|\blog\s+in\s+or\s+register\b"
    r"|\bjoin\s+the\s+(?:discussion|conversation)\b|^\W*(?:more\s+from|related\s+(?:stories|articles|coverage))\b)",
    re.I,
)
BOILERPLATE_MAX_WORDS = 30  # a long sentence that happens to match is article text, not a notice


@dataclass(frozen=True)
class Sentence:
    """One kept sentence: its text as written, its paragraph and its position in the article.

    `paragraph` counts only paragraphs that kept at least one sentence, so it is stable when a
    heading or a chrome line comes or goes."""

    text: str
    paragraph: int
    index: int


def split_paragraph(paragraph: str) -> list[str]:
    """Cut one paragraph at sentence ends (no filtering; whitespace trimmed, empties dropped)."""
    out: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(paragraph):
        if _is_boundary(paragraph, m):
            piece = paragraph[start : m.end()].strip()
            if piece:
                out.append(piece)
            start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return out


def _is_boundary(text: str, m: re.Match[str]) -> bool:
    following = _OPENING.match(text, m.end())
    if not following:
        return False
    first = following.group(1)
    if not (first.isupper() or first.isdigit()):
        return False
    punct = m.group().rstrip()
    if punct != ".":
        return True  # "!", "?", "...", or a period followed by a closing quote
    token = _TOKEN_BEFORE.search(text, 0, m.start())
    if not token:
        return True
    before = token.group(1).lstrip("\"'“‘([").lower()
    if before in _TITLES:
        return False
    if len(before) == 1 and before.isalpha():
        return False  # an initial: "Alexandr N. Wang", "Plan B." is rare enough to lose
    if before in _BEFORE_NUMBER and first.isdigit():
        return False
    if before in _ABBREVIATIONS or _DOTTED_ACRONYM.match(before):
        if first.isdigit():
            return False
        next_word = re.match(r"[^\W_]+", text[following.start(1) :])
        return bool(next_word) and next_word.group().lower() in SENTENCE_OPENERS
    return True


def paragraphs(text: str) -> list[str]:
    """Non-empty lines of the chrome-stripped text, bullets removed, wrapped lines re-joined."""
    out: list[str] = []
    for raw in strip_chrome(text).splitlines():
        line = _BULLET.sub("", raw).strip()
        if not line:
            continue
        if out and not _TERMINAL.search(out[-1]) and line[0].islower():
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def is_boilerplate(sentence: str) -> bool:
    """A reprint notice, credit line or call to action rather than article text."""
    return len(words(sentence)) <= BOILERPLATE_MAX_WORDS and bool(_BOILERPLATE.search(sentence))


def split_sentences(text: str, min_words: int = MIN_WORDS) -> list[Sentence]:
    """The article's sentences in order, without chrome, boilerplate or fragments under
    `min_words` words."""
    out: list[Sentence] = []
    paragraph = 0
    for para in paragraphs(text):
        kept = [s for s in split_paragraph(para) if len(words(s)) >= min_words and not is_boilerplate(s)]
        for s in kept:
            out.append(Sentence(s, paragraph, len(out)))
        if kept:
            paragraph += 1
    return out
