"""Replies about the bot itself: access refusals, reloads, uploads, documents, statistics."""

from __future__ import annotations

from collections.abc import Sequence

from bot.history import UsageStats
from bot.render.markup import escape, fit, shorten
from bot.render.sources import cite_document
from index.api import CorpusChange, DocumentSummary, ReloadReport

LIST_LIMIT = 15
STATS_QUESTION_CHARS = 40


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


def render_reload_report(report: ReloadReport, heading: str = "重新加载完成") -> str:
    """Return what a reload changed (HTML): counts, then the files by change, with the
    reasons of failures; long lists are cut with a count of the rest. The command line
    prints the same text without tags."""
    lines = [
        f"<b>{escape(heading)}</b>（用时 {report.seconds:.1f} 秒）",
        f"新增 {len(report.added)} · 更新 {len(report.updated)} · 删除 {len(report.removed)} · "
        f"未变 {len(report.unchanged)} · 失败 {len(report.failed)}",
        f"现有 {report.documents} 份报告，{report.passages} 个段落，{report.targets} 个数字",
    ]
    for label, ids in (("新增", report.added), ("更新", report.updated), ("删除", report.removed)):
        lines += _listed(label, [escape(doc_id) for doc_id in ids])
    lines += _listed("失败", [f"{escape(f.doc_id)}：{escape(f.reason)}" for f in report.failed])
    duplicates = [f"{escape(d.doc_id)}（与 {escape(d.same_as)} 内容相同，未重复收录）" for d in report.duplicates]
    lines += _listed("重复", duplicates)
    lines += _listed("报告信息", [f"{escape(w.reason)}" for w in report.warnings])
    if report.retokenized:
        lines.append(f"词表已更改，已重新分词 {report.retokenized} 个段落")
    return fit("\n".join(lines))


def render_progress(done: int, total: int, doc_id: str) -> str:
    """Return the progress line of a running reload (HTML)."""
    return f"正在重新加载报告：{done}/{total}\n{escape(shorten(doc_id, 60))}"


def render_upload_result(change: CorpusChange) -> str:
    """Return what an uploaded report added (HTML)."""
    document = change.document
    lines = [f"<b>已添加报告</b>：{escape(change.doc_id)}"]
    if document is not None:
        lines.append(_describe(document))
        lines.append(f"切分为 {document.passages} 个段落，提取 {document.figures} 个数字。")
    if change.moved_to is not None:
        lines.append(f"同名的旧文件已移到 {escape(change.moved_to.name)}（在“已移除”文件夹中，未删除）。")
    lines.append(f"现有 {change.report.documents} 份报告。")
    return "\n".join(lines)


def render_removal(change: CorpusChange) -> str:
    """Return the reply to /remove (HTML)."""
    where = f"文件已移到“已移除”文件夹：{escape(change.moved_to.name)}。" if change.moved_to else ""
    return (
        f"<b>已移除</b>：{escape(change.doc_id)}\n{where}\n"
        f"现有 {change.report.documents} 份报告，{change.report.passages} 个段落。"
    )


def render_candidates(message: str, candidates: Sequence[str]) -> str:
    """Return a "which document did you mean" reply (HTML) listing up to ten ids."""
    listed = "\n".join(f"• <code>{escape(c)}</code>" for c in candidates[:10])
    return escape(message) + ("\n" + listed if listed else "")


def render_docs_page(documents: Sequence[DocumentSummary], page: int, per_page: int) -> tuple[str, int]:
    """Return one page of the document list (HTML) and the number of pages."""
    pages = max(1, -(-len(documents) // per_page))
    page = min(max(page, 0), pages - 1)
    lines = [f"<b>已索引的报告</b>（共 {len(documents)} 份，第 {page + 1}/{pages} 页）"]
    for number, document in enumerate(documents[page * per_page : (page + 1) * per_page], page * per_page + 1):
        lines.append(
            f"{number}. {_describe(document)} · {document.passages} 段 · {document.figures} 个数字\n"
            f"   <code>{escape(document.id)}</code>"
        )
    if not documents:
        lines.append("索引中还没有报告。把报告文件发给我，或放入语料目录后发送 /reload。")
    return fit("\n".join(lines)), pages


def render_stats(stats: UsageStats) -> str:
    """Return /stats (HTML): volumes, feedback, top questions, questions without answers."""
    lines = [
        "<b>使用情况</b>",
        f"今天提问 {stats.today} 次；近 7 天 {stats.week} 次，{stats.users_week} 人",
        f"近 7 天反馈：👍 {stats.thumbs_up} · 👎 {stats.thumbs_down}",
    ]
    if stats.top:
        lines.append("\n<b>近 7 天热门问题</b>")
        lines += [f"{n}. {escape(shorten(q, STATS_QUESTION_CHARS))} ×{c}" for n, (q, c) in enumerate(stats.top, 1)]
    if stats.unanswered:
        lines.append("\n<b>近 7 天没找到答案的问题</b>（报告里可能没有）")
        lines += [
            f"{n}. {escape(shorten(q, STATS_QUESTION_CHARS))} ×{c}" for n, (q, c) in enumerate(stats.unanswered, 1)
        ]
    return fit("\n".join(lines))


def render_failure(error: BaseException) -> str:
    """Return a short Chinese reason for an unexpected failure (plain text)."""
    return f"处理时出错（{type(error).__name__}），管理员已收到详细信息"


def render_error_details(update_summary: str, error: BaseException) -> str:
    """Return the failure report sent to admins (HTML, trimmed)."""
    detail = f"{type(error).__name__}: {error}"
    return fit(
        "<b>机器人处理消息时出错</b>\n"
        f"消息：{escape(shorten(update_summary, 300))}\n"
        f"错误：<code>{escape(shorten(detail, 1500))}</code>"
    )


def _describe(document: DocumentSummary) -> str:
    """《title》 · place · years · kind, with "（已校正）" when an admin set any of them."""
    years = "、".join(str(y) for y in document.years) or "年份不详"
    head = cite_document(document.title, document.place, None)
    corrected = "（已校正）" if document.overridden else ""
    return f"{head} · {years} · {document.kind}{corrected}"


def _listed(label: str, items: Sequence[str]) -> list[str]:
    shown = [f"{label}：{item}" for item in items[:LIST_LIMIT]]
    if len(items) > LIST_LIMIT:
        shown.append(f"{label}：…另有 {len(items) - LIST_LIMIT} 个")
    return shown
