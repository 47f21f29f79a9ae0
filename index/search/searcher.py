"""Search over the sparse index: BM25 ranking plus a coverage check for "nothing found".

A :class:`Searcher` reads one opened generation of the index and never changes; a
reload opens the next generation and swaps in a new searcher, so a search never sees a
half-written index. Passages are fetched from the store only for the hits returned.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, select

from index.search.engine import BM25Parameters, SparseIndex, TermPostings, bm25_scores, term_postings
from index.search.results import Hit, PassageView, highlight_spans
from index.settings import RankingSettings
from index.store.models import Document, Passage, split_section
from index.text.question import ParsedQuestion
from index.text.segmentation import QueryTerm, Tokenizer

# Credit for a question term found only through its sub-words (电梯 for 加装电梯).
SUBWORD_CREDIT = 0.5


def lucene_idf(passage_count: int, document_frequency: int) -> float:
    """Return log(1 + (N - n + 0.5) / (n + 0.5)) for N passages, n of them with the term
    (Lucene's BM25 IDF; Robertson & Zaragoza 2009 eq. 3.3 with 1 added inside the log)."""
    return float(np.log(1 + (passage_count - document_frequency + 0.5) / (document_frequency + 0.5)))


class Searcher:
    """Rank passages for parsed questions over one generation of the index.

    Args:
        index: the opened index generation.
        tokenizer: the tokenizer its tokens were made with.
        ranking: BM25 variant and parameters, and the coverage threshold.
        engine: the store, to fetch the passages returned.
    """

    def __init__(self, index: SparseIndex, tokenizer: Tokenizer, ranking: RankingSettings, engine: Engine) -> None:
        self.index = index
        self.tokenizer = tokenizer
        self.ranking = ranking
        self.engine = engine
        self.parameters = BM25Parameters(ranking.variant, ranking.k1, ranking.b, ranking.delta)
        self.passage_ids = index.array("passage_id")

    def __len__(self) -> int:
        """Live passages in the index."""
        return self.index.stats["word"].rows

    def search(self, question: ParsedQuestion, k: int = 5) -> list[Hit]:
        """Return up to ``k`` passages for a question, best first.

        Passages are ranked by BM25 over the question's tokens, their sub-words and
        synonyms. A passage is returned only if it contains at least one question term
        whole (or a synonym of it) and its coverage (see :class:`Hit`) reaches
        ``ranking.min_coverage``; an empty list means nothing relevant.

        Raises:
            ValueError: ``k`` is not positive.
        """
        if k < 1:
            raise ValueError(f"k must be a positive number of passages, got {k}")
        terms = question.terms
        postings = term_postings(self.index, "word", (a for term in terms for a in term.alternatives))
        if not postings:
            return []
        scores = bm25_scores(self.index, "word", postings, self.parameters)
        candidates = np.unique(np.concatenate([rows for rows, _ in postings.values()]))
        # Where each token occurs, as positions among the candidates (no per-row loop).
        where = {token: np.searchsorted(candidates, rows) for token, (rows, _) in postings.items()}
        has_whole = np.array([_marks(len(candidates), where, term.whole) for term in terms])
        has_part = np.array([_marks(len(candidates), where, term.alternatives) for term in terms])
        weights = np.array([self._term_weight(term, postings) for term in terms])
        credits = np.where(has_whole, 1.0, np.where(has_part, SUBWORD_CREDIT, 0.0))
        coverage = weights @ credits / weights.sum()
        accepted = np.flatnonzero((coverage >= self.ranking.min_coverage) & has_whole.any(axis=0))
        ranked = accepted[np.argsort(-scores[candidates[accepted]], kind="stable")]  # equal scores keep index order
        chosen = [(int(candidates[i]), float(coverage[i])) for i in ranked[:k]]
        views = self._passages([int(self.passage_ids[row]) for row, _ in chosen])
        hits = []
        for row, coverage in chosen:
            passage = views.get(int(self.passage_ids[row]))
            if passage is None:  # gone from the store since this generation was built
                continue
            matched = [term for term, (rows, _) in postings.items() if _holds(rows, row)]
            spans = highlight_spans(passage.text, matched)
            hits.append(Hit(len(hits) + 1, float(scores[row]), round(coverage, 3), passage, spans))
        return hits

    def neighbours(self, passage_id: int, before: int = 1, after: int = 1) -> list[PassageView]:
        """Return the passage with up to ``before``/``after`` passages of the same
        document around it, in document order; empty if the id is unknown."""
        with Session(self.engine) as session:
            focus = session.get(Passage, passage_id)
            if focus is None:
                return []
            ids = session.exec(
                select(Passage.id)
                .where(Passage.doc_id == focus.doc_id)
                .where(Passage.ordinal >= focus.ordinal - before, Passage.ordinal <= focus.ordinal + after)
                .order_by(Passage.ordinal)
            ).all()
        views = self._passages(list(ids))
        return [views[i] for i in ids if i in views]

    def _passages(self, ids: list[int]) -> dict[int, PassageView]:
        if not ids:
            return {}
        columns = (
            Passage.id, Passage.doc_id, Document.title, Passage.year, Passage.section, Passage.ordinal, Passage.text,
            Document.place,
        )  # fmt: skip
        with Session(self.engine) as session:
            rows = session.exec(
                select(*columns).join(Document, Passage.doc_id == Document.id).where(Passage.id.in_(ids))
            ).all()
        return {
            pid: PassageView(pid, doc_id, title, year, split_section(section), ordinal, text, place)
            for pid, doc_id, title, year, section, ordinal, text, place in rows
        }

    def _term_weight(self, term: QueryTerm, postings: TermPostings) -> float:
        """IDF of a question term: of its rarest whole form (word or synonym) in the
        corpus, or of an unseen term when no whole form occurs."""
        frequencies = [len(postings[w][0]) for w in term.whole if w in postings]
        return lucene_idf(len(self), min(frequencies) if frequencies else 0)


def _marks(size: int, where: dict[str, np.ndarray], words) -> np.ndarray:
    """Return a bool per candidate: does it hold any of ``words``?"""
    marks = np.zeros(size, dtype=bool)
    for word in words:
        if word in where:
            marks[where[word]] = True
    return marks


def _holds(rows: np.ndarray, row: int) -> bool:
    position = np.searchsorted(rows, row)
    return bool(position < len(rows) and rows[position] == row)
