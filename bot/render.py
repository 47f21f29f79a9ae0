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

from bot.history import UsageStats
from index.figures.extract import KIND_LABELS
from index.figures.lookup import PlanAchievedPair, TargetRecord
from index.ingest.sync import ReloadReport
from index.library import CorpusChange
from index.search.searcher import IndexedPassage, SearchHit
from index.store.models import SECTION_SEPARATOR, Document
from index.text.normalize import index_form

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
    "/help — 查看本说明\n\n"
    "答案下方的按钮可以翻页（更多结果）、查看段落前后文（上下文），并用 👍 👎 反馈答案是否有用。"
)

ADMIN_HELP_TEXT = (
    "\n\n<b>管理员命令</b>\n"
    "/reload — 重新读取语料目录中的报告\n"
    "直接发送 .txt / .docx / .pdf 文件 — 添加或替换报告\n"
    "/docs — 查看已索引的报告\n"
    "/remove 文件名 — 移除一份报告（移到“已移除”文件夹，不删除）\n"
    "/stats — 提问统计、热门问题和没找到答案的问题"
)

REDACTED_MARK = "（原文数字已脱敏）"
TARGET_LIST_LIMIT = 10
FIGURES_BLOCK_LIMIT = 3
SOURCE_TITLE_CHARS = 16
TARGET_USAGE_TEXT = "请在命令后写上要查的指标，例如：/target 加装电梯 或 /t 保租房 2022"
UNKNOWN_COMMAND_TEXT = "没有这个命令。直接发送问题即可提问，发送 /help 查看用法。"
EMPTY_QUESTION_TEXT = "请在命令后写上问题，例如：/ask 加装电梯完成了多少台"


def render_help(admin: bool = False) -> str:
    """Return the /start and /help text (HTML); admins also see their commands."""
    return HELP_TEXT + (ADMIN_HELP_TEXT if admin else "")


def render_answer(
    question: str,
    hits: Sequence[SearchHit],
    excerpt_chars: int = 220,
    figures: Sequence[TargetRecord] = (),
    page: int = 0,
    pages: int = 1,
) -> str:
    """Return the reply to a question (HTML): figures, then the passages best first.

    Args:
        question: the staff member's question, as typed.
        hits: the ranked passages of this page; none means nothing relevant was found.
        excerpt_chars: passages longer than this are trimmed around the matched words.
        figures: targets from the ledger answering a number question, shown first.
        page, pages: which page of results this is (0-based) and how many there are;
            a "第 2/3 页" line is added when there is more than one.

    The result stays under Telegram's 4096-character limit for up to 10 hits.
    """
    if not hits and not figures:
        return render_no_answer(question)
    blocks = [render_figures_block(figures)] if figures else []
    blocks += [_render_hit(hit, excerpt_chars) for hit in hits]
    if pages > 1:
        blocks.append(f"<i>第 {page + 1}/{pages} 页</i>")
    return _fit("\n\n".join(blocks))


def render_context(passages: Sequence[IndexedPassage], focus_id: int, excerpt_chars: int = 300) -> str:
    """Return a passage with its neighbours in the document (HTML), the passage in bold.

    Neighbours are trimmed to ``excerpt_chars``: the one before keeps its end, the
    one after its beginning.
    """
    focus = next((p for p in passages if p.id == focus_id), None)
    if focus is None:
        return "这段内容已随报告更新而变化，请重新提问。"
    blocks = [f"<b>上下文</b> · {citation(focus.doc_title, focus.year, focus.section, '')}"]
    for passage in passages:
        if passage.id == focus_id:
            blocks.append(f"<b>{html.escape(passage.text)}</b>")
        elif passage.ordinal < focus.ordinal:
            text = passage.text if len(passage.text) <= excerpt_chars else "…" + passage.text[-excerpt_chars:]
            blocks.append(html.escape(text))
        else:
            text = passage.text if len(passage.text) <= excerpt_chars else passage.text[:excerpt_chars] + "…"
            blocks.append(html.escape(text))
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
    if labels and text.startswith(labels[-1].removesuffix("…")):
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


def render_refusal(user_id: int | None) -> str:
    """Return the one polite refusal for someone not on the allow-lists (HTML)."""
    shown = f"<code>{user_id}</code>" if user_id is not None else "（未知）"
    return (
        "抱歉，本机器人只为本局工作人员提供服务。\n"
        f"您的 Telegram 用户编号是 {shown}，如需使用，请把这个编号发给管理员开通。"
    )


def render_rate_limited(limit: int, retry_after: int) -> str:
    """Return the reply to someone asking faster than the limit (HTML)."""
    return f"提问太频繁了：每分钟最多 {limit} 次。请约 {retry_after} 秒后再试。"


ADMIN_ONLY_TEXT = "这个操作仅限管理员使用。如需重新加载或上传报告，请联系管理员。"
UPLOAD_ADMIN_ONLY_TEXT = "只有管理员可以上传报告。如有新报告，请发给管理员。"
LIST_LIMIT = 15


def render_reload_report(report: ReloadReport, heading: str = "重新加载完成") -> str:
    """Return what a reload changed (HTML): counts, then the files by change, with the
    reasons of failures; long lists are cut with a count of the rest."""
    lines = [
        f"<b>{html.escape(heading)}</b>（用时 {report.seconds:.1f} 秒）",
        f"新增 {len(report.added)} · 更新 {len(report.updated)} · 删除 {len(report.removed)} · "
        f"未变 {len(report.unchanged)} · 失败 {len(report.failed)}",
        f"现有 {report.documents} 份报告，{report.passages} 个段落，{report.targets} 个数字",
    ]
    for label, ids in (("新增", report.added), ("更新", report.updated), ("删除", report.removed)):
        lines += _listed(label, [html.escape(doc_id) for doc_id in ids])
    failures = [f"{html.escape(f.doc_id)}：{html.escape(f.reason)}" for f in report.failed]
    lines += _listed("失败", failures)
    if report.retokenized:
        lines.append(f"词表已更改，已重新分词 {report.retokenized} 个段落")
    return _fit("\n".join(lines))


def render_progress(done: int, total: int, doc_id: str) -> str:
    """Return the progress line of a running reload (HTML)."""
    return f"正在重新加载报告：{done}/{total}\n{html.escape(_shorten(doc_id, 60))}"


def render_upload_result(change: CorpusChange) -> str:
    """Return what an uploaded report added (HTML)."""
    document = change.document
    lines = [f"<b>已添加报告</b>：{html.escape(change.doc_id)}"]
    if document is not None:
        years = "、".join(str(y) for y in document.year_list) or "年份不详"
        lines.append(f"《{html.escape(document.title)}》 · {years} · {document.kind}")
        lines.append(f"切分为 {document.passage_count} 个段落，提取 {change.targets} 个数字。")
    if change.moved_to is not None:
        lines.append(f"同名的旧文件已移到 {html.escape(change.moved_to.name)}（在“已移除”文件夹中，未删除）。")
    lines.append(f"现有 {change.report.documents} 份报告。")
    return "\n".join(lines)


def render_removal(change: CorpusChange) -> str:
    """Return the reply to /remove (HTML)."""
    where = f"文件已移到“已移除”文件夹：{html.escape(change.moved_to.name)}。" if change.moved_to else ""
    return (
        f"<b>已移除</b>：{html.escape(change.doc_id)}\n{where}\n"
        f"现有 {change.report.documents} 份报告，{change.report.passages} 个段落。"
    )


def render_docs_page(summaries: Sequence[tuple[Document, int]], page: int, per_page: int) -> tuple[str, int]:
    """Return one page of the document list (HTML) and the number of pages."""
    pages = max(1, -(-len(summaries) // per_page))
    page = min(max(page, 0), pages - 1)
    lines = [f"<b>已索引的报告</b>（共 {len(summaries)} 份，第 {page + 1}/{pages} 页）"]
    for number, (document, targets) in enumerate(
        summaries[page * per_page : (page + 1) * per_page], page * per_page + 1
    ):
        years = "、".join(str(y) for y in document.year_list) or "年份不详"
        lines.append(
            f"{number}. 《{html.escape(_shorten(document.title, 30))}》 · {years} · {document.kind} · "
            f"{document.passage_count} 段 · {targets} 个数字\n   <code>{html.escape(document.id)}</code>"
        )
    if not summaries:
        lines.append("索引中还没有报告。把报告文件发给我，或放入语料目录后发送 /reload。")
    return _fit("\n".join(lines)), pages


def render_stats(stats: UsageStats) -> str:
    """Return /stats (HTML): volumes, feedback, top questions, questions without answers."""
    lines = [
        "<b>使用情况</b>",
        f"今天提问 {stats.today} 次；近 7 天 {stats.week} 次，{stats.users_week} 人",
        f"近 7 天反馈：👍 {stats.thumbs_up} · 👎 {stats.thumbs_down}",
    ]
    if stats.top:
        lines.append("\n<b>近 7 天热门问题</b>")
        lines += [f"{n}. {html.escape(_shorten(q, 40))} ×{c}" for n, (q, c) in enumerate(stats.top, 1)]
    if stats.unanswered:
        lines.append("\n<b>近 7 天没找到答案的问题</b>（报告里可能没有）")
        lines += [f"{n}. {html.escape(_shorten(q, 40))} ×{c}" for n, (q, c) in enumerate(stats.unanswered, 1)]
    return _fit("\n".join(lines))


def render_error_details(update_summary: str, error: BaseException) -> str:
    """Return the failure report sent to admins (HTML, trimmed)."""
    detail = f"{type(error).__name__}: {error}"
    return _fit(
        "<b>机器人处理消息时出错</b>\n"
        f"消息：{html.escape(_shorten(update_summary, 300))}\n"
        f"错误：<code>{html.escape(_shorten(detail, 1500))}</code>"
    )


def _listed(label: str, items: Sequence[str]) -> list[str]:
    shown = [f"{label}：{item}" for item in items[:LIST_LIMIT]]
    if len(items) > LIST_LIMIT:
        shown.append(f"{label}：…另有 {len(items) - LIST_LIMIT} 个")
    return shown
