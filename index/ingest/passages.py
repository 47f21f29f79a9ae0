"""Split a report into passages that follow its structure.

A report is a list of paragraphs. Numbered headings (一、 （一） 1. （1） 第X条, and the
``──`` lead of some summaries) open sections; enumerations (一是 二是 …, 一要 二要 …)
open items inside a section. Headings and item leads are context: each passage carries
its heading path, e.g. ``("二、今年工作总体安排", "三是加快实施城市更新行动")``. Bodies
are cut at sentence boundaries (then clause boundaries) into passages of a readable size,
never inside a number with its unit.

Patterns are matched on the index form of the text (simplified, half-width), which has
the same length as the display form, so every offset applies to both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.ingest.headings import match_heading
from index.text.normalize import index_form

# Markers whose characters are not part of the heading's name.
_DASH_MARKER = re.compile(r"^[─━—-]+\s*")
_STATEMENT_END = re.compile(r"[。；;]$")
_FIGURE_NUMBER = re.compile(r"\d(?![\d.]*年)")
# 一是 二是 … 十二是, 一要 二要 …, at the start of a sentence.
_ITEM_MARKER = re.compile(r"(?:^|(?<=[。；！？：;!?:]))\s*([一二三四五六七八九十]{1,3}[是要])")
_SENTENCE_END = re.compile(r"[。；！？;!?]+[”’」』)\]]*")
_HEADING_END = re.compile(r"[。；！？：;!?:]")
_CLAUSE_END = re.compile(r"[、:]|(?<!\d),|,(?!\d)")
_NUMBER_CHAR = re.compile(r"[\d.,%]")

# Headings at these levels (一、 （一） ──) name a section: a short first sentence is
# the heading, not body text. Lower levels (1. （1）) and articles (第X条) lead their
# own content, which stays in the passage.
RUN_IN_LEVELS = (1, 2)
ARTICLE_LEVEL = 5
HEADING_MAX_CHARS = 40
ITEM_LEAD_MAX_CHARS = 30


@dataclass(frozen=True)
class PassageLimits:
    """Passage size bounds in characters.

    Attributes:
        min_chars: shorter passages are merged into a neighbour when the result fits.
        target_chars: long paragraphs are cut into passages of about this size or less.
        max_chars: hard upper bound; no passage is longer.
    """

    min_chars: int = 60
    target_chars: int = 300
    max_chars: int = 500

    def __post_init__(self) -> None:
        if not 0 < self.min_chars <= self.target_chars <= self.max_chars:
            raise ValueError(
                "passage limits need 0 < min_chars <= target_chars <= max_chars, got "
                f"{self.min_chars}, {self.target_chars}, {self.max_chars}"
            )


@dataclass(frozen=True)
class PassageDraft:
    """A passage before storage.

    Attributes:
        section: heading path, outermost first; empty for text before any heading.
        text: display text of the passage (original characters).
        start, end: character offsets of ``text`` in the document text, i.e. the
            paragraphs joined with ``"\\n"``.
    """

    section: tuple[str, ...]
    text: str
    start: int
    end: int


@dataclass
class _Segment:
    section: tuple[str, ...]
    start: int  # offsets in the document text
    end: int
    paragraph_end: bool = False


def split_passages(
    paragraphs: Sequence[str], limits: PassageLimits = PassageLimits(), *, skip: int = 0
) -> list[PassageDraft]:
    """Split a document into passages with heading paths.

    Args:
        paragraphs: display paragraphs, non-empty, in order; the document text is
            ``"\\n".join(paragraphs)`` and offsets refer to it.
        limits: passage size bounds.
        skip: number of leading paragraphs that are not body text (a title line).

    Returns:
        Passages in document order; none longer than ``limits.max_chars``, none blank.
    """
    segments = _segments(paragraphs, skip)
    document = "\n".join(paragraphs)
    folded = index_form(document)
    chunks: list[_Segment] = []
    for segment in segments:
        for start, end in _pack(folded, segment.start, segment.end, limits):
            chunks.append(_Segment(segment.section, start, end, paragraph_end=False))
        if chunks:
            chunks[-1].paragraph_end = segment.paragraph_end
    passages = []
    for chunk in _merge_short(chunks, limits):
        raw = document[chunk.start : chunk.end]
        start = chunk.start + len(raw) - len(raw.lstrip())
        text = raw.strip()
        if text:  # a run of white space cut on its own is not a passage
            passages.append(PassageDraft(chunk.section, text, start, start + len(text)))
    return passages


def _segments(paragraphs: Sequence[str], skip: int) -> list[_Segment]:
    """Walk paragraphs keeping the heading stack; return body segments with their paths."""
    headings: list[tuple[int, str]] = []
    carried_item: str | None = None
    segments: list[_Segment] = []
    offset = sum(len(p) + 1 for p in paragraphs[:skip])
    for paragraph in paragraphs[skip:]:
        folded = index_form(paragraph)
        body_start = 0
        heading = match_heading(folded)
        if heading is not None and _bullet_statement(folded, heading):
            heading = None  # "——福州市已开工建设…18183套；": a listed statement, not a heading
        if heading is not None:
            level, marker_end = heading
            if level in RUN_IN_LEVELS:
                label, body_start = _heading_label(paragraph, folded, marker_end)
            elif level == ARTICLE_LEVEL:
                label = paragraph[:marker_end].strip()
            else:
                label = _item_lead(paragraph, folded, 0, len(folded))
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, label))
            carried_item = None
        path = tuple(label for _, label in headings)
        items = [m for m in _ITEM_MARKER.finditer(folded, body_start)]
        if items and heading is None and items[0].start(1) == _skip_space(folded, 0):
            carried_item = None  # a paragraph that opens an item starts a new scope
        pieces: list[tuple[tuple[str, ...], int, int]] = []
        first_item = items[0].start(1) if items else len(folded)
        if _skip_space(folded, body_start) < first_item:
            intro_path = (*path, carried_item) if carried_item else path
            pieces.append((intro_path, body_start, first_item))
        for number, item in enumerate(items):
            end = items[number + 1].start(1) if number + 1 < len(items) else len(folded)
            lead = _item_lead(paragraph, folded, item.start(1), end)
            pieces.append(((*path, lead), item.start(1), end))
        if items and heading is None and items[0].start(1) == _skip_space(folded, 0):
            carried_item = pieces[-1][0][-1]
        for piece_path, start, end in pieces:
            start = _skip_space(folded, start)
            end = len(folded[:end].rstrip())
            if end > start:
                segments.append(_Segment(piece_path, offset + start, offset + end))
        if segments:
            segments[-1].paragraph_end = True
        offset += len(paragraph) + 1
    return segments


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _bullet_statement(folded: str, heading: tuple[int, int]) -> bool:
    """Whether a paragraph with a heading marker is one listed statement of figures
    ("——福州市已开工建设保障性租赁住房18183套；", "（三）完成投资11亿元以上；") rather than a
    heading: it ends as a sentence, has nothing after its first sentence, and states a
    number that is not a year. A heading names a section (一、2021年亮点工作) or leads
    its body (──全力抓经济指标，助推全区经济发展。一是…)."""
    level, marker_end = heading
    if level not in RUN_IN_LEVELS or not _STATEMENT_END.search(folded):
        return False
    end = _HEADING_END.search(folded, marker_end)
    rest = folded[end.end() :].strip() if end else ""
    return not rest and bool(_FIGURE_NUMBER.search(folded, marker_end))


def _heading_label(paragraph: str, folded: str, marker_end: int) -> tuple[str, int]:
    """Return (heading label, offset where the body starts) for a heading paragraph.

    A short first sentence is the heading and the body follows it ("（一）危旧房治理持续
    深化。开展…"); a long one is body text, and the label is its opening words.
    """
    marker = _DASH_MARKER.sub("", paragraph[:marker_end])
    end = _HEADING_END.search(folded, marker_end)
    sentence_end = end.start() if end else len(folded)
    if sentence_end - marker_end <= HEADING_MAX_CHARS:
        body_start = end.end() if end else len(folded)
        return marker + paragraph[marker_end:sentence_end].strip(), body_start
    return marker + _short_lead(paragraph, folded, marker_end, sentence_end), marker_end


def _item_lead(paragraph: str, folded: str, start: int, end: int) -> str:
    """Return the lead of an enumeration item: its first sentence when short."""
    stop = _HEADING_END.search(folded, start, end)
    sentence_end = stop.start() if stop else end
    if sentence_end - start <= ITEM_LEAD_MAX_CHARS:
        return paragraph[start:sentence_end].strip()
    return _short_lead(paragraph, folded, start, sentence_end)


def _short_lead(paragraph: str, folded: str, start: int, end: int) -> str:
    comma = folded.find(",", start, end)
    if 0 <= comma - start <= ITEM_LEAD_MAX_CHARS and comma > start:
        return paragraph[start:comma]
    return paragraph[start : start + 20].rstrip() + "…"


def _pack(text: str, start: int, end: int, limits: PassageLimits) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into chunks at sentence, then clause, boundaries."""
    units = _units(text, start, end, _SENTENCE_END)
    refined: list[tuple[int, int]] = []
    for unit_start, unit_end in units:
        if unit_end - unit_start <= limits.max_chars:
            refined.append((unit_start, unit_end))
            continue
        for clause in _units(text, unit_start, unit_end, _CLAUSE_END):
            refined.extend(_hard_cut(text, *clause, limits.max_chars))
    return _group(refined, limits)


def _units(text: str, start: int, end: int, boundary: re.Pattern[str]) -> list[tuple[int, int]]:
    units = []
    position = start
    for match in boundary.finditer(text, start, end):
        units.append((position, match.end()))
        position = match.end()
    if position < end:
        units.append((position, end))
    return [(s, e) for s, e in units if text[s:e].strip()]


def _hard_cut(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut a run with no punctuation into pieces of at most ``max_chars``.

    The cut moves back before any number so that a figure stays with its unit.
    """
    pieces = []
    while end - start > max_chars:
        cut = start + max_chars
        while cut > start + 1 and (_NUMBER_CHAR.match(text[cut - 1]) or _NUMBER_CHAR.match(text[cut])):
            cut -= 1
        if cut <= start + 1:  # a single number longer than max_chars: nothing better to do
            cut = start + max_chars
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _group(units: list[tuple[int, int]], limits: PassageLimits) -> list[tuple[int, int]]:
    """Group consecutive units into chunks of balanced length near ``target_chars``."""
    if not units:
        return []
    total = units[-1][1] - units[0][0]
    goal = total / max(1, math.ceil(total / limits.target_chars))
    chunks: list[list[int]] = []
    for unit_start, unit_end in units:
        size = unit_end - unit_start
        if chunks:
            current = chunks[-1][1] - chunks[-1][0]
            joined = current + size
            fits_goal = joined <= goal
            too_short = current < limits.min_chars and joined <= limits.max_chars
            closer = joined <= limits.target_chars and joined - goal < goal - current
            if fits_goal or too_short or closer:
                chunks[-1][1] = unit_end
                continue
        chunks.append([unit_start, unit_end])
    if len(chunks) > 1:
        last, previous = chunks[-1], chunks[-2]
        if last[1] - last[0] < limits.min_chars and last[1] - previous[0] <= limits.max_chars:
            previous[1] = last[1]
            chunks.pop()
    return [(s, e) for s, e in chunks]


def _merge_short(chunks: list[_Segment], limits: PassageLimits) -> list[_Segment]:
    """Merge a short paragraph-final chunk into the next one when it introduces it.

    "同志们：" before the opening paragraph, or "重点做好以下十个方面工作：" before 一是 …,
    read as part of what follows; they are merged forward when the next chunk lies in
    the same section (or a section below it) and the result fits ``max_chars``.
    """
    merged: list[_Segment] = []
    pending: _Segment | None = None
    for chunk in chunks:
        if pending is not None:
            same_scope = chunk.section[: len(pending.section)] == pending.section
            if same_scope and chunk.end - pending.start <= limits.max_chars:
                chunk = _Segment(chunk.section, pending.start, chunk.end, chunk.paragraph_end)
            else:
                merged.append(pending)
            pending = None
        if chunk.paragraph_end and chunk.end - chunk.start < limits.min_chars:
            pending = chunk
            continue
        merged.append(chunk)
    if pending is not None:
        merged.append(pending)
    return merged
