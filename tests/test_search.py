"""Search quality on the judged dev questions, and ranking details."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from index.devtools.evaluation import evaluate, load_questions
from index.figures.model import FIGURE_KINDS
from index.figures.units import base_quantity
from index.search import searcher
from index.search.reference import LuceneBM25, build_bm25
from index.search.searcher import _best, _essential, _slot_per_term, read_passages
from index.search.understanding import Concept
from index.settings import RankingSettings
from index.store.models import Passage, Target
from tests.conftest import DEV_SET

QUESTIONS = load_questions(DEV_SET)


def test_dev_set_recall_and_mrr(seed_index):
    report = evaluate(seed_index, QUESTIONS)
    assert len(report.outcomes) == 40
    assert report.recall[3] >= 0.95
    assert report.mrr >= 0.90
    assert report.passage_chars["max"] <= 500


@pytest.mark.parametrize("question", QUESTIONS[:: len(QUESTIONS) // 8], ids=lambda q: q.id)
def test_dev_question_answered_in_top_three(seed_index, question):
    hits = seed_index.search(question.question, k=3)
    assert any(any(r in h.passage.text for r in question.relevant) for h in hits)


def test_abbreviation_finds_the_full_term(seed_index):
    hits = seed_index.search("保租房筹集", k=3)
    assert sum("保障性租赁住房" in h.passage.text for h in hits) >= 2
    top = hits[0]
    assert "保障性租赁住房" in [top.passage.text[start:end] for start, end in top.highlights]


def test_traditional_question_finds_simplified_text(seed_index):
    simplified = seed_index.search("加装电梯累计完成了多少台", k=3)
    traditional = seed_index.search("加裝電梯累計完成了多少臺", k=3)
    assert [h.passage.id for h in traditional] == [h.passage.id for h in simplified]


@pytest.mark.parametrize(
    "question",
    ["今天天气怎么样", "火锅店推荐", "量子计算机的原理", "个人所得税怎么交", "医保报销比例是多少", "hello"],
)
def test_off_topic_questions_find_nothing(seed_index, question):
    assert seed_index.search(question) == []


@pytest.mark.parametrize("question", ["", "   ", "？？？", "多少", "XX ***"])
def test_questions_without_words_find_nothing(seed_index, question):
    assert seed_index.search(question) == []


def test_very_long_question_still_answers(seed_index):
    question = "加装电梯累计完成了多少台" + "请问" * 5000
    hits = seed_index.search(question, k=3)
    assert hits and "加装电梯" in hits[0].passage.text


def test_results_are_ranked_and_cited(seed_index):
    hits = seed_index.search("污水零直排区建成了几个", k=5)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    top = hits[0].passage
    assert top.doc_title and top.year == 2021 and top.section.startswith("一、2021年亮点工作")


def test_k_must_be_positive(seed_index):
    with pytest.raises(ValueError, match="positive"):
        seed_index.search("加装电梯", k=0)


def test_neighbours_stay_in_the_document(seed_index):
    first = seed_index.search("加装电梯", k=1)[0].passage
    around = seed_index.context(first.id)
    assert first in around and len(around) >= 2
    assert all(p.doc_id == first.doc_id for p in around)
    assert [p.ordinal for p in around] == list(range(around[0].ordinal, around[0].ordinal + len(around)))
    assert seed_index.context(-1) == []


def _reference_bm25(corpus, query, k1, b):
    """BM25 written from the formula (Robertson & Zaragoza 2009) with Lucene's IDF."""
    n = len(corpus)
    avgdl = sum(len(d) for d in corpus) / n
    scores = []
    for document in corpus:
        score = 0.0
        for term in query:
            df = sum(1 for d in corpus if term in d)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = document.count(term)
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(document) / avgdl))
        scores.append(score)
    return scores


def test_lucene_bm25_agrees_with_the_formula():
    corpus = [["加装", "电梯", "完成"], ["电梯", "电梯", "改造", "老旧小区"], ["保障性租赁住房", "筹集"], ["完成"]]
    query = ["电梯", "完成", "筹集"]
    scorer = LuceneBM25(corpus, k1=1.2, b=0.75)
    expected = _reference_bm25(corpus, query, 1.2, 0.75)
    assert scorer.get_scores(query).tolist() == pytest.approx(expected)


def test_lucene_idf_stays_positive_where_okapi_floors_it():
    # "电梯" is in 3 of 4 passages: Okapi's raw IDF is negative and gets floored at
    # epsilon x mean IDF, which here ranks a common term above a rarer one.
    corpus = [["电梯", "改造"], ["电梯", "改造"], ["电梯", "加装"], ["筹集"]]
    lucene = build_bm25(corpus, RankingSettings(variant="lucene"))
    assert all(idf > 0 for idf in lucene.idf.values())
    assert lucene.idf["电梯"] < lucene.idf["改造"] < lucene.idf["加装"]
    okapi = build_bm25(corpus, RankingSettings(variant="okapi"))
    assert okapi.idf["电梯"] > okapi.idf["改造"]  # the floor inverts the order


def test_ranking_settings_are_validated():
    with pytest.raises(ValueError, match="lucene, okapi, plus, l"):
        RankingSettings(variant="bm99")
    with pytest.raises(ValueError, match="b <= 1"):
        RankingSettings(b=1.5)


def test_passages_read_through_the_driver_equal_the_sqlalchemy_statement(seed_index):
    ids = [h.passage.id for h in seed_index.search("老旧小区改造", k=5)] + [-1]
    with seed_index.engine.connect() as connection:
        direct = read_passages(connection, ids, seed_index.serving.documents, driver=True)
        portable = read_passages(connection, ids, {}, driver=False)  # titles and places read from the store
    assert direct == portable and sorted(direct) == sorted(ids[:-1])  # an unknown id is left out
    assert all(view.text and view.doc_title for view in direct.values())


def test_a_driver_error_in_a_passage_read_is_a_sqlalchemy_error(tmp_path):
    # The read goes past SQLAlchemy to the driver's cursor; a damaged or foreign store
    # must still raise SQLAlchemy's error, which the front ends turn into one line.
    engine = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE unrelated (x INTEGER)"))
        with pytest.raises(DBAPIError, match="no such table: passage"):
            read_passages(connection, [1, 2], {})


def test_the_best_window_equals_a_full_stable_sort_cut():
    rng = np.random.default_rng(7)
    for _ in range(200):
        scores = rng.integers(0, 6, size=40).astype(float)  # many ties
        picked = np.flatnonzero(rng.random(40) < 0.7)
        count = int(rng.integers(1, 30))
        full = picked[np.argsort(-scores[picked], kind="stable")][:count]
        assert np.array_equal(_best(picked, scores, count), full)


def test_only_the_lightest_concepts_under_the_threshold_are_not_essential():
    concepts = tuple(Concept(word, (), (), (), "corpus", 1.0) for word in "abcd")
    # Weights 1, 5, 1, 10 and a threshold of 0.35 x 17 = 5.95: a passage holding only a
    # and c (2.0) can never reach it; one holding b can.
    assert [c.word for c in _essential(concepts, [1.0, 5.0, 1.0, 10.0], 5.95)] == ["b", "d"]
    assert [c.word for c in _essential(concepts, [1.0, 5.0, 1.0, 10.0], 0.0)] == ["a", "b", "c", "d"]


@pytest.mark.parametrize("question", [q.question for q in QUESTIONS] + ["老旧小区改造工作情况怎么样", "燃气"])
def test_pruning_to_the_essential_concepts_changes_no_answer(seed_index, monkeypatch, question):
    pruned = seed_index.answer(question, k=10)
    monkeypatch.setattr(searcher, "_essential", lambda concepts, weights, threshold: list(concepts))  # score all
    every = seed_index.answer(question, k=10)
    assert [(h.passage.id, h.score, h.coverage) for h in pruned.hits] == [
        (h.passage.id, h.score, h.coverage) for h in every.hits
    ]


def test_a_tokens_slot_is_given_only_when_it_has_one_and_its_slot_is_in_token_order():
    # (token number, slot, factor); 3 tokens, spare slot 9
    assert _slot_per_term([(0, 1, 1.0), (2, 0, 0.5)], 3, 9) == [1, 9, 0]
    assert _slot_per_term([(0, 1, 1.0), (0, 2, 1.0)], 3, 9) is None  # one token, two slots
    assert _slot_per_term([(2, 1, 1.0), (0, 1, 1.0)], 3, 9) is None  # slot 1 summed out of token order
    assert _slot_per_term([], 2, 4) == [4, 4]


@pytest.mark.parametrize(
    "question",
    # abbreviations read with a fit under 1 (商销, 房贴), words repeated and shared
    [q.question for q in QUESTIONS]
    + ["商销是多少", "房贴发放了多少户", "老旧小区改造小区改造", "城市更新和老旧小区改造"],
)
def test_spreading_per_token_equals_expanding_every_link(seed_index, monkeypatch, question):
    per_token = seed_index.answer(question, k=10)
    monkeypatch.setattr(searcher, "_slot_per_term", lambda links, terms, spare: None)  # every link expanded
    linked = seed_index.answer(question, k=10)
    assert [(h.passage.id, h.score, h.coverage, h.evidence) for h in per_token.hits] == [
        (h.passage.id, h.score, h.coverage, h.evidence) for h in linked.hits
    ]


def test_passages_stating_a_figure_of_a_kind_and_unit_are_those_the_store_says(seed_index):
    served = seed_index.serving
    row_of = {passage_id: row for row, passage_id in enumerate(served.passage_ids.tolist())}
    with Session(served.engine) as session:
        passage_of = {(p.doc_id, p.ordinal): p.id for p in session.exec(select(Passage))}
        figures = [
            (row_of[passage_of[(t.doc_id, t.passage_ordinal)]], t.kind, t.base_unit)
            for t in session.exec(select(Target))
        ]
    rows = np.arange(len(row_of))
    checked = 0
    for kind in FIGURE_KINDS:
        for unit in (None, "台", "万户", "户", "个", "公里", "光年"):
            base = base_quantity(None, unit)[1] if unit else None
            expected = {row for row, of_kind, of_unit in figures if of_kind == kind and base in (None, of_unit)}
            assert set(np.flatnonzero(served.figures.holding(rows, kind, unit)).tolist()) == expected, (kind, unit)
            checked += len(expected)
    assert checked > 100  # the seeds state figures of these kinds and units
