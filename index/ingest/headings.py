"""Numbered headings of Chinese reports: 第一部分, 一、, （一）, ──, 1., （1）, 第X条.

Shared by the passage splitter (which builds heading paths from them) and the PDF reader
(which ends a paragraph before a line that opens one). Patterns run on the index form
(half-width brackets), see :mod:`index.text.normalize`.
"""

from __future__ import annotations

import re

from index.text.normalize import index_form

_CN_NUM = "一二三四五六七八九十百零〇两"
# (level, pattern) for headings at the start of a paragraph, outermost level first.
HEADING_MARKERS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^第[{_CN_NUM}\d]+(?:部分|章|篇)\s*")),
    (1, re.compile(r"^[一二三四五六七八九十]{1,3}[、.]\s*")),
    (2, re.compile(r"^\([一二三四五六七八九十]{1,3}\)\s*")),
    (2, re.compile(r"^(?:[─━—]{1,2}|-{2})\s*")),
    (3, re.compile(r"^\d{1,2}[、.](?!\d)\s*")),
    (4, re.compile(r"^\(\d{1,2}\)\s*")),
    (5, re.compile(rf"^第[{_CN_NUM}\d]+条\s*")),
)


def starts_with_heading(line: str) -> bool:
    """Return whether ``line`` opens with a numbered heading marker (一、 （一） 1. …)."""
    text = index_form(line.strip())
    return any(pattern.match(text) for _, pattern in HEADING_MARKERS)


def match_heading(folded: str) -> tuple[int, int] | None:
    """Return (level, end of the marker) when the index-form line opens a heading, else None.

    Levels: 1 (第X部分, 一、), 2 (（一）, ──), 3 (1.), 4 (（1）), 5 (第X条).
    """
    for level, pattern in HEADING_MARKERS:
        match = pattern.match(folded)
        if match:
            return level, match.end()
    return None
