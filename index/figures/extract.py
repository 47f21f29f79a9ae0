"""Extract the figures of a passage: value, unit, qualifier, indicator, kind, year, period.

:func:`extract_figures` finds the figures (:mod:`index.figures.spans`), then reads each
one's clause, sentence, section and document for what it counts
(:mod:`index.figures.indicator`), its kind (:mod:`index.figures.kinds`) and the year
and part of the year it is about. Patterns run on the index form of the text
(simplified, half-width), whose offsets equal the display text's, so everything shown
to staff is sliced from the original characters.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from index.figures.indicator import WordTagger, indicator_of
from index.figures.kinds import KindContext, figure_kind
from index.figures.model import Figure
from index.figures.spans import FigureSpan, find_spans, magnitude_people
from index.text.normalize import index_form
from index.text.periods import PART_OF_YEAR, PREVIOUS_YEAR_WORDS, SEVERAL_YEARS
from index.text.segmentation import Tokenizer

# Bumped whenever extraction changes in code, so stored figures are re-extracted on reload.
EXTRACTOR_VERSION = "2"
_CLAUSE = re.compile(r"[,;:。!?，；：、]")
_COMMA = re.compile(r"[,;:。!?，；：]")
_SENTENCE = re.compile(r"[。;!?；！？]")
_NEXT_YEAR = re.compile(r"明年|下一年")
_THIS_YEAR = re.compile(r"今年|本年|年内|年底前")
_YEAR_OR_RANGE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*[-—–~至]\s*(?:19|20)?\d{2,4})?(?=年)")
_CUMULATIVE = re.compile(r"累计")


@dataclass(frozen=True)
class PassageContext:
    """Where a passage sits, for what its own words do not state.

    Attributes:
        section: heading path of the passage.
        year: the year the passage is about (from its heading or the document), or None.
        doc_kind: 总结/计划/讲话/进展/新闻/其他.
        doc_years: the years the document is about.
        report_year: the year the document reports on (今年 means it), or None.
    """

    section: tuple[str, ...] = ()
    year: int | None = None
    doc_kind: str = "其他"
    doc_years: tuple[int, ...] = ()
    report_year: int | None = None


def extract_figures(text: str, context: PassageContext, tokenizer: Tokenizer) -> list[Figure]:
    """Return the figures of a passage, in text order.

    Args:
        text: display text of the passage.
        context: section, year and document facts used when the sentence is silent.
        tokenizer: its jieba dictionary (with the user dictionary) cuts words: numerals
            inside dictionary words (八项规定) are not figures, indicators are phrases.
    """
    folded = index_form(text)
    segmenter = tokenizer.segmenter
    spans = find_spans(folded, segmenter)
    taken = [(s.start, s.end) for s in spans]
    spans += [p for p in magnitude_people(folded) if not any(a < p.end and p.start < b for a, b in taken)]
    spans.sort(key=lambda s: s.start)
    tagger = WordTagger(segmenter, tokenizer.field_terms)
    section = index_form("\n".join(context.section))
    report_year = context.report_year or (max(context.doc_years) if context.doc_years else None)
    figures: list[Figure] = []
    previous_end = 0
    for span in spans:
        figures.append(_figure(text, folded, span, previous_end, figures, context, section, report_year, tagger))
        previous_end = span.end
    return figures


@dataclass(frozen=True)
class SentenceWords:
    """The words of one sentence, cut once for all of its figures.

    Attributes:
        words: (word, start, end) with offsets in the passage's index form.
    """

    words: tuple[tuple[str, int, int], ...]

    def between(self, start: int, end: int) -> tuple[str, ...]:
        """Return the words lying wholly within ``[start, end)``."""
        return tuple(word for word, left, right in self.words if start <= left and right <= end)


@functools.lru_cache(maxsize=64)
def sentence_words(folded: str, start: int, end: int, segmenter) -> SentenceWords:
    """Return the words of ``folded[start:end]`` (cached: a sentence holds several figures)."""
    cut = segmenter.tokenize(folded[start:end])
    return SentenceWords(tuple((word, start + left, start + right) for word, left, right in cut))


def _figure(text, folded, span: FigureSpan, previous_end, figures, context, section, report_year, tagger) -> Figure:
    sentence_start = max((m.end() for m in _SENTENCE.finditer(folded, 0, span.start)), default=0)
    next_end = _SENTENCE.search(folded, span.end)
    sentence_end = next_end.end() if next_end else len(folded)
    clause_start = max((m.end() for m in _CLAUSE.finditer(folded, 0, span.start)), default=0)
    clause_start = max(clause_start, sentence_start)
    next_clause = _CLAUSE.search(folded, span.end)
    clause_end = next_clause.start() if next_clause else len(folded)
    unit = span.derived_unit or "".join(text[a:b] for a, b in span.unit_pieces)
    year, period = _period(folded, span.start, sentence_start, context, report_year)
    before = folded[clause_start : span.start]
    sentence_before = folded[sentence_start : span.start]
    after = folded[span.end : clause_end]
    comma = _COMMA.search(folded, span.end)
    sentence = sentence_words(folded, sentence_start, sentence_end, tagger.segmenter)
    kind_context = KindContext(
        before=before,
        after=after,
        sentence_before=sentence_before,
        before_words=sentence.between(clause_start, span.start),
        sentence_words=sentence.between(sentence_start, span.start),
        own_before=folded[max(clause_start, previous_end) : span.start],
        after_words=sentence.between(span.end, clause_end),
        after_comma=folded[span.end : comma.start() if comma else len(folded)],
        latest_year=max(context.doc_years) if context.doc_years else None,
        section=section,
        year=year,
        report_year=report_year,
        doc_kind=context.doc_kind,
    )
    kind = figure_kind(unit, span.qualifier, kind_context)
    if PREVIOUS_YEAR_WORDS.search(sentence_before) and kind == "plan":
        kind = "achieved"  # 去年完成…: a plan's recall of last year's result
    qualifier = span.qualifier or ("累计" if _CUMULATIVE.search(before) else None)
    same_sentence = figures and previous_end > sentence_start
    previous = figures[-1].indicator if same_sentence else ""
    indicator = indicator_of(
        text, folded, span.start, span.end, previous_end, sentence_start, clause_end, previous, tagger
    )
    return Figure(
        indicator=indicator,
        value=span.value,
        value_text=text[span.start : span.number_end],
        unit=unit,
        qualifier=qualifier,
        kind=kind,
        year=year,
        period=period,
        redacted=span.value is None,
        sentence=text[sentence_start:sentence_end].strip(),
        start=span.start,
        end=span.end,
        value_max=span.value_max,
    )


def _period(folded: str, start: int, sentence_start: int, context: PassageContext, report_year: int | None):
    """Return (year, "2023年上半年") of a figure.

    The time word nearest before it in its sentence decides: a year (the first of a
    range: 2019—2020年度 is 2019), 今年, 去年, 明年 (relative to the report's year);
    then a total over several years has none (十三五期间, 五年间); then its passage's
    year (from its heading or the report).
    """
    before = folded[sentence_start:start]
    marks = [(m.end(), int(m.group(1))) for m in _YEAR_OR_RANGE.finditer(before)]
    if report_year is not None:
        marks += [(m.end(), report_year - 1) for m in PREVIOUS_YEAR_WORDS.finditer(before)]
        marks += [(m.end(), report_year + 1) for m in _NEXT_YEAR.finditer(before)]
        marks += [(m.end(), report_year) for m in _THIS_YEAR.finditer(before)]
    if marks:
        year = max(marks)[1]
    elif SEVERAL_YEARS.search(before):  # totals over several years have no year of their own
        return None, None
    else:
        year = context.year
    parts = PART_OF_YEAR.findall(before) or [
        found for label in context.section for found in PART_OF_YEAR.findall(index_form(label))
    ]
    if year is None:
        return None, None
    return year, f"{year}年" + (parts[-1].replace(" ", "") if parts else "")
