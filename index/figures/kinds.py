"""The kind of a figure: planned, achieved, a rate, or other — from its own clause first.

Order of evidence (the first that speaks decides):

1. the unit: a share or change (%, 个百分点, 成) is a rate;
2. the figure's own clause: what it counts and how — a standard (每, 标准, 不超过), a
   stock (现有, 共有, 总数), a duration or age, people taking part (参加, 邀请) are
   *other*; aspect and plan words next to it, the nearest winning (已, 累计, 共, 截至…,
   了 → achieved; 计划, 目标, 力争, 确保, 预计, 将, 要 → plan); a figure followed by
   "的(年度)任务" is the target it was measured against (plan); 去年/上年 or a year before
   the report's is an achievement;
3. the role of its section (回顾, 开展情况, 进展, 成效 → achieved; 下一步, 打算, 思路,
   安排, 目标 → plan), where verbs such as 完成 or 建成 alone name the kind of figure
   rather than say it was reached;
4. the document's kind (总结, 进展, 新闻, 讲话 → achieved; 计划 → plan).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.figures.units import base_quantity, is_rate
from index.text.periods import PREVIOUS_YEAR_WORDS

# Strong cues, read backwards from the figure within its clause (the nearest wins).
_PLAN_CUES = (
    "计划", "目标", "任务", "力争", "确保", "拟", "预计", "争取", "将", "要", "应", "需", "需要", "年内", "年底前",
    "明年", "今后", "承诺", "准备", "谋划", "安排", "总投资", "剩余", "尚未", "还需", "可", "可以",
)  # fmt: skip
_ACHIEVED_CUES = (
    "已经", "已", "已有", "累计", "共计", "合计", "共", "实际", "超额", "截至", "截止", "目前", "达到了", "了",
    "争取到",
)  # fmt: skip
# "超出计划一千余公里", "完成年度任务的": a comparison with the plan states a result.
_AGAINST_PLAN = re.compile(r"(?:超出|超过|超额完成|高于|低于|比|完成)(?:年度|全年)?(?:计划|目标|任务)$")
# Verbs that name what was done; they say "achieved" only where the section or the
# document does not speak of plans.
_DONE_VERBS = (
    "完成", "实现", "建成", "完工", "竣工", "办结", "创成", "达到", "新增", "新建", "发放", "排查", "拆除",
    "处置", "整治", "改造", "开工", "筹集", "投入", "争取到", "受理", "办理", "查处", "下发", "生产", "销售",
    "开展", "检查", "出动", "召开", "举办", "培训", "实施", "部署", "发现", "处罚", "下达", "立案", "通报",
)  # fmt: skip
# "X的年度任务": X is the target an achievement is measured against.
# "完成1200户危房改造任务" (no 的, no 年度) names the task it completed: not a target.
# A list of figures before it shares it: "超额完成5套、2套(间)的年度任务".
_TARGET_AFTER = re.compile(
    r"^(?:以上|以下|左右)?(?:[、和及与][^,，;；。、]{1,12}?)*"
    r"(?:的(?:年度|全年|年)?|(?:年度|全年))[\u4e00-\u9fff]{0,4}?(?:任务|计划|目标)"
)
# "完成全年15万套筹集任务的71%": the year's task named around the figure.
_YEAR_TASK_BEFORE = re.compile(r"(?:年度|全年)$")
_TASK_AFTER = re.compile(r"^[^,，;；。、]{0,6}?(?:任务|计划|目标)")
_STANDARD = re.compile(r"每|标准|不超过|不得|限制|上限|门槛|周期")
_STOCK = re.compile(r"现有|共有|拥有|总数|总计有|存量|户籍|常住|人口")
# What is under way or on the books (在建工程12个) is a stock unless the clause counts
# work done on it (共检查在建工地30个次).
_CURRENT = re.compile(r"在建|在施|在册|在管")
# "全市1101栋C级、D级自住型自建房中，": the base a later figure is part of.
_BASE_SET = re.compile(r"^[^,，;；。]{0,24}中(?:[,，]|$)")
_BUDGET = re.compile(r"(?:总投资|计划投资|概算|预算)(?:为|约|达)?$")
_RULES = re.compile(r"机制|规定|制度|要求|标准|办法|一律")
_TAKING_PART = re.compile(r"参加|参会|出席|列席|邀请|参与|到会|与会|作为|名列")
_OTHER_UNITS = ("年", "岁", "层", "天", "个月")
# Taking part counts people (邀请了3名专家); events taking place (参加发布会5场) are counted work.
_PEOPLE_UNITS = ("人", "名", "位", "人次", "万人", "万人次")
_PLACE_COUNT = re.compile(r"^个?(?:省份|省|城市|地市|市|县|区|乡镇|街道|镇|村|社区)(?:[(（、,，的]|$)")
_REVIEW_SECTION = re.compile(r"回顾|总结|成绩|亮点|做法|完成情况|开展情况|工作情况|进展|成效|取得|主要工作")
_MET_SECTION = re.compile(r"完成|超额|已|实现")
_PLAN_SECTION = re.compile(r"计划|思路|打算|安排|重点工作|目标|任务|下一步|部署|要点|举措")
_TIME_WORD = re.compile(r"年底|年末|年中|月底|\d|[一二三四五六七八九十]+月|本年|今年|明年|20")
KIND_BY_DOCUMENT = {"总结": "achieved", "进展": "achieved", "新闻": "achieved", "讲话": "achieved", "计划": "plan"}


@dataclass(frozen=True)
class KindContext:
    """What surrounds a figure, as the kind rules read it (all index form).

    Attributes:
        before: its clause up to the figure; after: its clause after the figure.
        sentence_before: its sentence up to the figure.
        before_words, sentence_words, after_words: ``before``, ``sentence_before`` and
            ``after`` cut into words (one-character cues such as 已, 共, 要, 了 count only
            as words of their own: not in 公共, 主要, 了解).
        own_before: ``before`` from the end of the previous figure of the clause, so that
            what describes that figure (现有47座) does not describe this one.
        after_comma: the text after the figure up to the next comma (a list's 、 included).
        section: the heading path, joined.
        year, report_year: the year the figure is about and the report's own year.
        latest_year: the last year the report covers (a summary's plan year).
        doc_kind: 总结/计划/讲话/进展/新闻/其他.
    """

    before: str
    after: str
    sentence_before: str
    before_words: tuple[str, ...]
    sentence_words: tuple[str, ...]
    section: str
    year: int | None
    report_year: int | None
    doc_kind: str
    own_before: str = ""
    after_words: tuple[str, ...] = ()
    after_comma: str = ""
    latest_year: int | None = None


def figure_kind(unit: str, qualifier: str | None, context: KindContext) -> str:
    """Return plan, achieved, rate or other for a figure (see the module docstring)."""
    if is_rate(unit):
        return "rate"
    base = base_quantity(None, unit)[1]
    before, after, own = context.before, context.after, context.own_before or context.before
    year_task = _YEAR_TASK_BEFORE.search(own) and _TASK_AFTER.match(after)
    if _TARGET_AFTER.match(context.after_comma or after) or year_task or _BUDGET.search(own):
        return "plan"
    if _PLACE_COUNT.match(after):
        return "other"  # 7个街道 (the places the work covers)
    after_cue = _first_cue(context.after_words)
    if after_cue:
        return after_cue  # "…210个项目改造后将实施…", "…9个老旧小区…项目已全面完工"
    if base in _OTHER_UNITS or qualifier == "不超过" or _STANDARD.search(own):
        return "other"
    if qualifier in ("不少于", "至少") and _RULES.search(context.sentence_before):
        return "other"  # a rule: 集中抽查不少于2次
    current = _CURRENT.search(own) and not _nearest_cue(context.before_words)
    stock = _STOCK.search(own) or current or context.before_words[-2:].count("有")
    people = base in _PEOPLE_UNITS or unit in _PEOPLE_UNITS
    described = (people and _TAKING_PART.search(own + after[:6])) or _PLACE_COUNT.match(after)
    if stock or _BASE_SET.match(context.after_comma) or described:
        return "other"
    if _AGAINST_PLAN.search(before):
        return "achieved"
    cue = _nearest_cue(context.before_words) or _nearest_cue(context.sentence_words)
    if cue:
        return cue
    if PREVIOUS_YEAR_WORDS.search(context.sentence_before):
        return "achieved"
    latest = max(filter(None, (context.report_year, context.latest_year)), default=None)
    if context.year is not None and latest is not None and context.year < latest:
        return "achieved"  # a year before the last one the report covers: its review part
    role = section_role(context.section)
    if role:
        return role
    fallback = KIND_BY_DOCUMENT.get(context.doc_kind)
    if fallback:
        return fallback
    return "achieved" if any(verb in context.sentence_before for verb in _DONE_VERBS) else "other"


def section_role(section: str) -> str | None:
    """Return achieved or plan from the wording of a heading path, or None: a heading
    that says a target was met (超额完成年度目标) speaks of results."""
    if _MET_SECTION.search(section):
        return "achieved"
    review = [m.end() for m in _REVIEW_SECTION.finditer(section)]
    plan = [m.end() for m in _PLAN_SECTION.finditer(section)]
    if not review and not plan:
        return None
    return "achieved" if max(review, default=-1) > max(plan, default=-1) else "plan"


def _nearest_cue(words: tuple[str, ...]) -> str | None:
    """Return plan or achieved from the strong cues among ``words``, the last winning; a
    verb with 到 after it (争取到, 达到) has reached its object."""
    for position in range(len(words) - 1, -1, -1):
        cue = _cue(words[position])
        reached = words[position + 1 : position + 2] == ("到",)
        # 争取到 is done; 力争到年底 is a deadline.
        if cue == "plan" and reached and not _TIME_WORD.match("".join(words[position + 2 : position + 4])):
            return "achieved"
        if cue:
            return cue
    return None


def _first_cue(words: tuple[str, ...]) -> str | None:
    """Return plan or achieved from the first aspect word after a figure (将, 已), or None."""
    for word in words:
        if word in ("将", "将要", "拟"):
            return "plan"
        if word in ("已", "已经"):
            return "achieved"
    return None


def _cue(word: str) -> str | None:
    if word in _ACHIEVED_CUES:
        return "achieved"  # exact words first: 争取到 is done, 争取 is not
    if _is_cue(word, _PLAN_CUES):
        return "plan"
    if _is_cue(word, _ACHIEVED_CUES):
        return "achieved"
    return None


def _is_cue(word: str, cues: tuple[str, ...]) -> bool:
    return any(word == cue or (len(cue) > 1 and cue in word) for cue in cues)
