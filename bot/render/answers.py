"""Answers to questions: cited passages, best first, with the question's words in bold."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.figures import render_figures_block
from bot.render.markup import escape, fit, shorten
from bot.render.sources import cite_document
from bot.render.texts import PASSAGE_CHANGED_TEXT
from index.api import Answer, Figure, Hit, PassageView

LABEL_MAX_CHARS = 24
QUESTION_ECHO_CHARS = 40
SECTION_JOINER = " › "
# An excerpt's edges move to the nearest sentence or clause boundary within this many characters.
SNAP_CHARS = 30
_BOUNDARIES = "。；！？，、;!?,"

Spans = Sequence[tuple[int, int]]


def render_answer(
    question: str,
    hits: Sequence[Hit],
    excerpt_chars: int,
    figures: Sequence[Figure] = (),
    page: int = 0,
    pages: int = 1,
    notes: Sequence[str] = (),
) -> str:
    """Return the reply to a question (HTML): how the question was read, figures, then
    the passages best first.

    Args:
        question: the staff member's question, as typed.
        hits: the ranked passages of this page; none means nothing relevant was found.
        excerpt_chars: passages longer than this are trimmed around the matched words.
        figures: figures from the ledger answering a number question, shown first.
        page, pages: which page of results this is (0-based) and how many there are;
            a "第 2/3 页" line is added when there is more than one.
        notes: plain-text lines on how the question was read (see :func:`reading_notes`),
            shown first in italics.

    The result stays under Telegram's 4096-character limit for up to 10 hits.
    """
    lead = [f"<i>{escape(note)}</i>" for note in notes]
    if not hits and not figures:
        return "\n".join([*lead, render_no_answer(question)])
    blocks = ["\n".join(lead)] if lead else []
    blocks += [render_figures_block(figures)] if figures else []
    blocks += [_render_hit(hit, excerpt_chars) for hit in hits]
    if pages > 1:
        blocks.append(f"<i>第 {page + 1}/{pages} 页</i>")
    return fit("\n\n".join(blocks))


def reading_notes(answer: Answer) -> list[str]:
    """Return what staff should know about how their question was read (plain text):
    words searched as something else, relative years, places and years no report covers."""
    notes = [f"“{asked}”按“{searched}”查找" for asked, searched in answer.rewrites]
    notes += [f"“{word}”按 {year} 年理解（最新报告的年份为准）" for word, year in answer.relative_years]
    if answer.missing_places:
        places = "、".join(answer.missing_places)
        notes.append(f"没有{places}的报告，以下是其他地方最接近的内容")
    if answer.missing_years:
        years = "、".join(f"{year} 年" for year in answer.missing_years)
        notes.append(f"报告中没有关于 {years}的内容，以下是其他年份最接近的段落")
    return notes


def render_no_answer(question: str) -> str:
    """Return the honest "nothing found" reply (HTML)."""
    echo = escape(shorten(question.strip(), QUESTION_ECHO_CHARS))
    return (
        f"没有在报告中找到与“{echo}”相关的内容。\n"
        "可以换个说法再问，尽量使用报告中的用语（如“保障性租赁住房”“老旧小区改造”），"
        "或发送 /help 查看示例。"
    )


def render_context(passages: Sequence[PassageView], focus_id: int, excerpt_chars: int = 300) -> str:
    """Return a passage with its neighbours in the document (HTML), the passage in bold,
    or a note that the report changed when the passage is not among ``passages``.

    Neighbours are trimmed to ``excerpt_chars``: the one before keeps its end, the
    one after its beginning.
    """
    focus = next((p for p in passages if p.id == focus_id), None)
    if focus is None:
        return PASSAGE_CHANGED_TEXT
    blocks = [f"<b>上下文</b> · {citation(focus, '')}"]
    for passage in passages:
        if passage.id == focus_id:
            blocks.append(f"<b>{escape(passage.text)}</b>")
        elif passage.ordinal < focus.ordinal:
            text = passage.text if len(passage.text) <= excerpt_chars else "…" + passage.text[-excerpt_chars:]
            blocks.append(escape(text))
        else:
            text = passage.text if len(passage.text) <= excerpt_chars else passage.text[:excerpt_chars] + "…"
            blocks.append(escape(text))
    return fit("\n\n".join(blocks))


def citation(passage: PassageView, text: str) -> str:
    """Return the citation lines of a passage (HTML): document, place and year (see
    :func:`cite_document`), then the section path.

    The last heading is left out when the passage itself starts with it (an item
    lead such as "一是物业管理落地见效"), and long headings are shortened.
    """
    labels = list(passage.section_path)
    if labels and text.startswith(labels[-1].removesuffix("…")):
        labels.pop()
    head = cite_document(passage.doc_title, passage.place, passage.year)
    if not labels:
        return head
    path = SECTION_JOINER.join(shorten(label, LABEL_MAX_CHARS) for label in labels)
    return f"{head}\n<i>{escape(path)}</i>"


def highlight(text: str, spans: Spans) -> str:
    """Return ``text`` escaped for HTML with each (start, end) span in bold."""
    parts: list[str] = []
    position = 0
    for start, end in sorted(spans):
        start, end = max(start, position), min(end, len(text))
        if start >= end:
            continue
        parts.append(escape(text[position:start]))
        parts.append(f"<b>{escape(text[start:end])}</b>")
        position = end
    parts.append(escape(text[position:]))
    return "".join(parts)


def excerpt(text: str, spans: Spans, max_chars: int) -> tuple[str, list[tuple[int, int]]]:
    """Return ``text`` trimmed to about ``max_chars`` around the highlighted spans, and
    the spans moved into the trimmed text.

    The window with the most highlighted characters is centred on them, then widened
    (by at most ``SNAP_CHARS`` each side) to the nearest sentence or clause boundary;
    "…" marks each cut. Text within the limit is returned whole.
    """
    if len(text) <= max_chars:
        return text, list(spans)
    marked = [0] * len(text)
    for start, end in spans:
        marked[start:end] = [1] * (min(end, len(text)) - start)
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
    raw = text[start:end]
    lead = len(raw) - len(raw.lstrip())
    clipped = raw.strip()
    offset = start + lead - (1 if start > 0 else 0)  # the leading "…" takes one character
    moved = [
        (max(s, start + lead) - offset, min(e, start + lead + len(clipped)) - offset)
        for s, e in spans
        if e > start + lead and s < start + lead + len(clipped)
    ]
    return ("…" if start > 0 else "") + clipped + ("…" if end < len(text) else ""), moved


def _render_hit(hit: Hit, excerpt_chars: int) -> str:
    passage = hit.passage
    shown, spans = excerpt(passage.text, hit.highlights, excerpt_chars)
    cite = citation(passage, passage.text)
    return f"<b>{hit.rank}.</b> {cite}\n{highlight(shown, spans)}"
