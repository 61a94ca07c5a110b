"""Near-duplicate detection: MinHash signatures over word shingles, an LSH index, and the rule
that turns an estimated overlap into a duplicate verdict.

Rule (documented in the README): two texts are copies when their 5-word-shingle sets have
estimated Jaccard >= 0.6, or when the smaller one is >= 70% contained in the larger with
Jaccard >= 0.25 and at least 30 shingles. The containment arm catches truncated copies and
copies with paragraphs added or cut; the Jaccard floor keeps a short quote inside a long
round-up from counting as a copy. LSH candidates are drawn at Jaccard 0.2, below the rule.

The warehouse keeps each on-story article's LSH buckets (`bucket_keys`: the same bands datasketch's
index uses, as stable 64-bit keys), so a pass loads only the earlier coverage sharing a bucket
with one of its own texts instead of indexing the story's whole history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from storywatch.text import strip_chrome, words

NUM_PERM = 128
SHINGLE = 5
SEED = 1
SCHEME = "affine32"  # datasketch 2.x hash scheme; stored signatures depend on it
JACCARD_COPY = 0.6
CONTAINMENT_COPY = 0.7
JACCARD_FLOOR = 0.25
MIN_SHINGLES = 30
LSH_THRESHOLD = 0.2
# The permutations depend only on (NUM_PERM, SEED, SCHEME): drawn once and shared, since drawing
# them is most of the cost of making a MinHash (0.5 ms each, per signature and per index insert).
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations
_BANDS = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM).hashranges  # (start, end) of each band


@dataclass(frozen=True)
class Signature:
    """MinHash of a text's shingles plus the shingle count (needed to estimate containment)."""

    hashvalues: np.ndarray
    size: int

    def to_bytes(self) -> bytes:
        return self.hashvalues.astype(np.uint32).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, size: int) -> Signature:
        return cls(np.frombuffer(data, dtype=np.uint32).copy(), size)

    def minhash(self) -> MinHash:
        return MinHash(num_perm=NUM_PERM, seed=SEED, hashvalues=self.hashvalues, permutations=_PERMUTATIONS,
                       scheme=SCHEME)


def bucket_keys(sig: Signature) -> list[int]:
    """The LSH buckets `sig` falls in, one per band, each as a signed 64-bit key (BLAKE2b of the
    band's number and values): two signatures share a key exactly when they share that band."""
    if not sig.size:
        return []
    values = sig.hashvalues.astype(np.uint32)
    return [int.from_bytes(hashlib.blake2b(band.to_bytes(2, "little") + values[start:end].tobytes(),
                                           digest_size=8).digest(), "little", signed=True)
            for band, (start, end) in enumerate(_BANDS)]


def shingles(text: str) -> set[str]:
    tokens = words(strip_chrome(text))
    if len(tokens) < SHINGLE:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}


def signature(text: str) -> Signature:
    grams = shingles(text)
    mh = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_PERMUTATIONS, scheme=SCHEME)
    mh.update_batch([g.encode("utf-8") for g in grams])
    return Signature(mh.hashvalues.copy(), len(grams))


@dataclass(frozen=True)
class Overlap:
    jaccard: float
    containment: float

    @property
    def is_copy(self) -> bool:
        return self.jaccard >= JACCARD_COPY or (
            self.containment >= CONTAINMENT_COPY and self.jaccard >= JACCARD_FLOOR
        )


def overlap(a: Signature, b: Signature) -> Overlap:
    """Estimated Jaccard and containment (of the smaller set in the larger) of two texts."""
    if not a.size or not b.size:
        return Overlap(0.0, 0.0)
    jaccard = float(np.count_nonzero(a.hashvalues == b.hashvalues)) / NUM_PERM
    intersection = jaccard * (a.size + b.size) / (1.0 + jaccard)
    smaller = min(a.size, b.size)
    containment = min(1.0, intersection / smaller) if smaller >= MIN_SHINGLES else jaccard
    return Overlap(round(jaccard, 4), round(containment, 4))


@dataclass(frozen=True)
class Match:
    key: str
    overlap: Overlap


class CopyIndex:
    """Signatures of earlier texts (seeds or coverage), queried for the earliest copy of a text.

    Keys are added in first-seen order; a query returns the earliest matching key, so a copy of
    a copy points at the original. A text already in the index (an edited article judged again)
    can only be a copy of what was added before it, never of its own later copies."""

    def __init__(self) -> None:
        self._lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        self._signatures: dict[str, Signature] = {}
        self._order: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, key: str) -> bool:
        return key in self._signatures

    def add(self, key: str, sig: Signature) -> None:
        if key in self._signatures or not sig.size:
            return
        self._lsh.insert(key, sig.minhash())
        self._signatures[key] = sig
        self._order[key] = len(self._order)

    def precedes(self, key: str, other: str) -> bool:
        """Whether `key` was added before `other` (everything precedes a key not in the index)."""
        return key in self._order and self._order[key] < self._order.get(other, len(self._order))

    def earliest_copy(self, sig: Signature, before: str | None = None) -> Match | None:
        """The earliest indexed copy of `sig`; with `before`, only keys that precede it count."""
        if not sig.size or not self._signatures:
            return None
        matches = []
        for key in self._lsh.query(sig.minhash()):
            if before is not None and not self.precedes(key, before):
                continue
            found = overlap(sig, self._signatures[key])
            if found.is_copy:
                matches.append(Match(key, found))
        return min(matches, key=lambda m: self._order[m.key], default=None)
