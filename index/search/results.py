"""What a search returns to the front ends: passages with their place in the report,
ranked hits with the spans to highlight."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from index.store.models import SECTION_SEPARATOR
from index.text.normalize import index_form


@dataclass(frozen=True)
class PassageView:
    """A passage as staff see it.

    Attributes:
        id: passage id in the store.
        doc_id, doc_title: the document it comes from.
        year: the year the passage is about (from its heading or document), or None.
        section_path: heading labels, outermost first; empty before any heading.
        ordinal: position in the document, from 0.
        text: display text.
    """

    id: int
    doc_id: str
    doc_title: str
    year: int | None
    section_path: tuple[str, ...]
    ordinal: int
    text: str

    @property
    def section(self) -> str:
        """The heading path joined with `` › `` (the CLI's ``section`` field)."""
        return SECTION_SEPARATOR.join(self.section_path)


@dataclass(frozen=True)
class Hit:
    """One ranked passage.

    Attributes:
        rank: 1-based.
        score: BM25 score (unbounded, comparable within one question only).
        coverage: share of the question's weight (IDF) that the passage contains, 0-1.
        passage: the passage.
        highlights: (start, end) character spans of ``passage.text`` where the
            question's words occur, ascending and not overlapping.
    """

    rank: int
    score: float
    coverage: float
    passage: PassageView
    highlights: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict:
        """Return the JSON object of the ``search`` command (its documented contract)."""
        return {
            "rank": self.rank,
            "score": round(self.score, 4),
            "doc_id": self.passage.doc_id,
            "doc_title": self.passage.doc_title,
            "year": self.passage.year,
            "section": self.passage.section,
            "text": self.passage.text,
        }


def highlight_spans(text: str, terms: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """Return the merged spans of ``text`` where any of ``terms`` occurs.

    Matching is on the index form (simplified, half-width, lower-case), so a term
    finds its traditional or full-width spelling too. Single characters are skipped:
    they would mark half a passage.
    """
    folded = index_form(text).lower()
    marked = [False] * len(text)
    for term in {t for t in terms if len(t) > 1}:
        start = folded.find(term)
        while start >= 0:
            marked[start : start + len(term)] = [True] * len(term)
            start = folded.find(term, start + 1)
    spans: list[tuple[int, int]] = []
    position = 0
    while position < len(text):
        if not marked[position]:
            position += 1
            continue
        end = position
        while end < len(text) and marked[end]:
            end += 1
        spans.append((position, end))
        position = end
    return tuple(spans)
