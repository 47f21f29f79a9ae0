"""Search over an in-memory snapshot of the passages: BM25 ranking plus a coverage check.

A :class:`SearchIndex` is immutable once built; a reload builds a new one and swaps it
in (see :mod:`index.library`), so a search never sees a half-built index.
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, select

from index.search.reference import build_bm25, lucene_idf
from index.search.results import Hit, PassageView, highlight_spans
from index.settings import RankingSettings
from index.store.models import Document, Passage, split_section
from index.text.question import ParsedQuestion
from index.text.segmentation import QueryTerm, Tokenizer

# Credit for a question term found only through its sub-words (电梯 for 加装电梯).
SUBWORD_CREDIT = 0.5


class SearchIndex:
    """BM25 over passage token lists, with postings to find candidate passages.

    Args:
        passages: passages in a stable order.
        token_lists: the stored tokens of each passage, same order.
        tokenizer: the tokenizer the tokens were made with; it segments questions.
        ranking: BM25 variant and parameters.
    """

    def __init__(
        self,
        passages: list[PassageView],
        token_lists: list[list[str]],
        tokenizer: Tokenizer,
        ranking: RankingSettings,
    ) -> None:
        if len(passages) != len(token_lists):
            raise ValueError(f"{len(passages)} passages but {len(token_lists)} token lists")
        self.passages = passages
        self.tokenizer = tokenizer
        self.ranking = ranking
        self._bm25 = build_bm25(token_lists, ranking) if passages else None
        postings: dict[str, list[int]] = defaultdict(list)
        for position, tokens in enumerate(token_lists):
            for token in dict.fromkeys(tokens):
                postings[token].append(position)
        self._postings = {token: np.array(ids) for token, ids in postings.items()}
        self._by_id = {p.id: position for position, p in enumerate(passages)}

    def __len__(self) -> int:
        return len(self.passages)

    def passage(self, passage_id: int) -> PassageView | None:
        """Return the passage with this store id, or None if it is not indexed."""
        position = self._by_id.get(passage_id)
        return None if position is None else self.passages[position]

    def neighbours(self, passage_id: int, before: int = 1, after: int = 1) -> list[PassageView]:
        """Return the passage with up to ``before``/``after`` passages of the same
        document around it, in document order; empty if the id is unknown."""
        position = self._by_id.get(passage_id)
        if position is None:
            return []
        doc_id = self.passages[position].doc_id
        window = self.passages[max(0, position - before) : position + after + 1]
        return [p for p in window if p.doc_id == doc_id]

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
        if self._bm25 is None:
            return []
        terms = question.terms
        query = [t for t in dict.fromkeys(a for term in terms for a in term.alternatives) if t in self._postings]
        if not query:
            return []
        candidates = np.unique(np.concatenate([self._postings[t] for t in query]))
        scores = np.asarray(self._bm25.get_batch_scores(query, candidates.tolist()))
        weights = [self._term_weight(term) for term in terms]
        total_weight = sum(weights)
        hits: list[Hit] = []
        # Stable sort: equal scores keep document order.
        for position in np.argsort(-scores, kind="stable"):
            index = int(candidates[position])
            frequencies = self._bm25.doc_freqs[index]
            credits = [_credit(term, frequencies) for term in terms]
            coverage = sum(w * c for w, c in zip(weights, credits, strict=True)) / total_weight
            if coverage < self.ranking.min_coverage or 1.0 not in credits:
                continue
            passage = self.passages[index]
            spans = highlight_spans(passage.text, [t for t in query if t in frequencies])
            hits.append(Hit(len(hits) + 1, float(scores[position]), round(coverage, 3), passage, spans))
            if len(hits) == k:
                break
        return hits

    def _term_weight(self, term: QueryTerm) -> float:
        """IDF of a question term: of its rarest whole form (word or synonym) in the
        corpus, or of an unseen term when no whole form occurs."""
        frequencies = [len(self._postings[w]) for w in term.whole if w in self._postings]
        return lucene_idf(len(self.passages), min(frequencies) if frequencies else 0)


def _credit(term: QueryTerm, frequencies: dict[str, int]) -> float:
    if any(word in frequencies for word in term.whole):
        return 1.0
    if any(word in frequencies for word in term.alternatives):
        return SUBWORD_CREDIT
    return 0.0


def load_search_index(engine: Engine, tokenizer: Tokenizer, ranking: RankingSettings) -> SearchIndex:
    """Build a :class:`SearchIndex` from the stored passages and tokens (no re-tokenizing)."""
    with Session(engine) as session:
        rows = session.exec(
            select(Passage, Document.title)
            .join(Document, Passage.doc_id == Document.id)
            .order_by(Passage.doc_id, Passage.ordinal)
        ).all()
    passages = [
        PassageView(p.id, p.doc_id, title, p.year, split_section(p.section), p.ordinal, p.text) for p, title in rows
    ]
    return SearchIndex(passages, [json.loads(p.tokens) for p, _ in rows], tokenizer, ranking)
