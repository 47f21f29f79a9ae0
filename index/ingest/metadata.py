"""Document metadata inferred from report text: title, years, issuing level, kind.

All functions are pure and take display paragraphs (see :mod:`index.ingest.passages`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.ingest.headings import starts_with_heading
from index.text.normalize import index_form
from index.text.periods import CURRENT_YEAR_WORDS, PREVIOUS_YEAR_WORDS, years_in

_TITLE_MAX_CHARS = 60
_SALUTATION = re.compile(r"^(?:同志们|各位|尊敬的)")
# Self-references of the issuing body, by level. "全市" in a district report ranks the
# district within the city, so the words that name the body itself (区住建局, 我区)
# weigh more than area words (全区), and a title that names the body decides.
_LEVEL_WORDS = {
    "省": (("省住建厅", "省住房和城乡建设厅", "我省", "本省"), ("全省", "省委", "省政府")),
    "市": (("市住建局", "市住房和城乡建设局", "我市", "本市"), ("全市", "市委", "市政府")),
    "县": (("县住建局", "县住房和城乡建设局", "我县", "本县"), ("全县", "县委", "县政府")),
    "区": (("区住建局", "区住房和城乡建设局", "我区", "本区"), ("全区", "区委", "区政府")),
}
_SELF_WEIGHT = 3
# Words of each kind. A speech is recognised by its salutation; otherwise the title
# decides when it names a kind, then the top-level headings, then the opening passage.
# On a tie 总结 wins: reports that review and plan put the review first.
_SPEECH_MARKERS = ("同志们", "讲话", "致辞")
_KIND_WORDS = {
    "总结": ("总结", "回顾", "工作成绩", "亮点工作", "完成情况", "主要做法", "取得"),
    "计划": ("计划", "思路", "安排", "打算", "要点", "重点工作"),
}


def find_title(paragraphs: Sequence[str]) -> str | None:
    """Return the title line of a report, or None when the first line is not a title.

    A title is a short first line that is not a numbered heading, a salutation
    ("同志们:") or a sentence (no 。；).
    """
    if not paragraphs:
        return None
    first = paragraphs[0].strip()
    if (
        len(first) > _TITLE_MAX_CHARS
        or starts_with_heading(first)
        or _SALUTATION.match(first)
        or re.search(r"[。；;]", first)
    ):
        return None
    return first


def document_years(title: str | None, headings: Sequence[str], opening: str) -> list[int]:
    """Return the years a report is about: those named in its title, headings and opening.

    Args:
        title: the title line, if any.
        headings: heading and item labels of the report (passage sections).
        opening: the first body passage.

    Years quoted in passing deep in the body ("2019年以来") are not counted.
    """
    return years_in("\n".join([title or "", *headings, opening]))


def issuing_level(title: str | None, paragraphs: Sequence[str]) -> str | None:
    """Return 省/市/县/区 for the body that issued the report, or None if not stated.

    A title naming the body (区住建局…) decides; otherwise self-references (我区,
    区住建局: weight 3) and area words (全区, 区委: weight 1) are counted.
    """
    folded_title = index_form(title or "")
    for level, (self_words, _) in _LEVEL_WORDS.items():
        if any(word in folded_title for word in self_words):
            return level
    text = index_form("\n".join(paragraphs))
    counts = {
        level: _SELF_WEIGHT * sum(text.count(w) for w in self_words) + sum(text.count(w) for w in area_words)
        for level, (self_words, area_words) in _LEVEL_WORDS.items()
    }
    level, count = max(counts.items(), key=lambda item: item[1])
    return level if count else None


def document_kind(title: str | None, top_headings: Sequence[str], opening: str) -> str:
    """Return the kind of a report: 总结, 计划, 讲话 or 其他.

    A salutation (同志们) or 讲话/致辞 in the title makes a speech. Otherwise the
    first of title, top-level headings, opening passage that names a kind decides,
    by count of kind words; a tie goes to 总结.
    """
    folded_title = index_form(title or "")
    if any(word in folded_title for word in _SPEECH_MARKERS) or _SALUTATION.match(index_form(opening)):
        return "讲话"
    for text in (folded_title, index_form("\n".join(top_headings)), index_form(opening)):
        scores = {kind: sum(text.count(w) for w in words) for kind, words in _KIND_WORDS.items()}
        if max(scores.values()) > 0:
            return max(_KIND_WORDS, key=lambda kind: scores[kind])
    return "其他"


def passage_year(section: Sequence[str], years: Sequence[int]) -> int | None:
    """Return the year a passage is about.

    The innermost heading that names a year decides ("二、2022年重点工作" -> 2022); a
    heading that says 今年/下半年 means the report's latest year and 去年 the one before;
    otherwise the report's latest year. None when the report names no year at all.
    """
    latest = max(years) if years else None
    for label in reversed(section):
        named = years_in(label)
        if named:
            return named[-1]
        if latest is not None and CURRENT_YEAR_WORDS.search(label):
            return latest
        if latest is not None and PREVIOUS_YEAR_WORDS.search(label):
            return latest - 1
    return latest
