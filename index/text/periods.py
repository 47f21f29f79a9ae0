"""Years and parts of years as Chinese reports and questions write them.

One place for the patterns that metadata, figure extraction and question parsing share:
a four-digit year (1900-2099) written ``2023年`` in text, or alone as a word in a
question or command (``2023``, ``2023年``), and the parts of a year (上半年, 前三季度,
1-7月).
"""

from __future__ import annotations

import re

from index.text.normalize import index_form

# A year written as YYYY年, not part of a longer number (12023年 is not a year).
YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})(?=年)")
# A year standing alone as a word: "2023" or "2023年".
YEAR_WORD = re.compile(r"^((?:19|20)\d{2})年?$")
# A year anywhere in a question, with or without 年 ("2023年上半年", "2023的目标").
YEAR_IN_QUESTION = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
PART_OF_YEAR = re.compile(
    r"上半年|下半年|前三季度|(?:第?[一二三四1-4])季度|(?:\d{1,2}|[xX*]+)\s*[-至~—]\s*(?:\d{1,2}|[xX*]+)月"
)
CURRENT_YEAR_WORDS = re.compile(r"今年|本年|上半年|下半年|全年")
PREVIOUS_YEAR_WORDS = re.compile(r"去年|上年|上一年")


def years_in(text: str) -> list[int]:
    """Return the distinct years written as ``YYYY年`` in ``text``, ascending."""
    return sorted({int(y) for y in YEAR_IN_TEXT.findall(index_form(text))})


def year_of_word(word: str) -> int | None:
    """Return the year a word names ("2022" or "2022年"), else None."""
    match = YEAR_WORD.match(word)
    return int(match.group(1)) if match else None
