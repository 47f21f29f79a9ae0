"""Search over the sparse index: BM25 over two fields, steered by place and year, with
a coverage check for "nothing found".

A :class:`Searcher` reads one opened generation of the index and never changes; a
reload opens the next generation and swaps in a new searcher, so a search never sees a
half-written index. The passages of an answer are read from the index, which holds
their text and section; the store is read only for a passage's neighbours.

Scoring. Every token's BM25 contribution is rank-bm25's for that token (the engine's
scores equal rank-bm25 ``get_scores`` per token, tested in ``tests/test_engine.py``);
a question's score for a passage combines them per concept (see
:mod:`index.search.understanding`):

    concept = max over whole forms (fit x BM25) + sub-word BM25 x SUBWORD_WEIGHT
    score   = (sum of concepts + bigram_weight x bigram-field BM25) x steering

where steering is ``1 + place_boost`` for a passage of a document about the place the
question names and ``1 + year_boost`` for a passage about the year it names. The best
``k x FETCH_FACTOR`` are then re-ranked by what they state: a figure for a number
question (``NUMBER_BOOST``), a figure of the kind and unit asked in the ledger
(``KIND_BOOST``), the months asked (``PERIOD_BOOST``). Passages that cannot reach the
coverage threshold (they hold no word of the weightier concepts) are never scored.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
from sqlalchemy import Connection, Engine, bindparam
from sqlmodel import Session, func, select

from index.figures.lookup import figure_places
from index.figures.model import FIGURE_KINDS
from index.figures.units import base_quantity
from index.search.engine import (
    PASSAGE_FIELDS,
    BM25Parameters,
    Gathered,
    SparseIndex,
    bm25_weights,
    concat_ranges,
    idf,
    length_norms,
)
from index.search.near_copies import first_distinct
from index.search.results import Answer, Hit, PassageView, highlight_spans
from index.search.understanding import PARTIAL_CREDIT, Concept, QueryInterpreter, QueryPlan
from index.settings import RankingSettings
from index.store.engine import rows_by_ids
from index.store.models import Document, Passage, split_section
from index.text.normalize import fold_widths, to_simplified
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
KIND_BOOST = 0.3


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
        # Per field, fixed for this generation: every term's IDF and every row's length
        # normalisation, so a question only picks its terms' and rows' values.
        self.idfs = {
            name: idf(index.stats[name], np.arange(len(index.vocabularies[name]), dtype=np.int64), self.parameters)
            for name in PASSAGE_FIELDS
        }
        self.norms = {
            name: length_norms(index.lengths[name], index.stats[name], self.parameters) for name in PASSAGE_FIELDS
        }
        self.passage_ids = index.array("passage_id")
        self.passage_years = index.array("passage_year")
        self.passage_ordinals = index.array("passage_ordinal")
        self.passage_simplified = index.array("passage_simplified")
        # Global passage row -> number of its document in doc_ids (segments' lists end to end).
        self.doc_ids: list[str] = []
        codes = []
        for segment in index.segments:
            codes.append(np.asarray(segment.arrays["passage_doc"], dtype=np.int64) + len(self.doc_ids))
            self.doc_ids.extend(segment.docs)
        self.row_docs = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
        live_years = np.unique(self.passage_years[index.live["passages"]]) if len(self.passage_years) else ()
        self.years_covered = frozenset(int(year) for year in live_years if year)
        with Session(engine) as session:
            # Titles and places of this generation's documents, for the passages shown
            # (a join per answer cost half its database read).
            self.documents = {doc_id: (title, place) for doc_id, title, place in session.exec(_DOCUMENTS)}
            self.doc_places = {doc_id: place for doc_id, (_, place) in self.documents.items()}
            newest = session.exec(select(func.max(Document.year))).one()
        self.interpreter = QueryInterpreter(
            index, tokenizer, newest, lambda n: lucene_idf(len(self), n), ranking.abbreviations, ranking.typos
        )
        self.figures = _PassageFigures(index)
        self._places: _DocumentPlaces | None = None  # built on the first question naming a place

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
        bigram_tokens = [g for c in concepts for g in c.bigrams]
        # Each weighted concept's whole forms fused into one bigram-field slot (see the module docstring).
        fused = (
            [_word_bigrams(c) for c in concepts if c.weight > 0 and c.forms] if self.ranking.bigram_weight > 0 else []
        )
        bigram_tokens += [g for grams in fused for g in grams]
        bigram_tokens += [g for phrase in plan.phrases for g in phrase.bigrams]
        asked = {"word": word_tokens, "bigram": bigram_tokens}
        postings, starts = self.index.gather_fields([(field, asked[field]) for field in PASSAGE_FIELDS])
        if not postings.terms:
            return Answer((), **notes)
        numbers = {
            field: {term: starts[i] + n for n, term in enumerate(postings.terms[starts[i] : starts[i + 1]])}
            for i, field in enumerate(PASSAGE_FIELDS)
        }
        # Candidates and each row's place among them through one mark per row: linear in
        # the corpus and the postings, where a sort-based np.unique was the query's cost.
        held = np.zeros(self.index.rows("passages"), dtype=bool)
        # In units of the IDF of the rarest possible word, so the threshold means the same
        # in a corpus of 50 passages and of 200,000.
        rarest = lucene_idf(len(self), 0)
        required = []  # concepts a passage must hold a word of to be accepted, per threshold
        if self.ranking.min_coverage > 0:
            total = sum(c.weight for c in concepts)
            required.append(_essential(concepts, [c.weight for c in concepts], self.ranking.min_coverage * total))
        reachable = self.ranking.min_evidence * rarest - sum(p.weight for p in plan.phrases)
        if self.ranking.min_evidence > 0 and reachable > 0:
            required.append(_essential(concepts, [c.weight * c.specificity for c in concepts], reachable))
        if required:
            # A passage holding no word of the weightier concepts cannot reach the threshold
            # (the "essential" terms of MaxScore, Turtle & Flood 1995): the other words'
            # postings (工作, 建设) are kept only where such a passage is. The answer is the
            # same; at 20k passages a third of those holding any word are scored.
            word_numbers, gram_numbers = numbers["word"], numbers["bigram"]
            for number, essential in enumerate(required):
                marks = held if number == 0 else np.zeros(len(held), dtype=bool)
                wanted = {word_numbers.get(t) for c in essential for t in (*(f for f, _ in c.forms), *c.parts)}
                wanted.update(gram_numbers.get(g) for c in essential for g in c.bigrams)
                postings.mark_numbers(marks, wanted)
                if number:
                    held &= marks
            postings = postings.restricted(held)
        else:
            held[postings.rows] = True
        candidates = np.flatnonzero(held)
        # Read only at the postings' rows, all of them candidates: left unset elsewhere
        # (zeroing it was a pass over every row of the corpus).
        position = np.empty(len(held), dtype=np.int64)
        position[candidates] = np.arange(len(candidates))
        size, count = len(candidates), len(concepts)
        contributions = _Contributions(self, postings, starts, numbers, position, size)
        # Summed slots: each concept's sub-words (word field), then in the bigram field
        # each concept's own bigrams, the fused word bigrams, and each phrase.
        gram_slot = count
        fused_slot, phrase_slot = gram_slot + count, gram_slot + count + 1
        for number, concept in enumerate(concepts):
            for form, fit in concept.forms:
                contributions.link("word", form, number, fit, best=True)
            for part in concept.parts:
                contributions.link("word", part, number)
            for gram in concept.bigrams:
                contributions.link("bigram", gram, gram_slot + number)
        for grams in fused:
            for gram in grams:
                contributions.link("bigram", gram, fused_slot)
        for number, phrase in enumerate(plan.phrases):
            for gram in phrase.bigrams:
                contributions.link("bigram", gram, phrase_slot + number)
        # Tokens held are counted only for the slots that are checked below.
        counted = bool(plan.phrases) or any(c.bigrams for c in concepts)
        whole, sums, counts = contributions.spread(count, phrase_slot + len(plan.phrases), counted, phrase_slot)
        partial, spread = sums[:count], sums[gram_slot:]
        present = counts[gram_slot:] if counts is not None else None
        # A concept is partly found by a sub-word or by half its own bigrams (only the
        # concepts that have bigrams, few, are checked for the second).
        found_part = partial > 0
        for number in range(count):
            own = contributions.linked(gram_slot + number)
            if own:
                found_part[number] |= present[number] * 2 >= own
        # 1 where found whole, else PARTIAL_CREDIT where found in part (one pass fewer than nested np.where)
        credits = np.maximum(whole > 0, PARTIAL_CREDIT * found_part)
        scores = (whole + SUBWORD_WEIGHT * partial + spread[:count]).sum(axis=0)
        if self.ranking.bigram_weight > 0:
            scores += self.ranking.bigram_weight * spread[count]
        concept_weights = np.array([c.weight for c in concepts])
        coverage = concept_weights @ credits / concept_weights.sum()
        evidence = (concept_weights * np.array([c.specificity for c in concepts])) @ credits / rarest
        for number, phrase in enumerate(plan.phrases):
            slot, linked = count + 1 + number, contributions.linked(phrase_slot + number)
            whole_run = (present[slot] == linked) & (linked > 0)
            evidence = evidence + np.where(whole_run, phrase.weight / rarest, 0.0)
            if self.ranking.bigram_weight > 0:
                scores += self.ranking.bigram_weight * whole_run * spread[slot]
        accepted = (coverage >= self.ranking.min_coverage) & (evidence >= self.ranking.min_evidence)
        missing_places, missing_years = (), ()
        if plan.places and self.ranking.place_boost > 0:
            matched, missing_places = self._place_rows(plan.places, candidates)
            scores = scores * np.where(matched, 1 + self.ranking.place_boost, 1.0)
        if plan.years and self.ranking.year_boost > 0:
            of_year = np.isin(self.passage_years[candidates], plan.years)
            scores = scores * np.where(of_year, 1 + self.ranking.year_boost, 1.0)
            missing_years = tuple(y for y in plan.years if y not in self.years_covered)
        ranked = _best(np.flatnonzero(accepted), scores, k * FETCH_FACTOR)
        hits = self._hits(plan, candidates, ranked, scores, coverage, evidence, k, postings.terms)
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

    def _place_rows(self, places: tuple[str, ...], candidates: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
        """Which candidates come from a document about one of ``places``, and the
        places no document is about."""
        table = self._places
        if table is None:
            table = self._places = _DocumentPlaces(self.doc_ids, self.doc_places, self.row_docs)
        found = [table.codes(place) for place in places]
        wanted = np.zeros(len(table.names) + 1, dtype=bool)  # the last: rows of no place (code -1)
        wanted[[code for codes in found for code in codes]] = True
        return wanted[table.row_codes[candidates]], tuple(
            p for p, codes in zip(places, found, strict=True) if not codes
        )

    def _hits(self, plan: QueryPlan, candidates, ranked, scores, coverage, evidence, k: int, terms) -> list[Hit]:
        """Read the best ``k x FETCH_FACTOR`` passages from the index, re-rank them by
        what their text says (a figure for a number question, the months the question
        names), and keep the first ``k`` that are not near-copies of a better one."""
        window = ranked[: k * FETCH_FACTOR]
        rows = candidates[window]
        kind_factor = np.ones(len(window))
        if plan.asks_number and plan.kind:
            kind_factor += KIND_BOOST * self.figures.holding(rows, plan.kind, plan.unit)
        rows = rows.tolist()
        texts = self.index.texts("passage_text", rows)
        # Folded to index form: OpenCC only for the passages that need it (few do),
        # full-width punctuation (nearly all do) for the whole window at once.
        simplified = self.passage_simplified[rows].tolist()
        folded_texts = fold_widths(
            [text if as_is else to_simplified(text) for text, as_is in zip(texts, simplified, strict=True)]
        )
        boost = _TextBoost(plan)
        fetched = []
        for i, row, text, folded, factor in zip(
            window.tolist(), rows, texts, folded_texts, kind_factor.tolist(), strict=True
        ):
            said = boost(folded) if boost.applies else 1.0
            fetched.append((float(scores[i]) * said * factor, i, row, text, folded))
        fetched.sort(key=lambda item: -item[0])  # stable: equal scores keep the ranking's order
        if self.ranking.deduplicate:
            fetched = [fetched[n] for n in first_distinct([f for *_, f in fetched], DUPLICATE_SIMILARITY, k)]
        fetched = fetched[:k]
        views = self._views([row for _, _, row, _, _ in fetched], [text for *_, text, _ in fetched])
        hits: list[Hit] = []
        for (score, i, _, _, folded), passage in zip(fetched, views, strict=True):
            spans = highlight_spans(passage.text, terms, folded)
            shown = (round(float(coverage[i]), 3), passage, spans, round(float(evidence[i]), 3))
            hits.append(Hit(len(hits) + 1, score, *shown))
        return hits

    def _views(self, rows: list[int], texts: list[str]) -> list[PassageView]:
        """The passages of global ``rows`` (display ``texts`` read already), from the
        index: an answer reads no store row (the store's read was 0.4-0.6 ms of a 3.4 ms
        question at 20,000 passages)."""
        sections = self.index.texts("passage_section", rows)
        views = []
        for row, text, section in zip(rows, texts, sections, strict=True):
            doc_id = self.doc_ids[self.row_docs[row]]
            title, place = self.documents.get(doc_id, (doc_id, None))
            year = int(self.passage_years[row]) or None
            ordinal = int(self.passage_ordinals[row])
            views.append(PassageView(int(self.passage_ids[row]), doc_id, title, year, split_section(section), ordinal,
                                     text, place))  # fmt: skip
        return views

    def _passages(self, ids: list[int]) -> dict[int, PassageView]:
        if not ids:
            return {}
        with self.engine.connect() as connection:
            return read_passages(connection, ids, self.documents)


def read_passages(
    connection: Connection, ids: list[int], documents: dict[str, tuple[str, str | None]], driver: bool = True
) -> dict[int, PassageView]:
    """Return the passages of ``ids`` (store ids) that exist, by id.

    Args:
        documents: document id -> (title, place) of the documents known already; the
            others' are read from the store.
        driver: see :func:`index.store.engine.rows_by_ids`.
    """
    rows = rows_by_ids(connection, _PASSAGES_BY_ID, ids, driver)
    missing = sorted({doc_id for _, doc_id, *_ in rows if doc_id not in documents})
    if missing:
        found = connection.execute(_DOCUMENTS.where(Document.id.in_(missing))).all()
        documents = {**documents, **{doc_id: (title, place) for doc_id, title, place in found}}
    return {
        pid: PassageView(pid, doc_id, documents[doc_id][0], year, split_section(section), ordinal, text,
                         documents[doc_id][1])
        for pid, doc_id, year, section, ordinal, text in rows
    }  # fmt: skip


# Built once: a statement built per call (with one bound parameter per id) cost three
# times the database read itself.
_PASSAGES_BY_ID = select(
    Passage.id, Passage.doc_id, Passage.year, Passage.section, Passage.ordinal, Passage.text
).where(Passage.id.in_(bindparam("ids", expanding=True)))
_DOCUMENTS = select(Document.id, Document.title, Document.place)


class _Contributions:
    """BM25 contributions of a question's tokens in the passage fields, summed (or
    maximised) into slots per candidate in posting space: a few array operations per
    question however many tokens it has, where a dense array per token cost more than
    the ranking.

    Args:
        searcher: the searcher (its index statistics and BM25 parameters).
        postings: the tokens' live postings, the fields' terms in ``PASSAGE_FIELDS``
            order (:meth:`SparseIndex.gather_fields`); ``starts`` where each begins.
        numbers: per field, token -> its term number in ``postings``.
        position: global row -> candidate number.
        size: number of candidates.
    """

    def __init__(
        self, searcher: Searcher, postings: Gathered, starts: list[int], numbers: dict[str, dict[str, int]],
        position: np.ndarray, size: int,
    ) -> None:  # fmt: skip
        bounds = postings.bounds
        term_idfs, norms = [], []
        for i, field in enumerate(PASSAGE_FIELDS):
            term_idfs.append(searcher.idfs[field][postings.ids[starts[i] : starts[i + 1]]])
            norms.append(searcher.norms[field][postings.rows[bounds[starts[i]] : bounds[starts[i + 1]]]])
        term_idf = np.repeat(np.concatenate(term_idfs), np.diff(bounds))  # each posting's term's IDF
        norm = np.concatenate(norms)
        self.values = bm25_weights(postings.tf, None, term_idf, None, searcher.parameters, norm=norm)
        self.postings = postings
        self.candidate = position[postings.rows]
        self.size = size
        self.numbers = numbers
        self.links: dict[bool, list[tuple[int, int, float]]] = {False: [], True: []}
        self._linked: Counter[int] | None = None  # tokens per summed slot, counted once linking is done

    def link(self, field: str, token: str, slot: int, factor: float = 1.0, best: bool = False) -> None:
        """Send ``factor`` x the contribution of ``field``'s ``token`` to ``slot``
        (nothing when the field does not know the token); ``best`` slots keep the
        largest, others the sum."""
        number = self.numbers[field].get(token)
        if number is not None:
            self.links[best].append((number, slot, factor))
            self._linked = None

    def linked(self, slot: int) -> int:
        """How many known tokens were sent to a summed slot."""
        if self._linked is None:
            self._linked = Counter(to for _, to, _ in self.links[False])
        return self._linked[slot]

    def spread(
        self, best_slots: int, summed_slots: int, counted: bool = True, expanded_from: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Return, each (slots x candidates): the largest contribution sent to each
        ``best`` slot; the sum sent to each summed slot; how many of a summed slot's
        tokens each candidate holds (None unless ``counted``).

        When no token is sent to two best or two summed slots (most questions), every
        posting goes to its token's slot at once (an unlinked token's to a spare slot
        dropped after): no expansion of the links into postings. The summed slots from
        ``expanded_from`` on (a question's phrases, whose bigrams are often the fused
        slot's too) are left out of that test and take their links expanded. Otherwise
        one expansion of every link serves both kinds. Either way each sum adds its
        tokens in the order they were linked, so the results are the same to the last
        bit."""
        best_links, summed_links = self.links[True], self.links[False]
        cut = summed_slots if expanded_from is None else expanded_from
        terms = len(self.postings.terms)
        best_of = _slot_per_term(best_links, terms, best_slots)
        summed_of = _slot_per_term([link for link in summed_links if link[1] < cut], terms, summed_slots)
        if best_of is not None and summed_of is not None:
            expanded = [link for link in summed_links if link[1] >= cut]
            return self._spread_per_term(best_of, summed_of, expanded, best_slots, summed_slots, counted)
        keys, values, best_count = self._expand(best_links, summed_links)
        whole = np.zeros(best_slots * self.size)
        np.maximum.at(whole, keys[:best_count], values[:best_count])
        keys, values = keys[best_count:], values[best_count:]
        sums = np.bincount(keys, values, minlength=summed_slots * self.size).astype(np.float64, copy=False)
        shape = (summed_slots, self.size)
        present = self._held(keys, values, summed_slots).reshape(shape) if counted else None
        return whole.reshape(best_slots, self.size), sums.reshape(shape), present

    def _expand(self, best_links: list, summed_links: list) -> tuple[np.ndarray, np.ndarray, int]:
        """Keys (slot x candidate) and values (contribution x factor) of every posting
        of the linked tokens, link by link in order, the best links first; and how many
        the best links make."""
        links = best_links + summed_links
        if links:
            numbers, slots, factors = (np.array(column) for column in zip(*links, strict=True))
        else:
            numbers = slots = np.zeros(0, dtype=np.int64)
            factors = np.zeros(0)
        bounds = self.postings.bounds
        sizes = bounds[numbers + 1] - bounds[numbers]
        picked = concat_ranges(bounds[numbers], sizes)
        keys = np.repeat(slots.astype(np.int64), sizes) * self.size + self.candidate[picked]
        values = self.values[picked]
        if (factors != 1).any():  # summed slots take each token whole: no pass to multiply by 1
            values *= np.repeat(factors.astype(np.float64), sizes)
        return keys, values, int(sizes[: len(best_links)].sum())

    def _spread_per_term(
        self, best_of: list[int], summed_of: list[int], expanded: list, best_slots: int, summed_slots: int,
        counted: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:  # fmt: skip
        """:meth:`spread` when each token has at most one slot of each kind:
        ``best_of``/``summed_of`` give each token's slot (the spare one past the last
        when it has none); the ``expanded`` links' slots are summed apart."""
        sizes = np.diff(self.postings.bounds)
        factors = [1.0] * len(best_of)
        for number, _, factor in self.links[True]:
            factors[number] = factor
        best_values = self.values
        if any(factor != 1 for factor in factors):
            best_values = self.values * np.repeat(np.array(factors), sizes)
        best_keys = np.repeat(np.array(best_of, dtype=np.int64) * self.size, sizes) + self.candidate
        best_cells, summed_cells, shape = best_slots * self.size, summed_slots * self.size, (summed_slots, self.size)
        whole = np.zeros(best_cells + self.size)
        np.maximum.at(whole, best_keys, best_values)
        keys = np.repeat(np.array(summed_of, dtype=np.int64) * self.size, sizes) + self.candidate
        sums = np.bincount(keys, self.values, minlength=summed_cells + self.size)[:summed_cells]
        present = self._held(keys, self.values, summed_slots + 1)[:summed_cells] if counted else None
        if expanded:  # their slots' sums are still 0, so adding each one's tokens in order is exact
            keys, values, _ = self._expand([], expanded)
            sums += np.bincount(keys, values, minlength=summed_cells)
            if present is not None:
                present += self._held(keys, values, summed_slots)
        return (
            whole[:best_cells].reshape(best_slots, self.size),
            sums.reshape(shape),
            None if present is None else present.reshape(shape),
        )

    def _held(self, keys: np.ndarray, values: np.ndarray, slots: int) -> np.ndarray:
        """Per key (slot x candidate), how many tokens sent to it add to the score."""
        positive = values > 0  # BM25 weights are, but a token held counts only if it adds
        return np.bincount(keys if positive.all() else keys[positive], minlength=slots * self.size)


class _PassageFigures:
    """Which passage rows state a figure of a given kind and base unit.

    The rows holding each (kind, unit) asked are found once per generation, when first
    asked, as one sorted array (a few kinds and units are ever asked): a question then
    looks its passages up with one binary search: 0.01 ms for a 3-passage answer's
    window at 20,000 passages, where finding each passage's figures and testing them
    took 0.035 ms."""

    def __init__(self, index: SparseIndex) -> None:
        self.passage_rows, self.units, self.unit_names = figure_places(index)
        self.kinds = index.array("figure_kind")
        self._rows_of: dict[tuple[int, int | None], np.ndarray] = {}

    def holding(self, rows: np.ndarray, kind: str, unit: str | None) -> np.ndarray:
        """Per passage row, whether it states a figure of ``kind`` (in ``unit``'s base
        unit when a unit is given: 万户 and 户 alike)."""
        key = (FIGURE_KINDS.index(kind), None)
        if unit:
            base = base_quantity(None, unit)[1]
            key = (key[0], self.unit_names.index(base) if base in self.unit_names else -1)
        held = self._rows_of.get(key)
        if held is None:  # built once per key; two threads building it at once build the same array
            wanted = self.kinds == key[0]
            if key[1] is not None:
                wanted &= self.units == key[1]
            held = self._rows_of[key] = np.unique(self.passage_rows[wanted])
        if not len(held):
            return np.zeros(len(rows), dtype=bool)
        return held[np.minimum(np.searchsorted(held, rows), len(held) - 1)] == rows


def _slot_per_term(links: list[tuple[int, int, float]], terms: int, spare: int) -> list[int] | None:
    """Each token's slot among ``links`` (token number, slot, factor), ``spare`` for the
    tokens not linked; None when a token is linked to more than one slot, or when a
    slot's tokens were linked out of token order (a sum over them in token order could
    then differ from the linked order in its last bit)."""
    slots = [spare] * terms
    last: dict[int, int] = {}
    for number, slot, _ in links:
        if slots[number] != spare or last.get(slot, -1) > number:
            return None
        slots[number], last[slot] = slot, number
    return slots


def _essential(concepts: tuple[Concept, ...], weights: list[float], threshold: float) -> list[Concept]:
    """The concepts a passage must hold a word of to reach ``threshold``: all but the
    lightest ones whose ``weights`` (a concept's most a passage can get from it)
    together stay under it, so that a passage holding only those falls short even with
    full credit for each."""
    below = threshold * (1 - 1e-9)  # strictly under, whatever the rounding
    light, weight = set(), 0.0
    for number in sorted(range(len(concepts)), key=lambda n: weights[n]):
        if weight + weights[number] >= below:
            break
        light.add(number)
        weight += weights[number]
    return [c for number, c in enumerate(concepts) if number not in light]


def _best(picked: np.ndarray, scores: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` of ``picked`` with the highest scores, best first; equal scores keep
    index order (a stable sort of all of them, cut). Only the passages at or above the
    ``count``-th score are sorted: a full sort of every accepted candidate cost more
    than the rest of the ranking."""
    if len(picked) > count:
        threshold = np.partition(scores[picked], len(picked) - count)[len(picked) - count]
        picked = picked[scores[picked] >= threshold]
    return picked[np.argsort(-scores[picked], kind="stable")][:count]


class _TextBoost:
    """Score factor from a passage's text (index form) for one question: ``1 +
    NUMBER_BOOST`` when a number question meets a figure (of the unit asked, when it
    names one), ``1 + PERIOD_BOOST`` when the passage names the months the question
    does (前8个月 = 1至8月); 1 for every passage of a question that asks neither."""

    def __init__(self, plan: QueryPlan) -> None:
        self.months = plan.months
        self.figure = None
        if plan.asks_number:
            unit = re.escape(plan.unit) if plan.unit else ""
            self.figure = re.compile(rf"(?:\d|[xX*])\s*(?:万|亿)?{unit}")
        self.applies = bool(self.figure or self.months)

    def __call__(self, folded: str) -> float:
        factor = 1.0
        if self.figure is not None and self.figure.search(folded):
            factor *= 1 + NUMBER_BOOST
        if self.months and self.months & month_ranges(folded, folded=True):
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
    """Bigram-field tokens of a concept's whole forms (the question's own characters;
    forms are corpus tokens, already in index form)."""
    grams = []
    for form, _ in concept.forms:
        grams += [form[i : i + 2] for i in range(len(form) - 1)]
    return list(dict.fromkeys(grams))


class _DocumentPlaces:
    """The places of one generation's documents, coded, with the code of every
    passage row (-1: its document is about no place), and the names a question may
    give each place by.

    A document's place is the place asked when it is the name asked, when its full
    name is (北京市 for 北京), or when it is the full name of the name asked. Each
    document place is found under its own and its full name, so a question looks the
    name asked up: 0.015 ms for a question naming a place, where comparing the name
    with every document place took 0.07 ms over the 16 places of the 20,000-passage
    benchmark corpus, and grows with the places (a province's cities and counties).
    """

    def __init__(self, doc_ids: list[str], doc_places: dict[str, str | None], row_docs: np.ndarray) -> None:
        self.names = sorted({place for place in doc_places.values() if place}, key=str)
        self.code = {place: number for number, place in enumerate(self.names)}
        per_doc = np.array([self.code.get(doc_places.get(d) or "", -1) for d in doc_ids] + [-1])
        self.row_codes = per_doc[row_docs]
        gazetteer_names = gazetteer()
        self._by_name: dict[str, set[int]] = {}  # a document place's own and full name -> its codes
        for number, place in enumerate(self.names):
            for name in (place, gazetteer_names.expand(place)):
                self._by_name.setdefault(name, set()).add(number)

    def codes(self, asked: str) -> set[int]:
        """The codes of the document places that are the place ``asked``."""
        found = set(self._by_name.get(asked, ()))
        written_out = self.code.get(gazetteer().expand(asked))
        if written_out is not None:
            found.add(written_out)
        return found
