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
# Several years at once: a five-year plan, "three years", "in recent years", "to date".
SEVERAL_YEARS = re.compile(
    r"十?[三四五]五(?:期间|以来|时期)?|[二三四五六七八九十两]年(?:间|来|以来)|近年来|历年|累计至今|五年答卷"
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


_CN_MONTH = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
             "十一": 11, "十二": 12}  # fmt: skip
_MONTH_NUMBER = r"(\d{1,2}|十[一二]?|[一二两三四五六七八九])"
_NAMED_PARTS = {"上半年": (1, 6), "下半年": (7, 12), "前三季度": (1, 9), "前两季度": (1, 6)}
_QUARTER = re.compile(r"第?([一二三四1-4])季度")
_FIRST_MONTHS = re.compile(rf"前{_MONTH_NUMBER}个?月")
_MONTH_SPAN = re.compile(rf"{_MONTH_NUMBER}\s*(?:-|—|–|~|至|到)\s*{_MONTH_NUMBER}\s*月")
# 截至6月底, 截至今年9月25日: a figure counted from the start of the year to that month.
_UP_TO_MONTH = re.compile(rf"截[至止]\s*(?:今年|本年|(?:19|20)\d\d\s*年)?\s*{_MONTH_NUMBER}\s*月")


def month_ranges(text: str, folded: bool = False) -> set[tuple[int, int]]:
    """Return the (first, last) month of each part of a year ``text`` names:
    上半年 → (1, 6), 前三季度 → (1, 9), 二季度 → (4, 6), 前8个月 and 1至8月份 → (1, 8),
    截至6月底 and 截至6月25日 → (1, 6). ``folded``: ``text`` is in index form already.

    Questions and reports name the same months in different words; comparing the
    ranges lets a question about 前8个月 find a report's 1—8月."""
    folded = text if folded else index_form(text)
    found = {span for name, span in _NAMED_PARTS.items() if name in folded}
    for match in _QUARTER.finditer(folded):
        quarter = _month(match.group(1))
        if quarter and quarter <= 4 and folded[max(0, match.start() - 1) : match.start()] != "前":
            found.add((3 * quarter - 2, 3 * quarter))
    for match in _FIRST_MONTHS.finditer(folded):
        last = _month(match.group(1))
        if last and last <= 12:
            found.add((1, last))
    for match in _MONTH_SPAN.finditer(folded):
        first, last = _month(match.group(1)), _month(match.group(2))
        if first and last and 1 <= first < last <= 12:
            found.add((first, last))
    for match in _UP_TO_MONTH.finditer(folded):
        last = _month(match.group(1))
        if last and 2 <= last <= 12:
            found.add((1, last))
    return found


def _month(number: str) -> int | None:
    return int(number) if number.isdigit() else _CN_MONTH.get(number)
