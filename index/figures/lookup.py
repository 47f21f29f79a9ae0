"""Look up stored figures by keyword or for a question, through the index's figure fields.

A keyword goes through the same tokenizer, user dictionary and synonyms as search, so
保租房 finds 保障性租赁住房. The index's ``indicator`` field (the indicator's tokens and
base unit) and ``context`` field (its sentence's and heading's tokens, and its year)
find and rank the figures; only the figures returned are read from the store.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, select

from index.figures.model import FIGURE_KINDS, Figure
from index.figures.units import base_quantity
from index.search.engine import SparseIndex, TermPostings, term_postings
from index.store.models import Document, Target
from index.text.question import ParsedQuestion
from index.text.segmentation import QueryTerm, Tokenizer

# Credit of a term by where it is found: whole (word or synonym) in the indicator or
# unit, whole in the sentence or section (or, for questions, the passage), or only as
# a sub-word anywhere.
INDICATOR_WHOLE, CONTEXT_WHOLE, PART = 1.0, 0.6, 0.3
QUESTION_MIN_COVERAGE = 0.5
OTHER = FIGURE_KINDS.index("other")


class FigureLookup:
    """Find figures in one generation of the index.

    Args:
        index: the opened index generation.
        tokenizer: the tokenizer its tokens were made with.
        engine: the store, to read the figures returned.
    """

    def __init__(self, index: SparseIndex, tokenizer: Tokenizer, engine: Engine) -> None:
        self.index = index
        self.tokenizer = tokenizer
        self.engine = engine
        self.ids = index.array("figure_id")
        self.kinds = index.array("figure_kind")
        self.years = index.array("figure_year")
        self.redacted = index.array("figure_redacted")
        self.passage_rows, self.units, self.unit_names = figure_places(index)

    def by_keyword(
        self, keyword: str, *, year: int | None = None, kind: str | None = None, limit: int | None = None
    ) -> tuple[int, list[Figure]]:
        """Return (how many figures match, the best ``limit`` of them).

        Every word of ``keyword`` (or a synonym) must be whole in the figure's
        indicator, unit, sentence or heading. Ordered by match score (indicator hits
        count most), kind ``other`` after the rest, known figures before redacted
        ones, newest year first.

        Raises:
            ValueError: ``kind`` is not one of plan, achieved, rate, other.
        """
        if kind is not None and kind not in FIGURE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FIGURE_KINDS)}; got {kind!r}")
        terms = self.tokenizer.query_terms(keyword)
        if not terms:
            return 0, []
        indicator, context = self._postings(terms)
        candidates = None
        for term in terms:
            present = np.union1d(_rows(indicator, term.whole), _rows(context, term.whole))
            candidates = present if candidates is None else np.intersect1d(candidates, present)
        candidates = self._filter(candidates, year, FIGURE_KINDS.index(kind) if kind else None)
        in_indicator = np.array([np.isin(candidates, _rows(indicator, term.whole)) for term in terms])
        scores = np.where(in_indicator, INDICATOR_WHOLE, CONTEXT_WHOLE).sum(axis=0)
        order = self._order(candidates, scores)
        chosen = order[:limit] if limit is not None else order
        named = dict(zip(candidates.tolist(), in_indicator.all(axis=0).tolist(), strict=True))
        figures = self._figures(chosen, dict(zip(candidates.tolist(), scores.tolist(), strict=True)), named)
        return len(candidates), figures

    def for_question(self, question: ParsedQuestion, limit: int = 3) -> list[Figure]:
        """Return up to ``limit`` figures that answer a question asking for a number.

        A figure qualifies when the question's field terms (user dictionary or synonym
        words such as 加装电梯, 保租房) are all whole in its indicator or passage and one
        of them is in its indicator (or all are in its sentence or heading and another
        question word is in its indicator; without field terms: any question word but a
        unit in its indicator), and the question's words carry at least half their
        weight in the indicator or the passage around it. Figures of the unit the
        question names ("多少台"), then of the kind it asks for (率 → rate, 目标/计划 →
        plan, 完成/累计 → achieved) come first; a year in the question keeps that year.
        """
        terms = list(question.content_terms)
        if not terms:
            return []
        field_terms = [t for t in terms if self.tokenizer.is_field_term(t.word)]
        leading = field_terms or terms
        indicator, context = self._postings(terms)
        words = [w for term in leading for w in term.whole]
        candidates = np.union1d(_rows(indicator, words), _rows(context, words))
        candidates = self._filter(candidates, question.years[0] if question.years else None, None)
        if not len(candidates):
            return []
        passages = term_postings(self.index, "word", (w for t in terms for w in t.alternatives))
        around_rows = self.passage_rows[candidates]
        own, whole_indicator, around, part = {}, {}, {}, {}
        for term in terms:
            key = term.word
            whole_indicator[key] = np.isin(candidates, _rows(indicator, term.whole))
            own[key] = self._own(candidates, indicator, term)
            in_context = np.isin(candidates, _rows(context, term.whole))
            around[key] = in_context | np.isin(around_rows, _rows(passages, term.whole))
            part[key] = (
                np.isin(candidates, _rows(indicator, term.alternatives))
                | np.isin(candidates, _rows(context, term.alternatives))
                | np.isin(around_rows, _rows(passages, term.alternatives))
            )
            own[key + "\0context"] = in_context

        def all_of(group, *kinds) -> np.ndarray:
            result = np.ones(len(candidates), dtype=bool)
            for term in group:
                result &= np.logical_or.reduce([source[term.word] for source in kinds])
            return result

        def any_of(group, source) -> np.ndarray:
            result = np.zeros(len(candidates), dtype=bool)
            for term in group:
                result |= source[term.word]
            return result

        owned_context = {t.word: own[t.word] | own[t.word + "\0context"] for t in terms}
        answers = all_of(field_terms, own, around) & (
            any_of(leading, own) | (bool(field_terms) & all_of(field_terms, owned_context) & any_of(terms, own))
        )
        credits = np.array(
            [
                np.where(whole_indicator[t.word], INDICATOR_WHOLE, np.where(around[t.word], CONTEXT_WHOLE,
                         np.where(part[t.word], PART, 0.0)))
                for t in terms
            ]
        )  # fmt: skip
        keep = answers & (credits.mean(axis=0) >= QUESTION_MIN_COVERAGE)
        candidates, scores = candidates[keep], credits.sum(axis=0)[keep]
        wanted_unit = base_quantity(None, question.unit)[1] if question.unit else None
        unit_code = self.unit_names.index(wanted_unit) if wanted_unit in self.unit_names else -1
        kind_code = FIGURE_KINDS.index(question.kind) if question.kind else -1
        order = self._order(
            candidates, scores, self.units[candidates] != unit_code, self.kinds[candidates] != kind_code
        )[:limit]
        return self._figures(order, dict(zip(candidates.tolist(), scores.tolist(), strict=True)), {})

    def _postings(self, terms: list[QueryTerm]) -> tuple[TermPostings, TermPostings]:
        words = {w for term in terms for w in term.alternatives}
        return term_postings(self.index, "indicator", words), term_postings(self.index, "context", words)

    def _own(self, candidates: np.ndarray, indicator: TermPostings, term: QueryTerm) -> np.ndarray:
        """Whether the term is whole in the indicator itself, not only as its unit."""
        result = np.zeros(len(candidates), dtype=bool)
        for word in term.whole:
            if word not in indicator:
                continue
            rows, tf = indicator[word]
            unit = self.unit_names.index(word) if word in self.unit_names else -1
            own_rows = rows[(self.units[rows] != unit) | (tf >= 2)]
            result |= np.isin(candidates, own_rows)
        return result

    def _filter(self, rows: np.ndarray, year: int | None, kind: int | None) -> np.ndarray:
        rows = rows[self.index.live["figures"][rows]] if len(rows) else rows
        if year is not None:
            rows = rows[self.years[rows] == year]
        if kind is not None:
            rows = rows[self.kinds[rows] == kind]
        return rows

    def _order(self, rows: np.ndarray, scores: np.ndarray, *leading: np.ndarray) -> np.ndarray:
        """Sort rows: leading keys first, then kind ``other`` last, best score, known
        before redacted, newest year, store id."""
        keys = (
            self.ids[rows],
            -self.years[rows].astype(np.int64),
            self.redacted[rows],
            -np.round(scores, 6),
            self.kinds[rows] == OTHER,
            *reversed(leading),
        )
        return rows[np.lexsort(keys)] if len(rows) else rows

    def _figures(self, rows: np.ndarray, scores: dict[int, float], named: dict[int, bool]) -> list[Figure]:
        ids = [int(self.ids[row]) for row in rows]
        if not ids:
            return []
        found: dict[int, Figure] = {}
        with Session(self.engine) as session:
            for start in range(0, len(ids), 500):  # SQLite limits the parameters of one statement
                statement = (
                    select(Target, Document.title, Document.place)
                    .join(Document, Target.doc_id == Document.id)
                    .where(Target.id.in_(ids[start : start + 500]))
                )
                for target, title, place in session.exec(statement):
                    found[target.id] = _figure(target, title, place)
        figures = []
        for row, figure_id in zip(rows.tolist(), ids, strict=True):
            if figure_id in found:  # gone from the store since this generation was built
                score, match = round(scores[row], 3), named.get(row, False)
                figures.append(replace(found[figure_id], score=score, indicator_match=match))
        return figures


def figure_places(index: SparseIndex) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Return, per global figure row, the global row of its passage (int64) and a code
    of its base unit (int32), with the unit names the codes index."""
    passage_rows, units, unit_names = [], [], []
    for segment, offset in zip(index.segments, index.offsets["passages"][:-1], strict=True):
        passage_rows.append(np.asarray(segment.arrays["figure_passage"], dtype=np.int64) + int(offset))
        codes = np.array([_code(unit_names, unit) for unit in segment.units] or [0], dtype=np.int32)
        units.append(codes[np.asarray(segment.arrays["figure_unit"], dtype=np.int64)])
    rows = np.concatenate(passage_rows) if passage_rows else np.zeros(0, np.int64)
    return rows, (np.concatenate(units) if units else np.zeros(0, np.int32)), unit_names


def _code(names: list[str], name: str) -> int:
    if name not in names:
        names.append(name)
    return names.index(name)


def _rows(postings: TermPostings, words) -> np.ndarray:
    parts = [postings[w][0] for w in words if w in postings]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def _figure(target: Target, title: str, place: str | None) -> Figure:
    return Figure(
        id=target.id,
        start=target.char_start,
        end=target.char_end,
        indicator=target.indicator,
        value=target.value,
        value_max=target.value_max,
        value_text=target.value_text,
        unit=target.unit,
        qualifier=target.qualifier,
        kind=target.kind,
        period=target.period,
        year=target.year,
        redacted=target.redacted,
        sentence=target.sentence,
        doc_id=target.doc_id,
        doc_title=title,
        place=place or "",
        section=target.section,
        indicator_tokens=tuple(json.loads(target.indicator_tokens)),
    )
