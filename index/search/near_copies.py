"""Near-copies among an answer's passages: a 导读 repeating the body, the same paragraph
in this year's and last year's report.

Two passages are one text when they share at least a given share of their character
3-grams (shingles, Broder 1997), counted against the smaller of the two sets:
``|A ∩ B| / max(1, min(|A|, |B|))``. White space is ignored; a text shorter than three
characters is one shingle of itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Code points fit in 21 bits, so three of them make one 63-bit integer key.
_BITS = 21


def first_distinct(texts: Sequence[str], threshold: float, limit: int) -> list[int]:
    """Return the positions of ``texts`` (index form, best first) that are kept when
    each is dropped if it shares ``threshold`` or more of its shingles with one kept
    before it (relative to the smaller set), up to ``limit`` kept.

    Shingles are integer keys computed for all texts at once: sets of 3-character
    strings cost 23 µs a passage to build (measured on answers at 20,000 passages),
    sets of integers 14 µs. The answer is the same.

    Not used: every pair's shared shingles counted at once as a (shingle x text) 0/1
    matrix times its transpose. Alone it was faster for a 10-passage answer's 20 texts
    (0.25 against 0.45 ms), but the product runs on OpenBLAS's threads, which then
    took the second core from a reload: in ``python -m tests.load`` replies slowed from
    p50 0.24-0.25 s to 0.35 s.
    """
    stripped = ["".join(text.split()) for text in texts]
    points = np.frombuffer("".join(stripped).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    keys = ((points[:-2] << (2 * _BITS)) | (points[1:-1] << _BITS) | points[2:]).tolist()
    kept: list[int] = []
    kept_shingles: list[set] = []
    start = 0
    for number, text in enumerate(stripped):
        # A short text is its own one shingle: a string, never equal to an integer key.
        shingles = set(keys[start : start + len(text) - 2]) if len(text) >= 3 else {text}
        start += len(text)
        if any(_overlap(shingles, other) >= threshold for other in kept_shingles):
            continue
        kept.append(number)
        kept_shingles.append(shingles)
        if len(kept) == limit:
            break
    return kept


def _overlap(left: set, right: set) -> float:
    return len(left & right) / max(1, min(len(left), len(right)))
