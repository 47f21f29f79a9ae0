"""Look up stored targets by keyword, and pair plans with their achievements.

A keyword goes through the same tokenizer, user dictionary and synonyms as search, so
保租房 finds 保障性租赁住房. SQLite narrows the rows (the words as substrings of the
indicator, sentence and heading; year; kind); the stored indicator and context tokens
then decide and rank.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import Engine, or_
from sqlmodel import Session, select

from index.figures.extract import TARGET_KINDS, base_quantity
from index.store.models import Document, Passage, Target
from index.text.segmentation import QueryTerm, Tokenizer

# Credit of a term by where it is found: whole (word or synonym) in the indicator or
# unit, whole in the sentence or section (or, for questions, the passage), or only as
# a sub-word anywhere.
INDICATOR_WHOLE, CONTEXT_WHOLE, PART = 1.0, 0.6, 0.3
QUESTION_MIN_COVERAGE = 0.5
PAIR_MIN_OVERLAP = 0.5
_RATE_INTENT = re.compile(r"率|占比|比例|比重|增速|增幅|增长|百分")
_PLAN_INTENT = re.compile(r"目标|计划|任务|要求|打算|力争|将要")
_ACHIEVED_INTENT = re.compile(r"完成|已经|累计|建成|实现|达到|了")
_UNIT_INTENT = re.compile(r"(?:多少|几)(?:万|亿)?([^\s，。？?！!的]{1,3})")
_YEAR_INTENT = re.compile(r"((?:19|20)\d{2})年?")


@dataclass(frozen=True)
class TargetRecord:
    """A target as lookups return it (the fields of :class:`index.store.models.Target`),
    with its document title, match score, and whether every keyword is in its
    indicator (``indicator_match``)."""

    id: int
    indicator: str
    value: float | None
    value_text: str
    unit: str
    qualifier: str | None
    kind: str
    period: str | None
    year: int | None
    redacted: bool
    sentence: str
    doc_id: str
    doc_title: str
    section: str
    score: float
    indicator_tokens: tuple[str, ...]
    indicator_match: bool = False

    def to_dict(self) -> dict:
        """Return the JSON object of the ``targets`` command (its documented contract)."""
        return {
            "indicator": self.indicator,
            "value": self.value,
            "value_text": self.value_text,
            "unit": self.unit,
            "qualifier": self.qualifier,
            "kind": self.kind,
            "period": self.period,
            "year": self.year,
            "redacted": self.redacted,
            "sentence": self.sentence,
            "doc_id": self.doc_id,
            "doc_title": self.doc_title,
            "section": self.section,
        }


@dataclass(frozen=True)
class PlanAchievedPair:
    """The same indicator and year planned in one place and reported done in another.

    ``met`` is True/False when both figures are known and comparable, else None.
    """

    plan: TargetRecord
    achieved: TargetRecord
    met: bool | None


def lookup_targets(
    engine: Engine, tokenizer: Tokenizer, keyword: str, *, year: int | None = None, kind: str | None = None
) -> list[TargetRecord]:
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
    records.sort(key=_order)
    return records


def figures_for_question(engine: Engine, tokenizer: Tokenizer, question: str, limit: int = 3) -> list[TargetRecord]:
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
    year_match = _YEAR_INTENT.search(question)
    year = int(year_match.group(1)) if year_match else None
    unit_match = _UNIT_INTENT.search(question)
    wanted_unit = base_quantity(None, unit_match.group(1))[1] if unit_match else None
    wanted_kind = next(
        (kind for kind, cue in (("rate", _RATE_INTENT), ("plan", _PLAN_INTENT), ("achieved", _ACHIEVED_INTENT))
         if cue.search(question)),
        None,
    )  # fmt: skip
    terms = [t for t in tokenizer.query_terms(question) if not _YEAR_INTENT.fullmatch(t.word)]
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
    records.sort(key=lambda r: (unit_of[r.id] != wanted_unit, r.kind != wanted_kind, *_order(r)))
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
    if kind is not None and kind not in TARGET_KINDS:
        raise ValueError(f"kind must be one of {', '.join(TARGET_KINDS)}; got {kind!r}")
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


def _order(record: TargetRecord) -> tuple:
    return (record.kind == "other", -record.score, record.redacted, -(record.year or 0), record.doc_id, record.id)


def _credit(term: QueryTerm, indicator: frozenset[str], context: frozenset[str]) -> float:
    if any(word in indicator for word in term.whole):
        return INDICATOR_WHOLE
    if any(word in context for word in term.whole):
        return CONTEXT_WHOLE
    if any(word in indicator or word in context for word in term.alternatives):
        return PART
    return 0.0


def _record(target: Target, title: str, score: float, indicator_match: bool = False) -> TargetRecord:
    return TargetRecord(
        id=target.id,
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


def pair_plan_achieved(records: list[TargetRecord]) -> list[PlanAchievedPair]:
    """Pair each plan with an achievement of the same year, unit and indicator.

    Indicators match when at least half of the smaller token set is shared (the
    unit's token included), so "新开工老旧小区改造项目" (plan) pairs with "老旧小区改造
    项目" (achieved). Each target is used once; the best overlap pairs first.
    """
    plans = [r for r in records if r.kind == "plan" and r.year is not None]
    done = [r for r in records if r.kind == "achieved" and r.year is not None]
    candidates = []
    for plan in plans:
        for achieved in done:
            if plan.year != achieved.year or plan.id == achieved.id:
                continue
            if base_quantity(None, plan.unit)[1] != base_quantity(None, achieved.unit)[1]:
                continue
            left, right = set(plan.indicator_tokens), set(achieved.indicator_tokens)
            overlap = len(left & right) / max(1, min(len(left), len(right)))
            if overlap >= PAIR_MIN_OVERLAP:
                candidates.append((overlap, plan.doc_id != achieved.doc_id, plan, achieved))
    candidates.sort(key=lambda c: (-c[0], not c[1], c[2].id, c[3].id))
    used: set[int] = set()
    pairs = []
    for _, _, plan, achieved in candidates:
        if plan.id in used or achieved.id in used:
            continue
        used.update((plan.id, achieved.id))
        pairs.append(PlanAchievedPair(plan, achieved, _met(plan, achieved)))
    return pairs


def _met(plan: TargetRecord, achieved: TargetRecord) -> bool | None:
    planned, _ = base_quantity(plan.value, plan.unit)
    reached, _ = base_quantity(achieved.value, achieved.unit)
    if planned is None or reached is None:
        return None
    return reached >= planned
