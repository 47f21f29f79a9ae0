"""Search over the sparse index: BM25 over two fields, steered by place and year, with
a coverage check for "nothing found".

A :class:`Searcher` reads one opened generation of the index and never changes; a
reload opens the next generation and swaps in a new searcher, so a search never sees a
half-written index. Passages are fetched from the store only for the hits returned.

Scoring. Every token's BM25 contribution is rank-bm25's for that token (the engine's
scores equal rank-bm25 ``get_scores`` per token, tested in ``tests/test_engine.py``);
a question's score for a passage combines them per concept (see
:mod:`index.search.understanding`):

    concept = max over whole forms (fit x BM25) + sub-word BM25 x SUBWORD_WEIGHT
    score   = (sum of concepts + bigram_weight x bigram-field BM25) x steering

where steering is ``1 + place_boost`` for a passage of a document about the place the
question names and ``1 + year_boost`` for a passage about the year it names.
"""

from __future__ import annotations

import re

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from index.search.engine import BM25Parameters, SparseIndex, bm25_weights, idf, term_postings
from index.search.results import Answer, Hit, PassageView, highlight_spans
from index.search.understanding import PARTIAL_CREDIT, Concept, QueryInterpreter, QueryPlan
from index.settings import RankingSettings
from index.store.models import Document, Passage, split_section
from index.text.normalize import index_form
from index.text.periods import month_ranges
from index.text.places import gazetteer
from index.text.question import ParsedQuestion
from index.text.segmentation import Tokenizer

# A whole concept found only through its sub-words (电梯 for 加装电梯) scores this share.
SUBWORD_WEIGHT = 0.25
# Near-duplicates: passages sharing this share of their character 3-grams are one text.
DUPLICATE_SIMILARITY = 0.7
# How many ranked passages are fetched, re-ranked by their text and cut to k distinct ones.
FETCH_FACTOR = 2
# Re-ranking by text: a figure answering a number question, the months the question names.
NUMBER_BOOST = 0.4
PERIOD_BOOST = 0.3


def lucene_idf(passage_count: int, document_frequency: int) -> float:
    """Return log(1 + (N - n + 0.5) / (n + 0.5)) for N passages, n of them with the term
    (Lucene's BM25 IDF; Robertson & Zaragoza 2009 eq. 3.3 with 1 added inside the log)."""
    return float(np.log(1 + (passage_count - document_frequency + 0.5) / (document_frequency + 0.5)))


class Searcher:
    """Rank passages for parsed questions over one generation of the index.

    Args:
        index: the opened index generation.
        tokenizer: the tokenizer its tokens were made with.
        ranking: BM25 variant and parameters, the coverage threshold and the switches
            of each mechanism (see :class:`index.settings.RankingSettings`).
        engine: the store, to fetch the passages returned and the documents' places.
    """

    def __init__(self, index: SparseIndex, tokenizer: Tokenizer, ranking: RankingSettings, engine: Engine) -> None:
        self.index = index
        self.tokenizer = tokenizer
        self.ranking = ranking
        self.engine = engine
        self.parameters = BM25Parameters(ranking.variant, ranking.k1, ranking.b, ranking.delta)
        self.passage_ids = index.array("passage_id")
        self.passage_years = index.array("passage_year")
        live_years = np.unique(self.passage_years[index.live["passages"]]) if len(self.passage_years) else ()
        self.years_covered = frozenset(int(year) for year in live_years if year)
        with Session(engine) as session:
            self.doc_places = dict(session.exec(select(Document.id, Document.place)).all())
            newest = session.exec(select(func.max(Document.year))).one()
        self.interpreter = QueryInterpreter(
            index, tokenizer, newest, lambda n: lucene_idf(len(self), n), ranking.abbreviations, ranking.typos
        )
        self._row_places: np.ndarray | None = None
        self._place_names: list[str | None] = []

    def __len__(self) -> int:
        """Live passages in the index."""
        return self.index.stats["word"].rows

    def search(self, question: ParsedQuestion, k: int = 5) -> list[Hit]:
        """Return up to ``k`` passages for a question, best first (see :meth:`answer`).

        Raises:
            ValueError: ``k`` is not positive.
        """
        return list(self.answer(question, k).hits)

    def answer(self, question: ParsedQuestion, k: int = 5) -> Answer:
        """Return up to ``k`` passages for a question, best first, with how it was read.

        A passage is returned only if its coverage (see :class:`Hit`) of the concepts
        the corpus knows reaches ``ranking.min_coverage`` and its evidence reaches
        ``ranking.min_evidence``; no hit means nothing relevant.

        Raises:
            ValueError: ``k`` is not positive.
        """
        if k < 1:
            raise ValueError(f"k must be a positive number of passages, got {k}")
        plan = self.interpreter.interpret(question) if len(self) else QueryPlan(())
        notes = {"rewrites": plan.rewrites, "relative_years": plan.relative}
        concepts = _key_concepts(plan.concepts, self.ranking.key_concepts)
        if not any(c.weight > 0 and c.source != "unseen" for c in concepts):
            return Answer((), **notes)
        word_tokens = [t for c in concepts for t in (*(f for f, _ in c.forms), *c.parts)]
        postings = term_postings(self.index, "word", word_tokens)
        bigram_tokens = [g for c in concepts for g in c.bigrams]
        if self.ranking.bigram_weight > 0:
            bigram_tokens += [g for c in concepts if c.weight > 0 and c.forms for g in _word_bigrams(c)]
        bigram_tokens += [g for phrase in plan.phrases for g in phrase.bigrams]
        bigrams = term_postings(self.index, "bigram", bigram_tokens)
        rows = [r for r, _ in postings.values()] + [r for r, _ in bigrams.values()]
        if not rows:
            return Answer((), **notes)
        # Candidates and each row's place among them through one mark per row: linear in
        # the corpus and the postings, where a sort-based np.unique was the query's cost.
        held = np.zeros(self.index.rows("passages"), dtype=bool)
        for part in rows:
            held[part] = True
        candidates = np.flatnonzero(held)
        position = np.zeros(len(held), dtype=np.int64)
        position[candidates] = np.arange(len(candidates))
        weights = {t: self._weights("word", t, p, position, len(candidates)) for t, p in postings.items()}
        grams = {t: self._weights("bigram", t, p, position, len(candidates)) for t, p in bigrams.items()}
        scores = np.zeros(len(candidates))
        credit_rows = []
        for concept in concepts:
            whole = np.zeros(len(candidates))
            for form, fit in concept.forms:
                if form in weights:
                    whole = np.maximum(whole, fit * weights[form])
            partial = sum((weights[p] for p in concept.parts if p in weights), np.zeros(len(candidates)))
            own_grams = [grams[g] for g in concept.bigrams if g in grams]
            spread = sum(own_grams, np.zeros(len(candidates)))
            scores += whole + SUBWORD_WEIGHT * partial + spread
            found_whole = whole > 0
            found_part = (partial > 0) | (_share_present(own_grams) >= 0.5)
            credit_rows.append(np.where(found_whole, 1.0, np.where(found_part, PARTIAL_CREDIT, 0.0)))
        if self.ranking.bigram_weight > 0:
            fused = [grams[g] for c in concepts if c.weight > 0 and c.forms for g in _word_bigrams(c) if g in grams]
            scores += self.ranking.bigram_weight * sum(fused, np.zeros(len(candidates)))
        credits = np.array(credit_rows)
        concept_weights = np.array([c.weight for c in concepts])
        coverage = concept_weights @ credits / concept_weights.sum()
        # In units of the IDF of the rarest possible word, so the threshold means the same
        # in a corpus of 50 passages and of 200,000.
        rarest = lucene_idf(len(self), 0)
        evidence = (concept_weights * np.array([c.specificity for c in concepts])) @ credits / rarest
        for phrase in plan.phrases:
            whole_run = _share_present([grams[g] for g in phrase.bigrams if g in grams]) == 1.0
            evidence = evidence + np.where(whole_run, phrase.weight / rarest, 0.0)
            if self.ranking.bigram_weight > 0:
                scores += self.ranking.bigram_weight * whole_run * sum(grams[g] for g in phrase.bigrams if g in grams)
        accepted = (coverage >= self.ranking.min_coverage) & (evidence >= self.ranking.min_evidence)
        missing_places, missing_years = (), ()
        if plan.places and self.ranking.place_boost > 0:
            matched, missing_places = self._place_rows(plan.places, candidates)
            scores = scores * np.where(matched, 1 + self.ranking.place_boost, 1.0)
        if plan.years and self.ranking.year_boost > 0:
            of_year = np.isin(self.passage_years[candidates], plan.years)
            scores = scores * np.where(of_year, 1 + self.ranking.year_boost, 1.0)
            missing_years = tuple(y for y in plan.years if y not in self.years_covered)
        picked = np.flatnonzero(accepted)
        ranked = picked[np.argsort(-scores[picked], kind="stable")]  # equal scores keep index order
        hits = self._hits(plan, candidates, ranked, scores, coverage, evidence, k, list(postings) + list(bigrams))
        return Answer(tuple(hits), plan.rewrites, plan.relative, missing_places, missing_years)

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

    def _weights(self, field: str, token: str, posting, position: np.ndarray, size: int) -> np.ndarray:
        """BM25 contribution of one token to each candidate (0 where it is absent)."""
        rows, tf = posting
        stats = self.index.stats[field]
        term_idf = idf(stats, np.array([self.index.term_id(field, token)]), self.parameters)[0]
        values = np.zeros(size)
        if term_idf and len(rows):
            lengths = self.index.lengths[field][rows].astype(np.float64)
            contribution = bm25_weights(tf.astype(np.float64), lengths, term_idf, stats, self.parameters)
            values[position[rows]] = contribution
        return values

    def _place_rows(self, places: tuple[str, ...], candidates: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
        """Which candidates come from a document about one of ``places``, and the
        places no document is about."""
        if self._row_places is None:
            self._place_names = sorted({p for p in self.doc_places.values() if p}, key=str)
            code = {place: number for number, place in enumerate(self._place_names)}
            parts = []
            for segment in self.index.segments:
                per_doc = np.array([code.get(self.doc_places.get(d) or "", -1) for d in segment.docs] + [-1])
                parts.append(per_doc[np.asarray(segment.arrays["passage_doc"], dtype=np.int64)])
            self._row_places = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        wanted = [n for n, place in enumerate(self._place_names) if any(_same_place(place, p) for p in places)]
        missing = tuple(p for p in places if not any(_same_place(place, p) for place in self._place_names))
        return np.isin(self._row_places[candidates], wanted), missing

    def _hits(self, plan: QueryPlan, candidates, ranked, scores, coverage, evidence, k: int, terms) -> list[Hit]:
        """Fetch the best ``k x FETCH_FACTOR`` passages, re-rank them by what their text
        says (a figure for a number question, the months the question names), and keep
        the first ``k`` that are not near-copies of a better one."""
        window = ranked[: k * FETCH_FACTOR]
        views = self._passages([int(self.passage_ids[candidates[i]]) for i in window])
        fetched = []
        for i in window:
            passage = views.get(int(self.passage_ids[candidates[i]]))
            if passage is not None:  # else gone from the store since this generation was built
                folded = index_form(passage.text)
                fetched.append((float(scores[i]) * _text_boost(plan, folded), i, passage, folded))
        fetched.sort(key=lambda item: -item[0])  # stable: equal scores keep the ranking's order
        hits: list[Hit] = []
        kept: list[set[str]] = []
        for score, i, passage, folded in fetched:
            shingles = _shingles(folded)
            if self.ranking.deduplicate and any(_similarity(shingles, other) >= DUPLICATE_SIMILARITY for other in kept):
                continue
            kept.append(shingles)
            spans = highlight_spans(passage.text, terms)
            shown = (round(float(coverage[i]), 3), passage, spans, round(float(evidence[i]), 3))
            hits.append(Hit(len(hits) + 1, score, *shown))
            if len(hits) == k:
                break
        return hits

    def _passages(self, ids: list[int]) -> dict[int, PassageView]:
        if not ids:
            return {}
        columns = (
            Passage.id, Passage.doc_id, Document.title, Passage.year, Passage.section, Passage.ordinal, Passage.text,
            Document.place,
        )  # fmt: skip
        statement = select(*columns).join(Document, Passage.doc_id == Document.id).where(Passage.id.in_(ids))
        with self.engine.connect() as connection:  # Core rows: no ORM session for a read of a few rows
            rows = connection.execute(statement).all()
        return {
            pid: PassageView(pid, doc_id, title, year, split_section(section), ordinal, text, place)
            for pid, doc_id, title, year, section, ordinal, text, place in rows
        }


def _text_boost(plan: QueryPlan, folded: str) -> float:
    """Score factor from a passage's text (index form): ``1 + NUMBER_BOOST`` when a number question
    meets a figure (of the unit asked, when it names one), ``1 + PERIOD_BOOST`` when the
    passage names the months the question does (前8个月 = 1至8月)."""
    factor = 1.0
    if plan.asks_number:
        unit = re.escape(plan.unit) if plan.unit else ""
        if re.search(rf"(?:\d|[xX*])\s*(?:万|亿)?{unit}", folded):
            factor *= 1 + NUMBER_BOOST
    if plan.months and plan.months & month_ranges(folded):
        factor *= 1 + PERIOD_BOOST
    return factor


def _key_concepts(concepts: tuple[Concept, ...], limit: int) -> tuple[Concept, ...]:
    """The ``limit`` concepts that say most about the field, in question order: a long
    question rambles (不能, 决定, 应该 are rare in reports but say nothing), so it is
    searched and its coverage measured by its most specific words (IDF x specificity);
    unseen nouns stay, as they still show what it asks about. Places stay."""
    weighted = [c for c in concepts if c.weight > 0 and c.source != "unseen"]
    if len(weighted) <= limit:
        return concepts
    keep = {id(c) for c in sorted(weighted, key=lambda c: -c.weight * c.specificity)[:limit]}
    return tuple(c for c in concepts if c.weight == 0 or c.source == "unseen" or id(c) in keep)


def _word_bigrams(concept: Concept) -> list[str]:
    """Bigram-field tokens of a concept's whole forms (the question's own characters)."""
    grams = []
    for form, _ in concept.forms:
        folded = index_form(form)
        grams += [folded[i : i + 2] for i in range(len(folded) - 1)]
    return list(dict.fromkeys(grams))


def _share_present(arrays: list[np.ndarray]) -> np.ndarray | float:
    """Per candidate, the share of ``arrays`` (one per bigram) that are non-zero."""
    if not arrays:
        return 0.0
    return np.mean([a > 0 for a in arrays], axis=0)


def _same_place(document_place: str, asked: str) -> bool:
    """Whether a document's place is the place asked (北京市 for 北京, 山东省 for 山东省)."""
    if document_place == asked:
        return True
    names = gazetteer()
    return names.expand(document_place) == asked or document_place == names.expand(asked)


def _shingles(folded: str) -> set[str]:
    folded = "".join(folded.split())
    return {folded[i : i + 3] for i in range(max(1, len(folded) - 2))}


def _similarity(left: set[str], right: set[str]) -> float:
    """Overlap of two shingle sets relative to the smaller (a 导读 repeating the body
    counts as a copy of it)."""
    return len(left & right) / max(1, min(len(left), len(right)))
