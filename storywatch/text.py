"""Text normalisation shared by every scorer (relevance, dedupe, novelty): chrome stripping, word
tokens, stop words, spelling variants, content hash."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Page furniture that leaks into copied article text ("Skip to main content", comment widgets,
# share bars). Only whole short lines are dropped, so article sentences are never touched.
_CHROME_LINE = re.compile(
    r"^\s*(?:skip to (?:main )?content|comments?|loading comments.*|want to join the conversation\??"
    r"|share(?: this)?(?: article| story)?|advertisement|subscribe.*|sign up.*|read more|related"
    r"(?: stories| articles)?|photo by .*|image:.*|published by|follow us.*|newsletter)\s*$",
    re.I,
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.U)

# Function words that say nothing about a story. Negations are kept apart: novelty keeps them (they
# flip a sentence's claim), relevance drops them with the words too common in news to mark a story.
STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just may me might more most must my myself now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself said says according like get
    got make made much even still yet however""".split()
)
NEGATIONS = frozenset({"no", "nor", "not"})
NEWS_FILLER = frozenset({"one", "two", "new", "many"})
# When, not what: any article names days and months, so they never mark a story (the story's
# start and the time rule handle when).
CALENDAR = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april june
    july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec
    today yesterday tomorrow week weeks weekend month months year years day days morning afternoon
    evening night tonight earlier later last next""".split()
)
# British spellings folded to American ones, so "open licence" matches "open source license".
SPELLING = {
    "licence": "license", "licences": "licenses", "licenced": "licensed", "licencing": "licensing",
    "defence": "defense", "offence": "offense", "pretence": "pretense", "centre": "center",
    "programme": "program", "programmes": "programs",
}


def strip_chrome(text: str) -> str:
    """Drop short lines that are page chrome rather than article text."""
    kept = [line for line in text.splitlines() if not (len(line) < 80 and _CHROME_LINE.match(line))]
    return "\n".join(kept).strip()


def words(text: str) -> list[str]:
    """Lower-case word tokens, accents and punctuation variants folded (’ -> ')."""
    folded = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return _WORD.findall(folded)


def content_hash(text: str) -> str:
    """Hash of the words alone, so whitespace, punctuation and case changes do not count."""
    return hashlib.sha256(" ".join(words(text)).encode("utf-8")).hexdigest()


def body_hash(data: bytes) -> str:
    """Hash of raw bytes (feed bodies), to spot unchanged responses behind a changed ETag."""
    return hashlib.sha256(data).hexdigest()
