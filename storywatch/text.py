"""Text normalisation shared by relevance and dedupe: chrome stripping, tokens, content hash."""

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
