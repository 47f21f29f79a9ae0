"""Render replies as Telegram HTML, and as plain text for the console.

One set of functions serves both front ends: the console chat prints
``html_to_text(render_...(...))``, so staff see the same words in either.
Everything taken from reports or users is escaped; only the tags written here
(<b>, <i>) reach Telegram.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from html.parser import HTMLParser

from index.ledger import PlanAchievedPair, TargetRecord
from index.models import SECTION_SEPARATOR
from index.normalize import index_form
from index.search import SearchHit
from index.targets import KIND_LABELS

TELEGRAM_TEXT_LIMIT = 4096
LABEL_MAX_CHARS = 24
QUESTION_ECHO_CHARS = 40
_BOUNDARIES = "。；！？，、;!?,"
_PREFIX_QUALIFIERS = ("约", "近", "逾", "超", "超过", "超出", "不少于", "不低于", "不超过", "至少", "高于", "低于")
_SUFFIX_QUALIFIERS = ("以上", "以下", "以内", "左右")
SNAP_CHARS = 30

HELP_TEXT = (
    "<b>住建报告问答助手</b>\n"
    "我会在局里的工作总结、工作计划和会议讲话中查找与您问题最相关的段落，"
    "并注明出处（文件、年份、章节）。\n\n"
    "直接发送问题即可，例如：\n"
    "• 加装电梯累计完成了多少台？\n"
    "• 保租房今年筹集了多少套？\n\n"
    "命令：\n"
    "/ask 问题 — 提问（群聊中使用）\n"
    "/target 关键词 — 查数字和目标，可加年份或“计划”“完成”，如 /target 加装电梯 2022（简写 /t）\n"
    "/help — 查看本说明"
)

REDACTED_MARK = "（原文数字已脱敏）"
TARGET_LIST_LIMIT = 10
FIGURES_BLOCK_LIMIT = 3
SOURCE_TITLE_CHARS = 16
TARGET_USAGE_TEXT = "请在命令后写上要查的指标，例如：/target 加装电梯 或 /t 保租房 2022"
UNKNOWN_COMMAND_TEXT = "没有这个命令。直接发送问题即可提问，发送 /help 查看用法。"
EMPTY_QUESTION_TEXT = "请在命令后写上问题，例如：/ask 加装电梯完成了多少台"


def render_help() -> str:
    """Return the /start and /help text (HTML)."""
    return HELP_TEXT


def render_answer(
    question: str,
    hits: Sequence[SearchHit],
    excerpt_chars: int = 220,
    figures: Sequence[TargetRecord] = (),
) -> str:
    """Return the reply to a question (HTML): figures, then the passages best first.

    Args:
        question: the staff member's question, as typed.
        hits: ranked passages; empty means nothing relevant was found.
        excerpt_chars: passages longer than this are trimmed around the matched words.
        figures: targets from the ledger answering a number question, shown first.

    The result stays under Telegram's 4096-character limit for up to 10 hits.
    """
    if not hits and not figures:
        return render_no_answer(question)
    blocks = [render_figures_block(figures)] if figures else []
    blocks += [_render_hit(hit, excerpt_chars) for hit in hits]
    return _fit("\n\n".join(blocks))


def format_figure(record: TargetRecord) -> str:
    """Return a figure as staff read it: qualifier, number, unit; a redacted number is
    marked ``（原文数字已脱敏）`` rather than hidden. Plain text (not escaped)."""
    before = record.qualifier if record.qualifier in _PREFIX_QUALIFIERS else ""
    after = record.qualifier if record.qualifier in _SUFFIX_QUALIFIERS else ""
    figure = f"{before}{record.value_text}{record.unit}{after}"
    return figure + REDACTED_MARK if record.redacted else figure


def render_target_line(record: TargetRecord) -> str:
    """Return one target as a compact line (HTML): indicator · figure · kind · period · source."""
    source = _shorten(record.doc_title, SOURCE_TITLE_CHARS)
    parts = [
        f"<b>{html.escape(record.indicator or '（未识别指标）')}</b>",
        html.escape(format_figure(record)),
        KIND_LABELS[record.kind],
        html.escape(record.period or "年份不详"),
        f"《{html.escape(source)}》",
    ]
    return " · ".join(parts)


def render_figures_block(records: Sequence[TargetRecord]) -> str:
    """Return the short "figures" block shown above passages (HTML)."""
    lines = ["📊 <b>相关数字</b>"] + [f"• {render_target_line(r)}" for r in records[:FIGURES_BLOCK_LIMIT]]
    return "\n".join(lines)


def render_targets(keyword: str, records: Sequence[TargetRecord], pairs: Sequence[PlanAchievedPair] = ()) -> str:
    """Return the /target reply (HTML): plan-versus-achieved pairs, then up to ten
    targets best first, and how many more there are."""
    echo = html.escape(_shorten(keyword.strip(), QUESTION_ECHO_CHARS))
    if not records:
        return (
            f"没有找到与“{echo}”相关的数字。\n"
            "可以换个说法（如“保障性租赁住房”“加装电梯”），去掉年份或“计划”“完成”再试，或直接提问。"
        )
    blocks = []
    if pairs:
        blocks.append("\n".join(["<b>计划与完成对照</b>", *(f"• {_render_pair(p)}" for p in pairs[:5])]))
    shown = records[:TARGET_LIST_LIMIT]
    lines = [f"<b>“{echo}”的数字</b>（共 {len(records)} 条）"]
    lines += [f"{n}. {render_target_line(r)}" for n, r in enumerate(shown, start=1)]
    if len(records) > len(shown):
        lines.append(
            f"还有 {len(records) - len(shown)} 条未显示。可加上年份或“计划”“完成”缩小范围，例如 /target {echo} 2022"
        )
    blocks.append("\n".join(lines))
    return _fit("\n\n".join(blocks))


def _render_pair(pair: PlanAchievedPair) -> str:
    plan, achieved = pair.plan, pair.achieved
    verdict = {True: "✅ 已达成", False: "⚠️ 未达成", None: "（数字不全，无法比较）"}[pair.met]
    return (
        f"<b>{html.escape(achieved.indicator or plan.indicator)}</b> · {plan.year}年："
        f"计划 {html.escape(format_figure(plan))}（《{html.escape(_shorten(plan.doc_title, SOURCE_TITLE_CHARS))}》）"
        f" → 完成 {html.escape(format_figure(achieved))}"
        f"（《{html.escape(_shorten(achieved.doc_title, SOURCE_TITLE_CHARS))}》） {verdict}"
    )


def render_no_answer(question: str) -> str:
    """Return the honest "nothing found" reply (HTML)."""
    echo = html.escape(_shorten(question.strip(), QUESTION_ECHO_CHARS))
    return (
        f"没有在报告中找到与“{echo}”相关的内容。\n"
        "可以换个说法再问，尽量使用报告中的用语（如“保障性租赁住房”“老旧小区改造”），"
        "或发送 /help 查看示例。"
    )


def citation(doc_title: str, year: int | None, section: str, text: str) -> str:
    """Return the citation lines of a passage (HTML): document and year, then section.

    The last heading is left out when the passage itself starts with it (an item
    lead such as "一是物业管理落地见效"), and long headings are shortened.
    """
    labels = [label for label in section.split(SECTION_SEPARATOR) if label]
    if labels and text.startswith(labels[-1]):
        labels.pop()
    head = f"《{html.escape(doc_title)}》" + (f" · {year}年" if year else "")
    if not labels:
        return head
    path = SECTION_SEPARATOR.join(_shorten(label, LABEL_MAX_CHARS) for label in labels)
    return f"{head}\n<i>{html.escape(path)}</i>"


def highlight(text: str, terms: Sequence[str]) -> str:
    """Return ``text`` escaped for HTML with every occurrence of ``terms`` in bold.

    Matching is on the index form (simplified, half-width, lower-case), so a term
    finds its traditional or full-width spelling too. Single characters are not
    highlighted (they would bold half the passage).
    """
    bold = _term_mask(text, terms)
    parts: list[str] = []
    position = 0
    while position < len(text):
        end = position
        while end < len(text) and bold[end] == bold[position]:
            end += 1
        piece = html.escape(text[position:end])
        parts.append(f"<b>{piece}</b>" if bold[position] else piece)
        position = end
    return "".join(parts)


def excerpt(text: str, terms: Sequence[str], max_chars: int) -> str:
    """Return ``text`` trimmed to about ``max_chars`` around the matched terms.

    The window with the most matched characters is centred on them, then widened (by
    at most ``SNAP_CHARS`` each side) to the nearest sentence or clause boundary; "…"
    marks each cut. Text within the limit is returned whole.
    """
    if len(text) <= max_chars:
        return text
    marked = _term_mask(text, terms)
    prefix = [0]
    for value in marked:
        prefix.append(prefix[-1] + value)
    best = max(range(len(text) - max_chars + 1), key=lambda s: (prefix[s + max_chars] - prefix[s], -s))
    inside = [i for i in range(best, best + max_chars) if marked[i]]
    if inside:
        centre = (inside[0] + inside[-1]) // 2
        best = min(max(0, centre - max_chars // 2), len(text) - max_chars)
    start, end = best, best + max_chars
    if start > 0:
        back = max(text.rfind(ch, max(0, start - SNAP_CHARS), start) for ch in _BOUNDARIES)
        start = back + 1 if back >= 0 else start
    if end < len(text):
        ahead = [i for i in (text.find(ch, end - 1, end + SNAP_CHARS) for ch in _BOUNDARIES) if i >= 0]
        end = min(ahead) + 1 if ahead else end
    clipped = text[start:end].strip()
    return ("…" if start > 0 else "") + clipped + ("…" if end < len(text) else "")


def _term_mask(text: str, terms: Sequence[str]) -> list[int]:
    """Return 1 for each character of ``text`` inside an occurrence of a term (len > 1)."""
    folded = index_form(text).lower()
    mask = [0] * len(text)
    for term in {t for t in terms if len(t) > 1}:
        start = folded.find(term)
        while start >= 0:
            mask[start : start + len(term)] = [1] * len(term)
            start = folded.find(term, start + 1)
    return mask


def html_to_text(markup: str) -> str:
    """Return the plain text of our Telegram HTML (tags dropped, entities decoded)."""
    parser = _TextCollector()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def _render_hit(hit: SearchHit, excerpt_chars: int) -> str:
    passage = hit.passage
    body = highlight(excerpt(passage.text, hit.matched, excerpt_chars), hit.matched)
    cite = citation(passage.doc_title, passage.year, passage.section, passage.text)
    return f"<b>{hit.rank}.</b> {cite}\n{body}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fit(markup: str) -> str:
    """Drop whole trailing blocks until the message fits Telegram's limit."""
    blocks = markup.split("\n\n")
    while len(blocks) > 1 and len("\n\n".join(blocks)) > TELEGRAM_TEXT_LIMIT:
        blocks.pop()
    text = "\n\n".join(blocks)
    if len(text) <= TELEGRAM_TEXT_LIMIT:
        return text
    # One block alone is too long (only with extreme settings): fall back to plain text.
    plain = html_to_text(text)
    cut = TELEGRAM_TEXT_LIMIT - 1
    while len(html.escape(plain[:cut])) > TELEGRAM_TEXT_LIMIT - 1:
        cut -= 100
    return html.escape(plain[:cut]) + "…"


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
