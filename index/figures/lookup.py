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
from sqlalchemy import Engine, bindparam
from sqlmodel import select

from index.figures.model import FIGURE_KINDS, Figure
from index.figures.units import base_quantity
from index.search.engine import Gathered, SparseIndex
from index.store.engine import rows_by_ids
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
        # One mark per figure row and term: linear in the postings, where set operations
        # on row lists (np.unique, intersect1d) were most of a lookup's time.
        words = [w for term in terms for w in term.whole]
        indicator, context = self.index.gather("indicator", words), self.index.gather("context", words)
        size = self.index.rows("figures")
        held = np.ones(size, dtype=bool)
        named_rows = []
        for term in terms:
            in_indicator = _marks(indicator, term.whole, size)
            held &= in_indicator | _marks(context, term.whole, size)
            named_rows.append(in_indicator)
        candidates = self._filter(np.flatnonzero(held), year, FIGURE_KINDS.index(kind) if kind else None)
        in_indicator = np.array([named[candidates] for named in named_rows])
        scores = np.where(in_indicator, INDICATOR_WHOLE, CONTEXT_WHOLE).sum(axis=0)
        best = self._order(candidates, scores, limit=limit)
        figures = self._figures(candidates[best], scores[best], in_indicator[:, best].all(axis=0))
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
        words = list(dict.fromkeys(w for term in terms for w in term.alternatives))
        indicator, context = self.index.gather("indicator", words), self.index.gather("context", words)
        passages = self.index.gather("word", words)
        figure_rows, passage_rows = self.index.rows("figures"), self.index.rows("passages")

        def figures_with(gathered: Gathered, group) -> np.ndarray:
            return _marks(gathered, group, figure_rows)[candidates]

        def passages_with(group) -> np.ndarray:
            return _marks(passages, group, passage_rows)[around_rows]

        leading_words = [w for term in leading for w in term.whole]
        held = _marks(indicator, leading_words, figure_rows) | _marks(context, leading_words, figure_rows)
        candidates = self._filter(np.flatnonzero(held), question.years[0] if question.years else None, None)
        if not len(candidates):
            return []
        around_rows = self.passage_rows[candidates]
        own, whole_indicator, around, part = {}, {}, {}, {}
        for term in terms:
            key = term.word
            whole_indicator[key] = figures_with(indicator, term.whole)
            own[key] = self._own(candidates, indicator, term)
            in_context = figures_with(context, term.whole)
            around[key] = in_context | passages_with(term.whole)
            part[key] = (
                figures_with(indicator, term.alternatives)
                | figures_with(context, term.alternatives)
                | passages_with(term.alternatives)
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
        best = self._order(
            candidates, scores, self.units[candidates] != unit_code, self.kinds[candidates] != kind_code, limit=limit
        )
        return self._figures(candidates[best], scores[best], np.zeros(len(best), dtype=bool))

    def _own(self, candidates: np.ndarray, indicator: Gathered, term: QueryTerm) -> np.ndarray:
        """Whether the term is whole in the indicator itself, not only as its unit."""
        result = np.zeros(len(candidates), dtype=bool)
        for number, word in enumerate(indicator.terms):
            if word not in term.whole:
                continue
            start, end = indicator.bounds[number], indicator.bounds[number + 1]
            rows, tf = indicator.rows[start:end], indicator.tf[start:end]
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

    def _order(self, rows: np.ndarray, scores: np.ndarray, *leading: np.ndarray, limit: int | None = None):
        """Return positions into ``rows``, best first, at most ``limit``: leading keys
        (False first), then kind ``other`` last, best score (to 6 decimals), known before
        redacted, newest year, store id.

        With a limit, only the rows at or above the limit-th by the first keys are
        sorted (the same first ``limit`` as sorting all): a lookup of 项目 matches 50,000
        figures at 200k passages, and sorting them all was half its time.
        """
        positions = np.arange(len(rows))
        if limit is not None and 0 < limit < len(rows):
            first = np.zeros(len(rows), dtype=np.int64)
            for key in (*leading, self.kinds[rows] == OTHER):
                first = first * 2 + key
            # np.round(x, 6) is rint(x * 1e6) / 1e6: the same order as the integer.
            first = (first << 40) - np.rint(scores * 1e6).astype(np.int64)
            positions = np.flatnonzero(first <= np.partition(first, limit - 1)[limit - 1])
        keys = (
            self.ids[rows[positions]],
            -self.years[rows[positions]].astype(np.int64),
            self.redacted[rows[positions]],
            -np.round(scores[positions], 6),
            self.kinds[rows[positions]] == OTHER,
            *(key[positions] for key in reversed(leading)),
        )
        return positions[np.lexsort(keys)][:limit] if len(positions) else positions

    def _figures(self, rows: np.ndarray, scores: np.ndarray, named: np.ndarray) -> list[Figure]:
        """The figures of ``rows`` from the store, in order, with their lookup score and
        whether every word was in the indicator (one entry of each per row)."""
        ids = [int(self.ids[row]) for row in rows]
        if not ids:
            return []
        with self.engine.connect() as connection:  # Core rows: no ORM objects for a read of a few rows
            found = {row[0]: _figure(*row) for row in rows_by_ids(connection, _FIGURES_BY_ID, ids)}
        return [
            replace(found[figure_id], score=round(score, 3), indicator_match=match)
            for figure_id, score, match in zip(ids, scores.tolist(), named.tolist(), strict=True)
            if figure_id in found  # else gone from the store since this generation was built
        ]


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


def _marks(gathered: Gathered, words, size: int) -> np.ndarray:
    """Bool per row of the space: whether it holds any of ``words`` (gathered before)."""
    marks = np.zeros(size, dtype=bool)
    gathered.mark(marks, set(words))
    return marks


_FIGURE_COLUMNS = (
    Target.id, Target.char_start, Target.char_end, Target.indicator, Target.value, Target.value_max,
    Target.value_text, Target.unit, Target.qualifier, Target.kind, Target.period, Target.year,
    Target.redacted, Target.sentence, Target.doc_id, Document.title, Document.place, Target.section,
    Target.indicator_tokens,
)  # fmt: skip
_FIGURES_BY_ID = (
    select(*_FIGURE_COLUMNS)
    .join(Document, Target.doc_id == Document.id)
    .where(Target.id.in_(bindparam("ids", expanding=True)))
)


def _figure(
    figure_id, start, end, indicator, value, value_max, value_text, unit, qualifier, kind, period, year, redacted,
    sentence, doc_id, title, place, section, indicator_tokens,
) -> Figure:  # fmt: skip
    """A figure from one row of ``_FIGURES_BY_ID``."""
    return Figure(
        id=figure_id,
        start=start,
        end=end,
        indicator=indicator,
        value=value,
        value_max=value_max,
        value_text=value_text,
        unit=unit,
        qualifier=qualifier,
        kind=kind,
        period=period,
        year=year,
        redacted=bool(redacted),
        sentence=sentence,
        doc_id=doc_id,
        doc_title=title,
        place=place or "",
        section=section,
        indicator_tokens=tuple(json.loads(indicator_tokens)),
    )
