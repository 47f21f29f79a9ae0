"""A question parsed once: its terms, years, and the figure it asks for.

Built by :func:`parse_question` when a question arrives and handed to search and to
the figure lookup, so no part of the index reads the raw question again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.figures.units import BASE_UNITS
from index.text.normalize import index_form
from index.text.periods import YEAR_IN_QUESTION, year_of_word
from index.text.segmentation import QueryTerm, Tokenizer

# Questions that ask for a number get figures from the ledger.
_NUMBER_QUESTION = re.compile(
    r"多少|几[个台套户件项座处条次名家部栋幢万亿]?|目标|任务|指标|完成率|增长|增速|占比|比例|比重|数量|规模|金额|投资额|率是"
)
_RATE_INTENT = re.compile(r"率|占比|比例|比重|增速|增幅|增长|百分")
_PLAN_INTENT = re.compile(r"目标|计划|任务|要求|打算|力争|将要")
_ACHIEVED_INTENT = re.compile(r"完成|已经|累计|建成|实现|达到|了")
# "多少台", "几万套": the unit asked for.
# The unit is one the figures use (多少栋自建房 → 栋, not 栋自建); a magnitude alone
# (多少亿) names no unit.
_UNITS = "|".join(map(re.escape, sorted(BASE_UNITS, key=len, reverse=True)))
_UNIT_INTENT = re.compile(rf"(?:多少|几)\s*(?:万亿|亿|万|千|百)?\s*({_UNITS})")
# Words of a /target command that filter by kind instead of being looked up.
TARGET_KIND_WORDS = {"计划": "plan", "目标": "plan", "完成": "achieved", "实际": "achieved", "比率": "rate"}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ParsedQuestion:
    """A question as the index reads it.

    Attributes:
        text: the question with white space collapsed (as shown back to staff).
        terms: its concepts (word, synonyms, sub-words), at most ``MAX_QUERY_TERMS``.
        years: years it names (2023年, 2023), in order of appearance.
        kind: the kind of figure it asks for (plan, achieved, rate) or None.
        unit: the unit it asks for, as written after 多少/几 (台, 套), or None.
        asks_number: whether it asks for a number (多少, 几, 目标, 完成率 …).
        words: all its words in order (:meth:`Tokenizer.question_words`), cut once.
        dictionary_spans: offsets inside the words jieba's dictionary knows
            (:meth:`Tokenizer.question_cut`), from the same cut; None when not cut.
        folded: ``text`` in index form (simplified, half-width; same length), folded
            once for every reader of the question; empty when not folded.
    """

    text: str
    terms: tuple[QueryTerm, ...]
    years: tuple[int, ...] = ()
    kind: str | None = None
    unit: str | None = None
    asks_number: bool = False
    words: tuple[str, ...] = ()
    dictionary_spans: frozenset[int] | None = None
    folded: str = ""

    @property
    def content_terms(self) -> tuple[QueryTerm, ...]:
        """The terms that are not years (years filter; they are not looked up)."""
        return tuple(t for t in self.terms if year_of_word(t.word) is None)


@dataclass(frozen=True)
class TargetQuery:
    """A /target command's words: the keyword, a year filter and a kind filter.

    A year ("2022" or "2022年") and the words 计划/目标, 完成/实际, 比率 filter by year
    and kind; the other words are the keyword.
    """

    keyword: str
    year: int | None = None
    kind: str | None = None


def parse_question(text: str, tokenizer: Tokenizer) -> ParsedQuestion:
    """Return the parsed form of a question (any length; terms are capped)."""
    cleaned = _SPACES.sub(" ", text).strip()
    folded = index_form(cleaned)
    unit = _UNIT_INTENT.search(folded)
    kind = next(
        (kind for kind, cue in (("rate", _RATE_INTENT), ("plan", _PLAN_INTENT), ("achieved", _ACHIEVED_INTENT))
         if cue.search(folded)),
        None,
    )  # fmt: skip
    words, dictionary_spans = tokenizer.question_cut(cleaned, folded)
    return ParsedQuestion(
        text=cleaned,
        terms=tuple(tokenizer.query_terms(cleaned, words)),
        years=tuple(dict.fromkeys(int(y) for y in YEAR_IN_QUESTION.findall(folded))),
        kind=kind,
        unit=unit.group(1) if unit else None,
        asks_number=bool(_NUMBER_QUESTION.search(folded)),
        words=tuple(words),
        dictionary_spans=dictionary_spans,
        folded=folded,
    )


def parse_target_query(argument: str) -> TargetQuery:
    """Split a /target argument into keyword, year and kind (see :class:`TargetQuery`)."""
    year, kind, words = None, None, []
    for word in _SPACES.sub(" ", argument).strip().split(" "):
        if (named := year_of_word(word)) is not None:
            year = named
        elif word in TARGET_KIND_WORDS:
            kind = TARGET_KIND_WORDS[word]
        elif word:
            words.append(word)
    return TargetQuery(" ".join(words), year, kind)
