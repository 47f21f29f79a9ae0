"""What a report is: its title, place, the year and period it reports on, and its kind.

Inferred from the text alone (the file name is shown only when the text gives nothing):

- title: the line among the first ones that reads as a title — it names the work, the
  body, the place or the period and has a heading's shape — rather than web-page
  clutter (banners, menus, breadcrumbs, contact and date lines, bylines, document
  numbers), which is judged by its shape, not by a list of strings; a Word document's
  Title style wins; with no such line, one is composed from issuer, year, period and
  kind ("某县住建局2024年上半年工作总结");
- place: the issuing body's place (see :func:`infer_place`);
- year: the year reported on, not the publication date or a next year's plan; a summary
  with next year's plan covers both (``years``);
- kind: 总结, 计划, 讲话, 进展 (a progress report or notice) or 新闻 (a news report).

All functions are pure and take display paragraphs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from index.ingest.headings import starts_with_heading
from index.text.normalize import index_form
from index.text.periods import (
    CURRENT_YEAR_WORDS,
    PART_OF_YEAR,
    PREVIOUS_YEAR_WORDS,
    SEVERAL_YEARS,
    YEAR_IN_TEXT,
    years_in,
)
from index.text.places import LEVEL_OF_SUFFIX, NATIONAL, gazetteer

TITLE_SEARCH_LINES = 10
TITLE_MIN_CHARS, TITLE_MAX_CHARS = 6, 70
_SALUTATION = re.compile(r"^(?:同志们|各位|尊敬的)")
_TITLE_LABEL = re.compile(r"^(?:标题|题目|主题|文章标题)\s*[:：]\s*")
_LABEL_LINE = re.compile(r"^[\u4e00-\u9fff\s]{1,7}[:：]")
_DATE_TIME = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}|\d{1,2}:\d{2}|〔\d{4}年\d{1,2}月\d{1,2}日〕")
_DOCUMENT_NUMBER = re.compile(r"[〔\[(]\d{4}[〕\])]\s*\d+\s*号")
_URL = re.compile(r"https?://|www\.|\.com|\.cn|@\w")
_BULLET = re.compile(r"^[•·●▪■◆◇○►▶→\-—*]")
_BYLINE = re.compile(
    r"^(?:本报|本网|记者|通讯员|编辑|作者|来源|责任编辑|摄影|文/|图/)|[\u4e00-\u9fff]{2,}记者\s|通讯员"
)
_SENTENCE_END = re.compile(r"[。；;]$")
_CAPTION = re.compile(r"^图[为:：]|摄\s*[)）]?$|[(（](?:记者|摄影|通讯员)")
# What a title names: the work and the field, the body, the period (any one scores).
_WORK_WORDS = re.compile(
    r"工作|总结|计划|报告|汇报|讲话|会议|综述|通报|进展|情况|安排|要点|思路|方案|部署|推进|召开|发布|答卷|任务|"
    r"住房|住建|城乡|建设|城市|城镇|管理|改造|整治|排查|工程|保障|燃气|小区|棚改|棚户区|电梯|项目|安全|环卫|垃圾|"
    r"民生|市政|物业|房地产|建筑"
)
_BODY_WORDS = re.compile(r"局|厅|委|住建|政府|部门|系统|中心|办公室")
_BUREAU = re.compile(
    r"(?:住房和城乡建设|住房城乡建设|城乡建设)(?:局|厅|委员会|委)|住建(?:局|厅|委)|建设局|城市管理局|城管局|"
    r"城市管理综合执法局|房管局|房管中心|人民政府|政府"
)
_SELF_REFERENCE = re.compile(r"(?:我|本)(省|州|市|县|区)")
_AREA = re.compile(r"全(省|州|市|县|区)")
_PROVINCE_LEVEL = {"自治区": "省"}
_LEVEL_BUREAU = re.compile(
    r"(?<![\u4e00-\u9fff])(自治区|省|州|市|县|区)(?:住建|住房|建设局|城管局|城市管理局|政府|委员会)"
    r"|^(自治区|省|州|市|县|区)(?:住建|住房|建设|城管)"
)
OPENING_CHARS = 300
_NUMBER_YEAR = re.compile(r"〔((?:19|20)\d{2})〕")
# "2000年底前建成的老旧小区": a building's vintage, not a year the report covers.
_VINTAGE = re.compile(r"((?:19|20)\d{2})年(?:底)?(?:以)?前(?:建成|建设|竣工|交付|建造)")
# Five-year plans: 十一五 = 2006–2010, each next one five years on (十三五 = 2016–2020).
_FIVE_YEAR_PLAN = re.compile(r"十([一二三四五])五")
_PLAN_NUMBER = {"一": 11, "二": 12, "三": 13, "四": 14, "五": 15}
_NATIONAL_BODY = re.compile(r"住房和城乡建设部|住房城乡建设部|住建部|国务院")
# Who published the page: "来源：常德晚报", "（来源：山亭住建视窗）", "本报讯（大连新闻传媒集团记者".
_SOURCE = re.compile(
    r"(?:来源[:：]\s*|本报讯\s*[(（]\s*)([\u4e00-\u9fff]{2,8}?)(?:住建|住房|建设|城管|日报|晚报|新闻|视窗|发布|报|网)"
)
_PUBLISHED = re.compile(r"(?:(?:发布|更新)(?:日期|时间)[:：]\s*)?((?:19|20)\d{2})[-/.年]\d{1,2}[-/.月]\d{1,2}")

KINDS = ("总结", "计划", "讲话", "进展", "新闻", "其他")
GENRE_OF_KIND = {"总结": "工作总结", "计划": "工作计划", "讲话": "讲话", "进展": "工作进展", "新闻": "工作动态"}
_KIND_CUES = {
    "总结": r"总结|回顾|综述|成效|成绩|答卷|亮点|取得|做法|履职|完成情况|工作情况|开展情况|"
    r"完成[^，。；]{0,6}任务|累计|期间",
    "计划": r"计划|思路|打算|安排|部署|要点",
    "进展": r"进展|进度|通报|截至|前三季度|季度|[一1][-—~至][一二三四五六七八九十\d]{1,2}月|已排查",
    "新闻": r"召开|会议|记者|本报讯|讯[（(]|发布会|推进会|获悉|了解到",
}


@dataclass(frozen=True)
class DocumentFacts:
    """What a report is (see the module docstring).

    Attributes:
        title: the title as staff should read it; title_from: "text", "style" (Word's
            Title or first Heading), "composed" or "file".
        skip: leading paragraphs that are not body text (clutter, title, date lines).
        place: the issuing body's place (浈江区, 山东省, 全国), or None.
        level: 省/州/市/县/区/国, or None.
        year: the year reported on; years: every year the report covers, ascending.
        period: the part of ``year`` it reports on (上半年, 前三季度, 1-6月), or None.
        kind: one of ``KINDS``.
    """

    title: str
    title_from: str
    skip: int
    place: str | None
    level: str | None
    year: int | None
    years: tuple[int, ...]
    period: str | None
    kind: str


def infer_facts(paragraphs: Sequence[str], file_stem: str, style_title: str | None = None) -> DocumentFacts:
    """Return what a report is, from its display paragraphs.

    Args:
        paragraphs: the report's non-empty display lines, in order.
        file_stem: the file name without extension (shown only when the text gives nothing).
        style_title: the Word Title (or first Heading) paragraph of a .docx, if any.
    """
    title_index, title = find_title(paragraphs)
    if style_title and style_title.strip():
        title = style_title.strip()
        leading = paragraphs[:TITLE_SEARCH_LINES]
        title_index = next((i for i, p in enumerate(leading) if p.strip() == title), title_index)
    skip = _body_start(paragraphs, title_index)
    body = paragraphs[skip:]
    opening = "\n".join(body[:3])
    headings = [p for p in body if starts_with_heading(p) and len(p) <= 60]
    published = _published_year(paragraphs[: skip + 2])
    text = "\n".join(paragraphs)
    kind = document_kind(title, headings, opening, published is not None or bool(_BYLINE.search(opening)))
    year, years = report_years(title, headings, opening, published, kind, text)
    period = _period(title, opening, headings)
    place, level = infer_place(title, text)
    title_from = "style" if style_title and style_title.strip() else "text"
    if title is None:
        title, title_from = compose_title(place, level, text, year, period, kind), "composed"
    if not title:
        title, title_from = file_stem, "file"
    return DocumentFacts(title, title_from, skip, place, level, year, years, period, kind)


def find_title(paragraphs: Sequence[str]) -> tuple[int, str | None]:
    """Return (index, title) of the line among the first ones that reads as a title,
    or (-1, None); a label such as 标题： is dropped from it."""
    best: tuple[float, int, str] | None = None
    for number, line in enumerate(paragraphs[:TITLE_SEARCH_LINES]):
        folded = index_form(line.strip())
        if number and (starts_with_heading(folded) or (len(folded) > 60 and _SENTENCE_END.search(folded))):
            break  # the body has begun
        label = _TITLE_LABEL.match(folded)
        candidate = line.strip()[label.end() :] if label else line.strip()
        score = title_score(candidate)
        if score > 0 and (best is None or score > best[0] + 1):
            best = (score, number, candidate)
    return (best[1], best[2]) if best else (-1, None)


def title_score(line: str) -> float:
    """Return how much a line reads as a report's title (0: it does not).

    A title is a line of heading length, mostly Chinese, without a sentence's end,
    that names the work, the body, the place or the period; a line with the shape of
    page furniture (links, bullets, breadcrumbs, labels such as 来源：, dates and times,
    document numbers, bylines, phone numbers) is not one.
    """
    folded = index_form(line)
    chinese = len(re.findall(r"[\u4e00-\u9fff]", folded))
    letters = len(re.sub(r"[\d\s%.]", "", folded))
    if not TITLE_MIN_CHARS <= len(folded) <= TITLE_MAX_CHARS or chinese < 0.6 * letters:
        return 0.0
    if _SENTENCE_END.search(folded) or _SALUTATION.match(folded) or starts_with_heading(folded):
        return 0.0
    if _URL.search(folded) or _BULLET.match(folded) or ">" in folded or "|" in folded:
        return 0.0
    label = _LABEL_LINE.match(folded)
    key = label.group()[:-1].strip() if label else ""
    if label and not _WORK_WORDS.search(key) and not gazetteer().short.get(key) and key not in gazetteer().full:
        return 0.0  # 来源：…, 当前位置：… (not 五年答卷：… or 河北：…)
    if _DATE_TIME.search(folded) or _DOCUMENT_NUMBER.search(folded):
        return 0.0
    numbers = YEAR_IN_TEXT.sub("", folded)  # a year is part of a title; phone numbers are not
    if _BYLINE.search(folded) or sum(ch.isdigit() for ch in numbers) > 0.25 * len(folded):
        return 0.0
    work = len(set(_WORK_WORDS.findall(folded)))
    if not work:
        return 0.0
    score = work + 2 * bool(_BODY_WORDS.search(folded)) + 2 * bool(YEAR_IN_TEXT.search(folded))
    score += 2 * bool(gazetteer().names_in(folded) or gazetteer().short_names_in(folded))
    return score + (1 if folded.count("，") == 0 else 0)


def _body_start(paragraphs: Sequence[str], title_index: int) -> int:
    """Skip the title and the page furniture around it (date, source and byline lines)."""
    start = title_index + 1
    while start < min(len(paragraphs), title_index + 4) and _furniture(paragraphs[start]):
        start += 1
    if title_index < 0:
        return 0
    return start


def _furniture(line: str) -> bool:
    folded = index_form(line.strip())
    if len(folded) > 60:
        return False
    return bool(
        _CAPTION.search(folded)
        or _LABEL_LINE.match(folded)
        or _DATE_TIME.search(folded)
        or _BYLINE.search(folded)
        or _URL.search(folded)
        or "|" in folded
        or re.fullmatch(r"[\d\s\-—()（）]+", folded)
    )


def _published_year(lines: Sequence[str]) -> int | None:
    for line in lines:
        found = _PUBLISHED.search(index_form(line))
        if found:
            return int(found.group(1))
    return None


def report_years(
    title: str | None, headings: Sequence[str], opening: str, published: int | None, kind: str, text: str = ""
) -> tuple[int | None, tuple[int, ...]]:
    """Return (the year reported on, every year covered).

    The title's first year decides (or its 今年/去年 with the publication date), then
    the publication date of a news page, then the years the headings and opening name
    (the whole text, document numbers included, when they name none): a summary reports
    on the earliest (its next year's plan comes after it), a plan, a speech or a news
    report on the latest, anything else on the most named. Years after the publication's
    next year are targets, not years covered.
    """
    folded_title = index_form(title or "")
    title_years = [int(y) for y in YEAR_IN_TEXT.findall(folded_title)]
    plan = _FIVE_YEAR_PLAN.search(folded_title)
    if plan and not title_years:  # "广西“十三五”期间累计改造…": the plan's five years, reported at its end
        first = 2006 + 5 * (_PLAN_NUMBER[plan.group(1)] - 11)
        title_years = [first + 4, *range(first, first + 4)]
    mentioned = _years_named(index_form("\n".join([*headings, opening])))
    if not mentioned:
        folded = index_form(text)
        mentioned = _years_named(folded) + Counter(int(y) for y in _NUMBER_YEAR.findall(folded))
    if published is not None:
        mentioned = Counter({y: n for y, n in mentioned.items() if y <= published + 1})
    if title_years:
        year = title_years[0]
    elif published is not None and PREVIOUS_YEAR_WORDS.search(folded_title):
        year = published - 1
    elif published is not None:
        year = published
    elif not mentioned or covers_several_years(folded_title):
        year = None
    elif kind == "总结":
        year = min(mentioned)
    elif kind in ("计划", "讲话", "新闻"):
        year = max(mentioned)
    else:
        year = max(mentioned.items(), key=lambda item: (item[1], item[0]))[0]
    covered = set(title_years) | set(mentioned) | ({year} if year else set())
    return year, tuple(sorted(covered))


def _years_named(folded: str) -> Counter[int]:
    """Count the years written in ``folded`` (YYYY年), leaving out buildings' vintages."""
    vintages = {match.start(1) for match in _VINTAGE.finditer(folded)}
    return Counter(int(m.group(1)) for m in YEAR_IN_TEXT.finditer(folded) if m.start(1) not in vintages)


def _period(title: str | None, opening: str, headings: Sequence[str]) -> str | None:
    for text in (title or "", *headings[:2], opening[:80]):
        found = PART_OF_YEAR.search(index_form(text))
        if found:
            return found.group().replace(" ", "")
    return None


def document_kind(title: str | None, headings: Sequence[str], opening: str, is_news: bool) -> str:
    """Return 总结, 计划, 讲话, 进展, 新闻 or 其他.

    A salutation (同志们) or 讲话/致辞 in the title makes a speech. Otherwise cue words
    of each kind are counted in the title (three times), the top-level headings (twice)
    and the opening; a news page with no stronger cue is 新闻.
    """
    folded_title = index_form(title or "")
    if re.search("讲话|致辞", folded_title) or _SALUTATION.match(index_form(opening)):
        return "讲话"
    scores = Counter()
    for text, weight in ((folded_title, 3), (index_form("\n".join(headings)), 2), (index_form(opening[:200]), 1)):
        for kind, cue in _KIND_CUES.items():
            scores[kind] += weight * len(re.findall(cue, text))
    if is_news:
        scores["新闻"] += 2
    if not scores or max(scores.values()) == 0:
        return "其他"
    return max(KINDS[:-1], key=lambda kind: (scores[kind], -KINDS.index(kind)))


def infer_place(title: str | None, text: str) -> tuple[str | None, str | None]:
    """Return (place, level) of the issuing body.

    The level comes first: a title naming its body (区住建局…), then how the text
    speaks of itself (我市, 本县 weigh more than 全市). Places of that level (any level
    when none is known) score by evidence: named in the title; named with a bureau or
    government (浈江区住建局); named in the opening; the local paper a news page cites
    (来源：常德晚报) or its own channel (来源：山亭住建视窗); each mention. A report about
    the nation (住房和城乡建设部 in its opening, 全国, 各地) is 全国 unless a place has
    stronger evidence.
    """
    names = gazetteer()
    folded_title = index_form(title or "")
    folded = index_form(text)
    level = report_level(folded_title, folded)
    mentions = names.names_in(folded)
    # When the text names no place of its own level, every place it names may be the one.
    level_filter = level if any(names.level(name) == level for _, name in mentions) else None
    scores: Counter[str] = Counter()
    for _, name in names.names_in(folded_title):
        scores[name] += 6
    for start, short in names.short_names_in(folded_title):
        scores[_named(names, folded_title, start, short)] += 5  # 山东发布…, 一季度青岛处置…
    for start, name in mentions:
        if level_filter and names.level(name) != level_filter:
            continue
        scores[name] += 1 + 3 * bool(_BUREAU.match(folded, start + len(name))) + 2 * (start < OPENING_CHARS)
    for source in _SOURCE.findall(folded):
        if source in names.short:
            full = names.expand(source)
        else:  # 山亭 -> 山亭区: only a place of the report's own level (新华网 is no 新华区)
            full = next(
                (n for n in names.full if n.startswith(source) and len(n) == len(source) + 1
                 and (level is None or names.level(n) == level)),
                None,
            )  # fmt: skip
        if full:
            scores[full] += 3
    national = 4 * bool(_NATIONAL_BODY.search(folded[:OPENING_CHARS])) + min(4, folded.count(NATIONAL))
    national += 2 * ("各地" in folded[:OPENING_CHARS])
    best = max(scores, key=lambda name: (scores[name], len(name))) if scores else None
    if national >= 5 and (best is None or scores[best] < national) and not _SELF_REFERENCE.search(folded):
        return NATIONAL, "国"
    if best is None:
        return None, level
    return best, names.level(best) or LEVEL_OF_SUFFIX.get(best[-1], level)


def _named(names, folded: str, start: int, short: str) -> str:
    """The place a short name stands for: with the suffix the text writes after it
    (江城市, even when the dictionary only knows a 江城区), else its usual full name."""
    suffix = folded[start + len(short) : start + len(short) + 1]
    return short + suffix if suffix in ("省", "市", "县", "区", "州") else names.expand(short)


def report_level(folded_title: str, folded: str) -> str | None:
    """Return 省/州/市/县/区 of the body that issued a report, or None.

    A title that names its body (区住建局…) decides; otherwise self-references (我区, 本市,
    区住建局: three each) outweigh area words (全区: one each).
    """
    named = _LEVEL_BUREAU.search(folded_title)
    if named:
        return _PROVINCE_LEVEL.get(named.group(1) or named.group(2), named.group(1) or named.group(2))
    votes: Counter[str] = Counter()
    for found in _SELF_REFERENCE.findall(folded):
        votes[found] += 3
    for found in _LEVEL_BUREAU.finditer(folded):
        level = found.group(1) or found.group(2)
        votes[_PROVINCE_LEVEL.get(level, level)] += 3
    for found in _AREA.findall(folded):
        votes[found] += 1
    return votes.most_common(1)[0][0] if votes else None


def compose_title(
    place: str | None, level: str | None, text: str, year: int | None, period: str | None, kind: str
) -> str:
    """Return a title made of what the text says: issuer, year, period and kind
    ("平阳县住建局2021年工作总结", "某县住建局2024年上半年工作总结"); "" when the text
    names neither issuer nor year."""
    folded = index_form(text)
    bureau = Counter(m.group() for m in _BUREAU.finditer(folded) if m.group() not in ("政府", "人民政府"))
    issuer = bureau.most_common(1)[0][0] if bureau else ""
    if place and place != NATIONAL:
        issuer = place + issuer.removeprefix(place)
    elif level:
        issuer = f"某{level}" + issuer
    if not issuer and year is None:
        return ""
    when = f"{year}年" if year else ""
    return f"{issuer}{when}{period or ''}{GENRE_OF_KIND.get(kind, '工作报告')}"


def passage_year(section: Sequence[str], report_year: int | None) -> int | None:
    """Return the year a passage is about.

    The innermost heading that names a year decides ("二、2022年重点工作" -> 2022); a
    heading that says 今年/下半年 means the report's year and 去年 the one before;
    otherwise the report's year. None when the report names no year at all.
    """
    for label in reversed(section):
        named = years_in(label)
        if named:
            return named[-1]
        if report_year is not None and CURRENT_YEAR_WORDS.search(label):
            return report_year
        if report_year is not None and PREVIOUS_YEAR_WORDS.search(label):
            return report_year - 1
    return report_year


def covers_several_years(title: str | None) -> bool:
    """Whether a title speaks of several years at once (十四五, 五年答卷)."""
    return bool(SEVERAL_YEARS.search(index_form(title or "")))
