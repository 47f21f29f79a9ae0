"""BM25 scorers from rank-bm25, and the IDF used to judge how much of a question a
passage covers."""

from __future__ import annotations

import math

from rank_bm25 import BM25, BM25L, BM25Okapi, BM25Plus

from index.settings import RankingSettings


class LuceneBM25(BM25Okapi):
    """BM25Okapi scoring with Lucene's IDF, log(1 + (N - n + 0.5) / (n + 0.5)).

    rank-bm25's BM25Okapi uses log((N - n + 0.5) / (n + 0.5)), negative for terms in
    more than half the passages, and floors those at epsilon x mean IDF; on a small
    corpus that floor can rank a common term above a rare one. Lucene's form (Lucene
    ``BM25Similarity``; Robertson & Zaragoza 2009, eq. 3.3 plus one inside the log) is
    positive and monotone in n.
    """

    def _calc_idf(self, nd: dict[str, int]) -> None:
        for word, document_frequency in nd.items():
            self.idf[word] = lucene_idf(self.corpus_size, document_frequency)
        self.average_idf = sum(self.idf.values()) / max(len(self.idf), 1)


def lucene_idf(passage_count: int, document_frequency: int) -> float:
    """Return log(1 + (N - n + 0.5) / (n + 0.5)) for N passages, n of them with the term."""
    return math.log(1 + (passage_count - document_frequency + 0.5) / (document_frequency + 0.5))


def build_bm25(corpus: list[list[str]], settings: RankingSettings) -> BM25:
    """Return a rank-bm25 scorer over ``corpus`` (one token list per passage).

    Raises:
        ValueError: ``corpus`` is empty (rank-bm25 cannot average zero lengths).
    """
    if not corpus:
        raise ValueError("cannot build BM25 over an empty corpus")
    k1, b = settings.k1, settings.b
    if settings.variant == "lucene":
        return LuceneBM25(corpus, k1=k1, b=b)
    if settings.variant == "okapi":
        return BM25Okapi(corpus, k1=k1, b=b)
    if settings.variant == "plus":
        return BM25Plus(corpus, k1=k1, b=b, delta=settings.delta)
    return BM25L(corpus, k1=k1, b=b, delta=settings.delta)
