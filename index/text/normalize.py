"""Text normalisation: the display form staff read and the index form tokens come from.

Two forms of every paragraph are kept, always of the same length, so that an offset
found in the index form (a matched query term, a figure) points at the same characters
in the display form:

- display text: the original characters with control characters removed and runs of
  white space collapsed to one space;
- index text: the display text with traditional characters converted to simplified
  (OpenCC ``t2s``) and full-width ASCII folded to half-width.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np
import opencc

# Full-width ASCII (U+FF01..U+FF5E) maps to U+0021..U+007E, the ideographic space to a
# space. Hand-written instead of unicodedata.normalize("NFKC"): NFKC also rewrites many
# other characters and changes lengths (㎡ -> m2, ½ -> 1⁄2, ① -> 1), which would break
# the one-to-one offsets between display and index text that highlighting relies on.
_WIDTH_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDTH_FOLD[0x3000] = 0x20

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\ufeff]")
# Any white space but the line break: spaces, tabs, the ideographic space, no-break and
# typographic spaces (U+2000-U+200A, em space U+2003 among them).
_SPACE_RUN = re.compile(r"[^\S\n]+")
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_HALF_OF = {chr(wide): chr(narrow) for wide, narrow in _WIDTH_FOLD.items()}


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold_width(text: str) -> str:
    """Return ``text`` with full-width ASCII and the ideographic space made half-width.

    Length-preserving: ``len(fold_width(s)) == len(s)``.
    """
    # Not str.translate: it looks every character up in the table (18 µs for a
    # passage); the regular expression visits only the full-width ones (8 µs).
    return _FULL_WIDTH.sub(lambda match: _HALF_OF[match.group()], text)


def fold_widths(texts: Sequence[str]) -> list[str]:
    """Return ``[fold_width(t) for t in texts]``, folded in one pass over their code
    points (numpy): a passage has some twenty full-width commas, colons and brackets,
    and the regular expression's call per match cost 10 µs a passage."""
    if not texts:
        return []
    points = np.frombuffer("\n".join(texts).encode("utf-32-le"), dtype=np.uint32).copy()
    wide = (points >= 0xFF01) & (points <= 0xFF5E)
    points[wide] -= 0xFEE0
    points[points == 0x3000] = 0x20
    folded = points.tobytes().decode("utf-32-le").split("\n")
    if len(folded) != len(texts):  # a text holding a line break itself
        return [fold_width(text) for text in texts]
    return folded


def to_simplified(text: str) -> str:
    """Return ``text`` converted from traditional to simplified characters (OpenCC t2s).

    OpenCC converts phrase by phrase and may, rarely, change the length; offsets must
    stay aligned, so in that case the text is converted character by character instead.
    """
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    converter = _t2s()
    return "".join(c if len(c := converter.convert(ch)) == 1 else ch for ch in text)


def clean_display_line(line: str) -> str:
    """Return one line of original text ready for display.

    Control and zero-width characters are dropped, runs of any white space (spaces, tabs,
    ideographic, no-break and em spaces) become one ASCII space, and the ends are stripped. Characters are otherwise
    kept as written (traditional characters, full-width digits, redaction marks).
    """
    return _SPACE_RUN.sub(" ", _CONTROL_CHARS.sub("", line)).strip()


def index_form(display_text: str) -> str:
    """Return the index form of display text: simplified and width-folded, same length."""
    return fold_width(to_simplified(display_text))
