"""Find the figures of a text: a number (or a redaction mark) with a measure unit.

``1,200套（间）``, ``6.28亿元``, ``4.9万亿元``, ``二十个``, ``550余万吨``, ``6万余个``,
``百分之九十五``, ``3至5部``, ``完成 12 个``, ``XX个``, ``xxx.xx万元``; and a unit whose number
was removed from the copy (``目标任务亿元``). Not figures: years and dates, ranks (第2位),
article numbers (第十二条), codes (8+3), slogans in quotes (“一户一档”), words holding a
numeral (八项规定, 千家万户), category counts (4类重点对象, 两项指标, 三个方面), periods
(前八个月) and times (近两年来).

Everything runs on the index form (simplified, half-width), whose offsets equal the
display text's. The value is the number as written, without qualifier; its magnitude
stays in the unit (550 and 万吨), as the figure ledger shows it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from index.figures.units import ALWAYS_NUMBERED, BASE_UNITS

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_NUMERAL = rf"[{_CN_DIGITS}十百千万亿]+(?:点[{_CN_DIGITS}]+)?"
_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
_REDACTED = r"[xX]{1,8}(?:\.[xX]{1,4})?|\*{1,8}(?:\.\*{1,4})?"
_SINGLE = rf"(?:{_ARABIC}|{_REDACTED}|{_CN_NUMERAL})"
_RANGE = r"(?:至|到|~|-|—|–)"
_PER_UNITS = r"㎡|m2|[\u4e00-\u9fff]{1,3}"
_BASE = "|".join(map(re.escape, BASE_UNITS))
_FIGURE = re.compile(
    rf"(?P<percent>百分之(?P<pnum>{_CN_NUMERAL}|{_ARABIC}))"
    rf"|(?P<low>{_SINGLE})(?:{_RANGE}(?P<high>{_SINGLE}))? ?(?P<inner>余|多)?(?P<mag>万亿|亿|万|千)?(?P<inner2>余|多)?"
    rf" ?(?P<unit>(?:{_BASE})(?:/(?:{_PER_UNITS}))?(?:\([^()]{{1,3}}\))?)"
)
_BOUNDED_MISSING = ("%", "亩", "公顷")
_MISSING = re.compile(
    rf"(?<=[\u4e00-\u9fff])(?<![{_CN_DIGITS}十百千万亿数几多余每])"
    rf"(?:(?P<always>{'|'.join(ALWAYS_NUMBERED)})|(?P<bounded>{'|'.join(map(re.escape, _BOUNDED_MISSING))})"
    r"(?=[,.;:。、的)]|$|亩|%))"
)
# Words before a figure that bound it (约1500户, 超过5200亿元); 至少 is read as 不少于.
PREFIX_QUALIFIERS = ("不少于", "不低于", "不超过", "超过", "至少", "高于", "低于", "约", "近", "逾")
_PREFIX_QUALIFIER = re.compile(f"({'|'.join(PREFIX_QUALIFIERS)})(?:为|合|计|达)?$")
_SUFFIX_QUALIFIER = re.compile(r"^(以上|以下|以内|左右)")
_QUOTED = re.compile(r"“[^“”]{1,10}”|\"[^\"]{1,10}\"")
# A count of kinds or aspects, not of things: 三个方面, 两项指标, 九项机制, 四个层面.
_ABSTRACT_AFTER = re.compile(
    r"^(?:个|项|大|条|种|批)?(?:方面|层面|机制|指标|领域|环节|原则|要求|措施|举措|重点|问题|类型|方式|步骤|阶段|"
    r"特点|作用|理念|能力|思路|关系|字|句|化)"
)
# Durations (年) count only where the text measures one: 两年以上, 每两年, 连续3年.
_YEARS_BEFORE = re.compile(r"(?:每|连续|满|超过|长达|使用|已有)$")
_YEARS_AFTER = re.compile(r"^(?:以上|以下|以内|之内|左右|内)")
_PERIOD_BEFORE = re.compile(r"(?:前|近|后|头|首)$")
# "1500万新市民": a magnitude with people after it counts people.
_MAGNITUDE_ONLY = re.compile(rf"(?P<low>{_ARABIC}|{_CN_NUMERAL})(?P<inner>余|多)?(?P<mag>万|亿)")
_PEOPLE_AFTER = re.compile(r"^[\u4e00-\u9fff]{0,4}?(?:人口|群众|居民|市民|职工|农民工|村民|学生|人(?!次))")
ARTICLE_UNITS = ("个", "种", "批", "项", "场", "支", "份", "件", "位", "名", "家", "些", "部", "方", "成")
QUALIFIER_ALIASES = {"至少": "不少于"}


@dataclass(frozen=True)
class FigureSpan:
    """Where a figure is in the text, and what it says.

    Attributes:
        start: where the number starts (the unit, when the number is missing).
        number_end: end of the number (``text[start:number_end]`` is the value as written).
        end: end of the figure, unit and suffix qualifier included.
        unit_pieces: (start, end) pieces of the text that make the unit (the magnitude
            and the base unit, without an inner 余 or 多); empty when the unit is derived.
        derived_unit: a unit the text implies but does not write (万人 for 1500万新市民).
        value, value_max: the number (low end of a range) and a range's high end;
            None when redacted or missing.
        qualifier: 约, 余, 多, 以上, 不少于, 区间 (a range) …, or None.
    """

    start: int
    number_end: int
    end: int
    unit_pieces: tuple[tuple[int, int], ...]
    derived_unit: str | None
    value: float | None
    value_max: float | None
    qualifier: str | None


def find_spans(folded: str, segmenter) -> list[FigureSpan]:
    """Return the figures of an index-form text, in order.

    Args:
        folded: index form of a passage.
        segmenter: a ``jieba.Tokenizer`` with the user dictionary (for numerals inside
            dictionary words such as 八项规定).
    """
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(folded)]
    spans = [span for m in _FIGURE.finditer(folded) if (span := _figure(folded, m, quoted, segmenter))]
    taken = [(s.start, s.end) for s in spans]
    for match in _MISSING.finditer(folded):
        overlaps = any(start < match.end() and match.start() < end for start, end in taken)
        if not overlaps and not _inside_word(folded, match.start(), match.end(), segmenter):
            spans.append(FigureSpan(match.start(), match.start(), match.end(), ((match.start(), match.end()),), None,
                                    None, None, None))  # fmt: skip
    return sorted(spans, key=lambda s: s.start)


def _figure(folded: str, match: re.Match[str], quoted, segmenter) -> FigureSpan | None:
    start, end = match.start(), match.end()
    if (start and folded[start - 1] in "第+") or folded[end : end + 1] == "+":
        return None  # ordinals, ranks, articles, and codes like 8+3
    if any(q_start < start < q_end for q_start, q_end in quoted):
        return None  # slogans: “一户一档”, “五个一律”
    if match.group("percent"):
        value = number_value(match.group("pnum"))
        return FigureSpan(start, end, end, (), "%", value, None, _prefix(folded, start))
    low, high = match.group("low"), match.group("high")
    base = match.group("unit")
    magnitude = match.group("mag") or ""
    number_end = match.end("high") if high else match.end("low")
    if _refused(folded, match, low, base, segmenter):
        return None
    pieces = [(match.start("mag"), match.end("mag"))] if magnitude else []
    pieces.append((match.start("unit"), match.end("unit")))
    cut_magnitude = not high and not magnitude and len(low) > 1 and low[-1] in "万亿"
    # 五百六十亿元: the magnitude belongs to the unit, as in 560亿元; 一亿二千万元 stays 一亿二千万 + 元.
    if cut_magnitude and re.fullmatch(_CN_NUMERAL, low) and not re.search("[万亿]", low[:-1]) and base[0] not in "千百":
        number_end -= 1
        pieces.insert(0, (number_end, number_end + 1))
        low = low[:-1]
    suffix = _SUFFIX_QUALIFIER.match(folded[end:])
    if suffix:
        end += len(suffix.group(1))
    qualifier = (
        _prefix(folded, start)
        or (suffix.group(1) if suffix else None)
        or match.group("inner")
        or match.group("inner2")
        or ("区间" if high else None)
    )
    if high:
        qualifier = "区间"
    value = None if re.fullmatch(_REDACTED, low) else number_value(low)
    value_max = None if not high or re.fullmatch(_REDACTED, high) else number_value(high)
    return FigureSpan(start, number_end, end, tuple(pieces), None, value, value_max, qualifier)


def magnitude_people(folded: str) -> list[FigureSpan]:
    """Return figures that count people with only a magnitude written: 近1500万新市民,
    六十余万棚户区群众 (unit 万人). Spans that overlap a figure with a written unit
    (65.8万人) are for the caller to drop."""
    spans = []
    for match in _MAGNITUDE_ONLY.finditer(folded):
        low = match.group("low")
        if low[-1] in "万亿" or (match.start() and folded[match.start() - 1].isdigit()):
            continue
        if _PEOPLE_AFTER.match(folded[match.end() :]) is None:
            continue
        qualifier = _prefix(folded, match.start()) or match.group("inner")
        derived = match.group("mag") + "人"
        spans.append(
            FigureSpan(match.start(), match.end("low"), match.end(), (), derived, number_value(low), None, qualifier)
        )
    return spans


def _refused(folded: str, match: re.Match[str], low: str, base: str, segmenter) -> bool:
    """Whether a matched number with a unit is not a figure (see the module docstring)."""
    start, end = match.start(), match.end()
    before, after = folded[max(0, start - 4) : start], folded[end : end + 6]
    chinese = bool(re.fullmatch(_CN_NUMERAL, low))
    if chinese and (not re.search(f"[{_CN_DIGITS}十]", low) or _inside_word(folded, start, end, segmenter)):
        return True  # 千家万户, 八项规定: words, not counts
    if chinese and low == "一" and base in ARTICLE_UNITS:
        return True  # 一个, 一批: an article, not a count
    if base == "年":
        short = chinese or (low.isdigit() and len(low) <= 2)
        measured = bool(_YEARS_BEFORE.search(before) or _YEARS_AFTER.match(after))
        if not (short and measured):
            return True  # 2021年 is a year; 近两年来 a time, not a duration measured
    if base in ("个月", "天", "季度") and _PERIOD_BEFORE.search(before):
        return True  # 前八个月: a period
    if base == "成" and not chinese:
        return True
    if chinese and _ABSTRACT_AFTER.match(folded[match.start("unit") :]) and (number_value(low) or 0) <= 12:
        return True  # 三个方面, 两项指标
    year_like = re.fullmatch(r"(?:19|20)\d{2}", low) and not (match.group("inner") or match.group("mag"))
    return bool(year_like and base in ("个", "项", "件"))  # 2021个: a year and a count word


def _prefix(folded: str, start: int) -> str | None:
    found = _PREFIX_QUALIFIER.search(folded[max(0, start - 5) : start])
    return QUALIFIER_ALIASES.get(found.group(1), found.group(1)) if found else None


def _inside_word(folded: str, start: int, end: int, segmenter) -> bool:
    """Whether the figure at ``folded[start:end]`` is part of a longer dictionary word.

    Named terms with numerals (八项规定, 千家万户, 一岗双责) are in jieba's or the user
    dictionary; a figure whose first character does not start a word, or whose word
    runs past its unit, is one of them.
    """
    clause_start = max(folded.rfind(mark, 0, start) for mark in ",;:。!?，；：、") + 1
    for _, word_start, word_end in segmenter.tokenize(folded[clause_start : end + 8]):
        word_start, word_end = word_start + clause_start, word_end + clause_start
        if word_start <= start < word_end:
            return word_start < start or word_end > end
    return False


def number_value(number: str) -> float | None:
    """Return the value of an Arabic (1,200.5) or Chinese (一千二百, 六十) numeral, or None."""
    if re.fullmatch(_ARABIC, number):
        return float(number.replace(",", ""))
    return _chinese_value(number)


@functools.cache
def _chinese_value(numeral: str) -> float | None:
    """Convert one Chinese numeral span with cn2an (never a whole paragraph)."""
    import cn2an  # imported on first use: it takes a fifth of a second, and searches never need it

    if numeral[0] in "十百千万亿" and numeral[0] != "十":
        numeral = "一" + numeral  # 百分之百: cn2an reads 一百, not a bare 百
    try:
        return float(cn2an.cn2an(numeral, "normal"))
    except (ValueError, KeyError):
        return None
