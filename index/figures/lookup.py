"""Look up stored targets by keyword, and pair plans with their achievements.

A keyword goes through the same tokenizer, user dictionary and synonyms as search, so
保租房 finds 保障性租赁住房. SQLite narrows the rows (the words as substrings of the
indicator, sentence and heading; year; kind); the stored indicator and context tokens
then decide and rank.
"""

from __future__ import annotations

import json

from sqlalchemy import Engine, or_
from sqlmodel import Session, select

from index.figures.extract import base_quantity
from index.figures.model import FIGURE_KINDS, Figure
from index.store.models import Document, Passage, Target
from index.text.question import ParsedQuestion
from index.text.segmentation import QueryTerm, Tokenizer

# Credit of a term by where it is found: whole (word or synonym) in the indicator or
# unit, whole in the sentence or section (or, for questions, the passage), or only as
# a sub-word anywhere.
INDICATOR_WHOLE, CONTEXT_WHOLE, PART = 1.0, 0.6, 0.3
QUESTION_MIN_COVERAGE = 0.5


def lookup_targets(
    engine: Engine, tokenizer: Tokenizer, keyword: str, *, year: int | None = None, kind: str | None = None
) -> list[Figure]:
    """Return the targets matching every word of ``keyword``, best first.

    Each word (or a synonym) must occur whole in the target's indicator, unit,
    sentence or section. Ordered by match score (indicator hits count most), with
    kind ``other`` (figures that are neither plan nor achievement) after the rest,
    then known figures before redacted ones, newest year first.

    Args:
        keyword: words to look for (e.g. "保租房", "加装电梯 完成").
        year: keep only targets about this year.
        kind: keep only plan, achieved, rate or other.

    Raises:
        ValueError: ``kind`` is not one of plan, achieved, rate, other.
    """
    terms = tokenizer.query_terms(keyword)
    required = [list(term.whole) for term in terms]  # every word, whole, somewhere
    records = []
    for target, title, _ in _candidates(engine, required, year, kind, with_passage=False):
        indicator, context = _tokens(target)
        credits = [_credit(term, indicator, context) for term in terms]
        if min(credits) >= CONTEXT_WHOLE:
            records.append(_record(target, title, sum(credits), min(credits) == INDICATOR_WHOLE))
    records.sort(key=figure_order)
    return records


def figures_for_question(
    engine: Engine, tokenizer: Tokenizer, question: ParsedQuestion, limit: int = 3
) -> list[Figure]:
    """Return up to ``limit`` targets that answer a question asking for a number.

    A target qualifies when the question's field terms (user dictionary or synonym
    words such as 加装电梯, 保租房) are all whole in its indicator or passage and one
    of them is in its indicator (or all are in its sentence or heading and another
    question word is in its indicator; without field terms: any question word but a
    unit in its indicator), and the question's words carry at least half their weight
    in the indicator or the passage around it. Targets of the unit the question names ("多少台"), then of the
    kind it asks for (率 → rate, 目标/计划 → plan, 完成/累计 → achieved) come first; a
    year in the question keeps that year only.
    """
    year = question.years[0] if question.years else None
    wanted_unit = base_quantity(None, question.unit)[1] if question.unit else None
    wanted_kind = question.kind
    terms = list(question.content_terms)
    field = [t for t in terms if tokenizer.is_field_term(t.word)]
    records = []
    required = [[word for term in field or terms for word in term.whole]] if terms else []
    for target, title, passage_tokens in _candidates(engine, required, year, None, with_passage=True):
        indicator, context = _tokens(target)
        own = indicator - {base_quantity(None, target.unit)[1]}
        around = context | passage_tokens
        if not _answers(field, terms, own, context, around):
            continue
        credits = [_credit(term, indicator, around) for term in terms]
        if sum(credits) / len(credits) >= QUESTION_MIN_COVERAGE:
            records.append(_record(target, title, sum(credits)))
    unit_of = {r.id: base_quantity(None, r.unit)[1] for r in records}
    records.sort(key=lambda r: (unit_of[r.id] != wanted_unit, r.kind != wanted_kind, *figure_order(r)))
    return records[:limit]


def _answers(field, terms, own, context, around) -> bool:
    """Whether a target is about the question (see :func:`figures_for_question`)."""

    def whole(term: QueryTerm, tokens: frozenset[str]) -> bool:
        return any(word in tokens for word in term.whole)

    if any(not whole(term, own | around) for term in field):
        return False
    if any(whole(term, own) for term in field or terms):
        return True
    # "一是高质量推进城市更新 … 年内完成投资*元": the field term is in the sentence or
    # heading, another question word in the indicator.
    return bool(field) and all(whole(t, own | context) for t in field) and any(whole(t, own) for t in terms)


def _candidates(engine: Engine, required: list[list[str]], year: int | None, kind: str | None, with_passage: bool):
    """Yield (target, document title, passage tokens) rows whose indicator, sentence or
    section contain a word of every group in ``required``."""
    if kind is not None and kind not in FIGURE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FIGURE_KINDS)}; got {kind!r}")
    if not required:
        return
    columns = (Target, Document.title, Passage.tokens) if with_passage else (Target, Document.title)
    statement = select(*columns).join(Document, Target.doc_id == Document.id)
    if with_passage:
        statement = statement.join(
            Passage, (Passage.doc_id == Target.doc_id) & (Passage.ordinal == Target.passage_ordinal)
        )
    for group in required:
        statement = statement.where(or_(*[Target.search_text.contains(word) for word in group]))
    if year is not None:
        statement = statement.where(Target.year == year)
    if kind is not None:
        statement = statement.where(Target.kind == kind)
    with Session(engine) as session:
        rows = session.exec(statement).all()
    passage_tokens: dict[str, frozenset[str]] = {}  # a passage holds many targets: parse once
    for row in rows:
        if with_passage and row[2] not in passage_tokens:
            passage_tokens[row[2]] = frozenset(json.loads(row[2]))
        yield row[0], row[1], passage_tokens[row[2]] if with_passage else frozenset()


def _tokens(target: Target) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(json.loads(target.indicator_tokens)), frozenset(json.loads(target.context_tokens))


def figure_order(record: Figure) -> tuple:
    """Sort key of lookups: kind ``other`` last, best score, known before redacted, newest year."""
    return (record.kind == "other", -record.score, record.redacted, -(record.year or 0), record.doc_id, record.id)


def _credit(term: QueryTerm, indicator: frozenset[str], context: frozenset[str]) -> float:
    if any(word in indicator for word in term.whole):
        return INDICATOR_WHOLE
    if any(word in context for word in term.whole):
        return CONTEXT_WHOLE
    if any(word in indicator or word in context for word in term.alternatives):
        return PART
    return 0.0


def _record(target: Target, title: str, score: float, indicator_match: bool = False) -> Figure:
    return Figure(
        id=target.id,
        start=target.char_start,
        end=target.char_end,
        indicator=target.indicator,
        value=target.value,
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
        section=target.section,
        score=round(score, 3),
        indicator_tokens=tuple(json.loads(target.indicator_tokens)),
        indicator_match=indicator_match,
    )
