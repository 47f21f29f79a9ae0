"""What a search returns to the front ends: passages with their place in the report,
ranked hits with the spans to highlight."""

from __future__ import annotations

import functools
import re
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
        place: the issuing body's place (平阳县, 北京市 …), or None when the report does not say.
    """

    id: int
    doc_id: str
    doc_title: str
    year: int | None
    section_path: tuple[str, ...]
    ordinal: int
    text: str
    place: str | None = None

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
        evidence: the field-specific weight of the question concepts the passage
            holds (sum of IDF x specificity x credit; see :mod:`index.search.searcher`).
    """

    rank: int
    score: float
    coverage: float
    passage: PassageView
    highlights: tuple[tuple[int, int], ...] = ()
    evidence: float = 0.0

    def to_dict(self) -> dict:
        """Return the JSON object of the ``search`` command (its documented contract)."""
        return {
            "rank": self.rank,
            "score": round(self.score, 4),
            "doc_id": self.passage.doc_id,
            "doc_title": self.passage.doc_title,
            "place": self.passage.place,
            "year": self.passage.year,
            "section": self.passage.section,
            "text": self.passage.text,
        }


def highlight_spans(text: str, terms: Iterable[str], folded: str | None = None) -> tuple[tuple[int, int], ...]:
    """Return the merged spans of ``text`` where any of ``terms`` occurs.

    Matching is on the index form (simplified, half-width, lower-case), so a term
    finds its traditional or full-width spelling too. Single characters are skipped:
    they would mark half a passage. ``folded`` is ``index_form(text)`` when the caller
    has it already (same length as ``text``, so the offsets hold for both).
    """
    pattern = _term_pattern(tuple(sorted({t for t in terms if len(t) > 1}, key=lambda t: (-len(t), t))))
    if pattern is None:
        return ()
    folded = (index_form(text) if folded is None else folded).lower()
    found = [(match.start(), match.start() + len(match.group(1))) for match in pattern.finditer(folded)]
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return tuple(spans)


@functools.lru_cache(maxsize=512)
def _term_pattern(wanted: tuple[str, ...]) -> re.Pattern | None:
    """One pass over a text: at each position the longest term starting there (a
    lookahead, so that overlapping terms such as 住宅加装 and 加装电梯 are both found).
    Compiled once per set of terms: every passage of an answer uses the same one."""
    if not wanted:
        return None
    return re.compile("(?=(" + "|".join(map(re.escape, wanted)) + "))")


@dataclass(frozen=True)
class Answer:
    """A search's passages and what staff should know about how it read the question.

    Attributes:
        hits: the ranked passages, best first; empty means nothing relevant.
        rewrites: (question word, what was searched instead): abbreviations and typos.
        relative_years: (relative word, the year it was read as), e.g. ("今年", 2024).
        missing_places: places the question names that no report is about.
        missing_years: years the question names that no passage is about.
    """

    hits: tuple[Hit, ...]
    rewrites: tuple[tuple[str, str], ...] = ()
    relative_years: tuple[tuple[str, int], ...] = ()
    missing_places: tuple[str, ...] = ()
    missing_years: tuple[int, ...] = ()
