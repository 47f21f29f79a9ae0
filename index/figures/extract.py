"""Extract stated quantities (targets and figures) from passage text.

A figure is a number with a measure unit: ``1,200套（间）``, ``6.28亿元``, ``二十个``,
``2900余个``, ``百分之九十五``, ``3至5部``; a redaction mark in the place of the number
(``XX个``, ``***万平方米``); or a unit whose number was removed from the copy
(``目标任务亿元``). Years, dates, ranks (第2位), article numbers (第十二条), event dates
(5.12), policy codes (8+3, 11+1), versions (2.0), hotlines (12345) and slogans in
quotes (“一户一档”) carry no measure unit in this sense and are not figures.

For each figure the clause around it gives the indicator (what is counted), the kind
(plan, achieved, rate, other) and the period. Patterns run on the index form of the
text (simplified, half-width), whose offsets equal the display text's, so everything
shown to staff is sliced from the original characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import cn2an
import jieba.posseg

from index.figures.model import Figure
from index.text.normalize import index_form
from index.text.periods import PART_OF_YEAR, YEAR_IN_TEXT
from index.text.segmentation import Tokenizer

# Bumped whenever extraction changes in code, so stored targets are re-extracted on reload.
EXTRACTOR_VERSION = "1"

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_NUMERAL = rf"[{_CN_DIGITS}十百千万亿]+(?:点[{_CN_DIGITS}]+)?"
_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
_REDACTED = r"[xX]{1,6}|\*{1,8}"
_SINGLE = rf"(?:{_ARABIC}|{_REDACTED}|{_CN_NUMERAL})"
_RANGE_SEPARATOR = r"(?:至|到|~|-|—)"
# Base units, longest first so 个百分点 wins over 个 and 平方米 over 米.
_BASE_UNITS = (
    "个百分点 百分点 平方公里 平方米 平米 立方米 公顷 公里 千米 延米 千瓦 兆瓦 人次 件次 个次 户次 "
    "车次 架次 项次 轮次 场次 个月 ㎡ m2 m³ 元 套 间 户 个 项 件 "
    "台 部 座 处 条 栋 幢 家 所 次 人 名 位 起 份 批 "
    "辆 棵 株 块 宗 吨 张 场 种 类 支 篇 册 天 亩 米 "
    "倍 % ‰"
).split()
# "元/㎡", "平方米/人", "项/标段": a second unit after a slash.
_PER_UNITS = r"㎡|m2|[\u4e00-\u9fff]{1,3}"
_UNIT = (
    rf"(?:[万亿千百]?(?:{'|'.join(map(re.escape, _BASE_UNITS))})(?:/(?:{_PER_UNITS}))?)"
    r"(?:\((?:[^()]{1,3})\))?"
)
_FIGURE = re.compile(
    rf"(?P<percent>百分之(?P<pnum>{_CN_NUMERAL}))"
    rf"|(?P<number>(?P<low>{_SINGLE})(?:{_RANGE_SEPARATOR}(?P<high>{_SINGLE}))?)(?P<approx>余|多)?(?P<unit>{_UNIT})"
)
# Units that never stand without a number: "目标任务亿元" lost its figure.
_ALWAYS_NUMBERED = ("亿元", "万元", "万平方米", "个百分点", "万户", "万套", "万人次", "万人")
# Units that also do, but only when a clause boundary follows ("同比上涨%。", "复耕亩，").
_BOUNDED_MISSING = ("%", "亩", "公顷")
_MISSING = re.compile(
    rf"(?<=[\u4e00-\u9fff])(?<![{_CN_DIGITS}十百千万亿数几多余每])"
    rf"(?:(?P<always>{'|'.join(_ALWAYS_NUMBERED)})|(?P<bounded>{'|'.join(map(re.escape, _BOUNDED_MISSING))})"
    r"(?=[,.;:。、的)]|$|亩|%))"
)
_PREFIX_QUALIFIER = re.compile(r"(不少于|不低于|不超过|超过|超出|至少|高于|低于|约|近|逾|超)(?:为|合|计|达)?$")
_SUFFIX_QUALIFIER = re.compile(r"^(以上|以下|以内|左右)")
_QUOTED = re.compile(r"“[^“”]{1,10}”|\"[^\"]{1,10}\"")
_PERCENT_UNITS = ("%", "‰", "个百分点", "百分点")
_CLAUSE = re.compile(r"[,;:。!?，；：、]")
_LEFT_BOUNDARY = re.compile(r"[,;:。!?]")  # not 、: "完成整治农村C、D级危旧房" is one phrase
_SENTENCE = re.compile(r"[。;!?；！？]")

# Cues read backwards from a figure. Strong cues decide; weak achievement cues
# (完成, 实现, 达到) lose to any plan cue in the clause: 力争完成, 计划完成, 预计完成.
_PLAN_CUES = (
    "计划", "目标", "任务", "力争", "确保", "拟", "预计", "争取", "将", "要", "年内", "年底前", "不少于",
    "不低于", "承诺", "准备", "下半年",
)  # fmt: skip
_PLAN_CUES_AFTER = tuple(cue for cue in _PLAN_CUES if cue not in ("目标", "任务"))
# Aspect words say a figure was reached; verbs such as 完成 or 竣工 only name the kind
# of figure ("竣工*万套" is a plan in a plan) and count when nothing else decides.
_STRONG_ACHIEVED_CUES = ("已经", "已", "累计", "共计", "超额", "实际")
_WEAK_ACHIEVED_CUES = ("完成", "实现", "建成", "完工", "竣工", "办结", "创成", "达到", "达")
_REVIEW_SECTION = re.compile(r"回顾|总结|成绩|亮点|做法|完成情况|成效")
_PLAN_SECTION = re.compile(r"计划|思路|打算|安排|重点工作|目标|任务")
# Indicator cleaning: context words that are not part of what is counted.
_LEADING_JUNK = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}[是要]|其中|另外|同时|截至目前|目前|截至[^,]{0,8}?(?:底|日)|全年|今年|年内|年底前|上半年|下半年|\d{4}年|"
    r"(?:\d{1,2}|[xX*]+)-(?:\d{1,2}|[xX*]+)月|第?[一二三四]季度|共计|合计|累计|共|已经|已|计划|目标|任务|力争|"
    r"确保|预计|拟|将|争取|要|完成(?!率)|实现|对|为|给|向|把|由|的|了|和|及|\s)+"
)
_LEADING_ADVERBS = re.compile(r"^(?:共计|合计|累计|共|已经|已|\s)+")
# Trailing words are dropped only as whole jieba words: 均价为 -> 均价, but 不良行为 stays.
_TRAILING_WORDS = frozenset("达到 达 为 是 至 由 计 共计 合计 共 的 了 约 约为 目标任务 目标 任务 每".split())
_TRANSITION = re.compile(r"^(?:增加|提高|提升|上升|下降|降低|减少|增长)?(?:至|到)$")
_INNER_JUNK = re.compile(r"预计|全年|今年|年内|已经|已")
_RIGHT_STOP_FLAGS = ("v", "d", "p", "c", "u", "r", "m", "q", "t", "f", "y", "e", "o", "z")
INDICATOR_MAX_CHARS = 18


@dataclass(frozen=True)
class PassageContext:
    """Where a passage sits, for kinds and periods its own words do not state.

    Attributes:
        section: heading path of the passage.
        year: the year the passage is about, or None.
        doc_kind: 总结/计划/讲话/其他.
        doc_years: the years the document is about.
    """

    section: tuple[str, ...] = ()
    year: int | None = None
    doc_kind: str = "其他"
    doc_years: tuple[int, ...] = ()


def extract_figures(
    text: str, context: PassageContext = PassageContext(), tokenizer: Tokenizer | None = None
) -> list[Figure]:
    """Return the figures of a passage, in text order.

    Args:
        text: display text of the passage.
        context: section, year and document facts used when the sentence is silent.
        tokenizer: supplies jieba with the user dictionary (words such as 八项规定 are
            not figures; indicators are cut by part of speech); jieba's default
            dictionary when None.
    """
    folded = index_form(text)
    segmenter = tokenizer.segmenter if tokenizer else jieba.dt
    pos = tokenizer.pos_tagger if tokenizer else jieba.posseg.dt
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(folded)]
    matches = (_figure_span(folded, match, quoted, segmenter) for match in _FIGURE.finditer(folded))
    spans = [span for span in matches if span]
    taken = [(s.start, s.end) for s in spans]
    for match in _MISSING.finditer(folded):
        overlaps = any(start < match.end() and match.start() < end for start, end in taken)
        if not overlaps and not _inside_word(folded, match.start(), match.end(), segmenter):
            spans.append(_Span(match.start(), match.start(), match.end(), "", "", None, None))
    spans.sort(key=lambda s: s.start)
    drafts: list[Figure] = []
    for number, span in enumerate(spans):
        previous_end = spans[number - 1].end if number else 0
        drafts.append(_draft(text, folded, span, previous_end, drafts, context, pos))
    return drafts


@dataclass(frozen=True)
class _Span:
    start: int  # figure start (number, or unit when the number is missing)
    number_end: int
    end: int  # after unit and suffix qualifier
    value_text: str  # folded
    unit: str  # folded
    value: float | None
    qualifier: str | None


def _figure_span(folded: str, match: re.Match[str], quoted: list[tuple[int, int]], segmenter) -> _Span | None:
    start = match.start()
    if (start and folded[start - 1] in "第+") or folded[match.end() : match.end() + 1] == "+":
        return None  # ordinals, ranks, articles, and codes like 8+3
    if any(q_start < start < q_end for q_start, q_end in quoted):
        return None  # slogans: “一户一档”, “五个一律”
    if match.group("percent"):
        value = _chinese_value(match.group("pnum"))
        return _Span(start, match.end(), match.end(), match.group("percent"), "%", value, None)
    low, high, unit = match.group("low"), match.group("high"), match.group("unit")
    if re.fullmatch(_CN_NUMERAL, low) and (
        not re.search(f"[{_CN_DIGITS}十]", low) or low == "一" or _inside_word(folded, start, match.end(), segmenter)
    ):
        return None  # 一个 (an article), 千家万户, 八项规定: words, not counts
    end = match.end()
    suffix = _SUFFIX_QUALIFIER.match(folded[end:])
    qualifier = match.group("approx")
    if suffix:
        qualifier = suffix.group(1)
        end += len(suffix.group(1))
    prefix = _PREFIX_QUALIFIER.search(folded[max(0, start - 4) : start])
    if prefix and not qualifier:
        qualifier = prefix.group(1)
    if high:
        qualifier = "区间"
    number_end = match.start("unit")
    if (
        not high
        and re.fullmatch(_CN_NUMERAL, low)
        and len(low) > 1
        and low[-1] in "万亿"
        and not re.search("[万亿]", low[:-1])  # 一亿二千万元 is 一亿二千万 元, not 一亿二千 万元
        and unit[0] not in "万亿千百"
    ):
        number_end -= 1  # 五百六十亿元: the magnitude belongs to the unit, as in 560亿元
        low, unit = low[:-1], low[-1] + unit
    value = None if re.fullmatch(_REDACTED, low) else _value(low)
    return _Span(start, number_end, end, folded[start:number_end], unit, value, qualifier)


def _inside_word(folded: str, start: int, end: int, segmenter) -> bool:
    """Whether the figure at ``folded[start:end]`` is part of a longer dictionary word.

    Named terms with numerals (八项规定, 千家万户, 一岗双责) are in jieba's or the user
    dictionary; a figure whose first character does not start a word, or whose word
    runs past its unit, is one of them.
    """
    clause_start = max((m.end() for m in _CLAUSE.finditer(folded, 0, start)), default=0)
    for _, word_start, word_end in segmenter.tokenize(folded[clause_start : end + 8]):
        word_start, word_end = word_start + clause_start, word_end + clause_start
        if word_start <= start < word_end:
            return word_start < start or word_end > end
    return False


def _value(number: str) -> float | None:
    if re.fullmatch(_ARABIC, number):
        return float(number.replace(",", ""))
    return _chinese_value(number)


def _chinese_value(numeral: str) -> float | None:
    """Convert one Chinese numeral span with cn2an (never a whole paragraph)."""
    if numeral[0] in "十百千万亿" and numeral[0] != "十":
        numeral = "一" + numeral  # 百分之百: cn2an reads 一百, not a bare 百
    try:
        return float(cn2an.cn2an(numeral, "normal"))
    except (ValueError, KeyError):
        return None


def _draft(text, folded, span: _Span, previous_end, drafts, context: PassageContext, pos) -> Figure:
    sentence_start = max((m.end() for m in _SENTENCE.finditer(folded, 0, span.start)), default=0)
    next_end = _SENTENCE.search(folded, span.end)
    sentence_end = next_end.end() if next_end else len(folded)
    clause_start = max((m.end() for m in _CLAUSE.finditer(folded, 0, span.start)), default=0)
    clause_start = max(clause_start, sentence_start, previous_end if previous_end > sentence_start else 0)
    next_clause = _CLAUSE.search(folded, span.end)
    clause_end = next_clause.start() if next_clause else len(folded)
    if span.value_text.startswith("百分之"):
        unit = "%"  # the unit is written before the number: 百分之九十五
    elif span.value_text:
        unit = text[span.number_end : span.number_end + len(span.unit)]
    else:
        unit = text[span.start : span.end]
    value_text = text[span.start : span.number_end]
    kind = _kind(folded, span, clause_start, clause_end, sentence_start, context, unit)
    year, period = _period(folded, span.start, sentence_start, context)
    same_sentence = drafts and previous_end > sentence_start
    previous = drafts[-1].indicator if same_sentence else ""
    indicator = _indicator(text, folded, span, previous_end, sentence_start, clause_end, pos, previous)
    sentence = text[sentence_start:sentence_end].strip()
    return Figure(
        indicator=indicator,
        value=span.value,
        value_text=value_text,
        unit=unit,
        qualifier=span.qualifier,
        kind=kind,
        year=year,
        period=period,
        redacted=span.value is None,
        sentence=sentence,
        start=span.start,
        end=span.end,
    )


def _kind(folded, span: _Span, clause_start, clause_end, sentence_start, context: PassageContext, unit: str) -> str:
    if index_form(unit).rstrip() in _PERCENT_UNITS or span.unit in _PERCENT_UNITS:
        return "rate"
    before = folded[clause_start : span.start]
    after = folded[span.end : clause_end]
    earlier = folded[sentence_start : span.start]
    fallback = _context_kind(context)
    decided = _decisive_cue(before) or _decisive_cue(earlier)
    if decided:
        return decided
    if _has_cue(before, _WEAK_ACHIEVED_CUES):  # 完成农村危房改造****户任务
        return "plan" if fallback == "plan" else "achieved"
    # After the figure, 目标 and 任务 are usually what it is measured against
    # ("超两倍完成年度考核任务"), not a sign of a plan.
    decided = _decisive_cue(after, plan_cues=_PLAN_CUES_AFTER)
    if decided:
        return decided
    if fallback != "plan" and _has_cue(after + earlier, _WEAK_ACHIEVED_CUES):
        return "achieved"
    return fallback


def _decisive_cue(scope: str, plan_cues: Sequence[str] = _PLAN_CUES) -> str | None:
    """Return plan or achieved from the plan and aspect cues of ``scope``, nearest to
    its end winning; None when it has neither."""
    plan = max(scope.rfind(cue) for cue in plan_cues)
    strong = max(scope.rfind(cue) for cue in _STRONG_ACHIEVED_CUES)
    if plan < 0 and strong < 0:
        return None
    return "plan" if plan > strong else "achieved"


def _has_cue(scope: str, cues: Sequence[str]) -> bool:
    return any(cue in scope for cue in cues)


def _context_kind(context: PassageContext) -> str:
    section = "\n".join(context.section)
    latest = max(context.doc_years) if context.doc_years else None
    if _REVIEW_SECTION.search(section):
        return "achieved"
    if _PLAN_SECTION.search(section) and (context.year is None or latest is None or context.year >= latest):
        return "plan"
    if context.year is not None and latest is not None and context.year < latest:
        return "achieved"
    return {"总结": "achieved", "计划": "plan"}.get(context.doc_kind, "other")


def _period(folded, start, sentence_start, context: PassageContext) -> tuple[int | None, str | None]:
    before = folded[sentence_start:start]
    years = YEAR_IN_TEXT.findall(before)
    year = int(years[-1]) if years else context.year
    parts = PART_OF_YEAR.findall(before) or [
        found for label in context.section for found in PART_OF_YEAR.findall(index_form(label))
    ]
    if year is None:
        return None, None
    return year, f"{year}年" + (parts[-1].replace(" ", "") if parts else "")


def _indicator(text, folded, span: _Span, previous_end, sentence_start, clause_end, pos, previous: str) -> str:
    boundary = max((m.end() for m in _LEFT_BOUNDARY.finditer(folded, 0, span.start)), default=0)
    left = text[max(sentence_start, previous_end, boundary) : span.start]
    qualifier = _PREFIX_QUALIFIER.search(index_form(left))
    if qualifier:
        left = left[: qualifier.start()]
    folded_left = index_form(left)
    if "等" in folded_left:
        cut = folded_left.rindex("等") + 1
        left, folded_left = left[cut:], folded_left[cut:]
    follows_previous = previous_end > boundary and previous_end > sentence_start
    if follows_previous and _TRANSITION.search(folded_left):
        return previous  # "由**%增加至**%": the same indicator
    sibling = follows_previous and folded_left[:1] in ("、", "和", "及")
    if follows_previous and "、" in folded_left:
        left = left[folded_left.rindex("、") + 1 :]  # "X个游园、面积XX平方米": 面积
    cleaned = _clean(left, pos)
    right = _noun_phrase(text[span.end : clause_end], pos)
    if right:
        return _cap(_trailing_verb(cleaned, pos) + right)
    if sibling and previous:
        # "老楼加装电梯新开工***部、完成***部": the subject carries over, the verb changes.
        verb = cleaned or _clean(re.sub(r"^[、和及]", "", left), pos, keep_cues=True)
        subject = previous[: len(previous) - len(_trailing_verb(previous, pos))]
        if subject and not _only_verbs(subject, pos) and verb and _only_verbs(verb, pos):
            return _cap(subject + verb)
    return _cap(cleaned) or previous


def _clean(phrase: str, pos, keep_cues: bool = False) -> str:
    """Drop context words around an indicator: times, cues, enumerators, redactions.

    With ``keep_cues`` only adverbs (已, 累计 …) go and verbs such as 完成 stay.
    """
    phrase = phrase.replace("*", "").replace("＊", "")
    lead = (_LEADING_ADVERBS if keep_cues else _LEADING_JUNK).match(index_form(phrase))
    phrase = phrase[lead.end() :] if lead else phrase
    pieces, position = [], 0
    for match in _INNER_JUNK.finditer(index_form(phrase)):
        pieces.append(phrase[position : match.start()])
        position = match.end()
    pieces.append(phrase[position:])
    words = [pair.word for pair in pos.cut("".join(pieces))]
    while words and (index_form(words[-1]).strip() in _TRAILING_WORDS or not words[-1].strip()):
        words.pop()
    return "".join(words).strip()


def _only_verbs(phrase: str, pos) -> bool:
    pairs = list(pos.cut(phrase)) if phrase else []
    return bool(pairs) and all(pair.flag.startswith("v") and pair.flag != "vn" for pair in pairs)


def _noun_phrase(phrase: str, pos) -> str:
    """Return the leading noun phrase of the text after a figure (老旧小区改造项目)."""
    words = []
    for pair in pos.cut(phrase):
        word, flag = pair.word, pair.flag
        if (flag.startswith(_RIGHT_STOP_FLAGS) and flag != "vn") or not re.search(r"[\u4e00-\u9fffA-Za-z]", word):
            break
        folded = index_form(word)
        if folded in ("的", "等", "均", "全部", "其中") or folded in _PLAN_CUES or folded in _STRONG_ACHIEVED_CUES:
            break
        words.append(word)
    return "".join(words)


def _trailing_verb(left: str, pos) -> str:
    """Return the action word that ends ``left`` (新开工, 发放, 拆除), or ""."""
    pairs = list(pos.cut(left)) if left else []
    if pairs and len(pairs[-1].word) >= 2 and (pairs[-1].flag.startswith("v") or pairs[-1].word.startswith("新")):
        return pairs[-1].word
    return ""


def _cap(phrase: str) -> str:
    phrase = phrase.strip(" ，,、：:（(")
    return phrase if len(phrase) <= INDICATOR_MAX_CHARS else phrase[-INDICATOR_MAX_CHARS:]


def normal_unit(unit: str) -> str:
    """Return a unit for matching: simplified, half-width brackets, 平方米 for ㎡/平米/m2.

    ``万套（间）`` -> ``万套(间)``; the written form stays the one shown to staff.
    """
    folded = index_form(unit)
    for spelling in ("㎡", "平米", "m2", "m²"):
        folded = folded.replace(spelling, "平方米")
    return folded.strip()


def base_quantity(value: float | None, unit: str) -> tuple[float | None, str]:
    """Return (value in the base unit, base unit without magnitude or bracket).

    ``(6.28, "亿元")`` -> ``(628000000.0, "元")``; ``(3.5, "万户")`` -> ``(35000.0, "户")``.
    """
    normal = re.sub(r"\(.*?\)$", "", normal_unit(unit))
    scale = {"万": 1e4, "亿": 1e8, "千": 1e3, "百": 1e2}
    if len(normal) > 1 and normal[0] in scale and normal[1:] not in ("分点",):
        return (None if value is None else value * scale[normal[0]]), normal[1:]
    return value, normal
