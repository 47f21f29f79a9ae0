"""Parse one report into what the store and the index keep: document, passages, figures.

Pure with respect to the store: bytes in, plain values out (picklable, so files are
parsed in worker processes). :mod:`index.ingest.sync` decides which files to parse
and writes the results. Each passage is tokenised once; a figure's context tokens are
the tokens of its sentence, taken from the passage's by offset, plus its heading's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import PurePosixPath

from index.errors import DocumentReadError
from index.figures.extract import PassageContext, extract_figures
from index.figures.model import Figure
from index.figures.units import base_quantity, normal_unit
from index.ingest import metadata
from index.ingest.overrides import fingerprint
from index.ingest.passages import split_passages
from index.ingest.readers import docx_title, extract_text
from index.settings import IndexSettings
from index.store.models import SECTION_SEPARATOR, split_section
from index.text.normalize import clean_display_line
from index.text.segmentation import Tokenizer


@dataclass(frozen=True)
class ParsedPassage:
    """A passage ready to store and index.

    Attributes:
        ordinal: position in the document, from 0.
        section: heading path joined with ``SECTION_SEPARATOR``.
        year: the year it is about, or None.
        text: display text; start, end: offsets in the document text.
        tokens: the word-field tokens of heading path and text.
    """

    ordinal: int
    section: str
    year: int | None
    text: str
    start: int
    end: int
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class ParsedFigure:
    """A figure ready to store and index.

    Attributes:
        passage_ordinal: the passage it was found in.
        figure: the figure (offsets in the document text).
        unit_key: the unit normalised for matching; base_unit: without magnitude.
        indicator_tokens: tokens of the indicator, plus the base unit.
        context_tokens: tokens of its sentence and heading path, plus its year.
    """

    passage_ordinal: int
    figure: Figure
    unit_key: str
    base_unit: str
    indicator_tokens: tuple[str, ...]
    context_tokens: tuple[str, ...]


@dataclass(frozen=True)
class ParsedDocument:
    """A document's row values with its passages and figures.

    Attributes:
        values: column values of the :class:`index.store.models.Document` row.
        passages, figures: in document order.
    """

    values: dict
    passages: tuple[ParsedPassage, ...]
    figures: tuple[ParsedFigure, ...]

    @property
    def id(self) -> str:
        """The document id (path in the corpus folder)."""
        return self.values["id"]

    @property
    def content_hash(self) -> str:
        """SHA-256 of the file's bytes."""
        return self.values["content_hash"]


def parse_report(
    doc_id: str, content: bytes, settings: IndexSettings, tokenizer: Tokenizer, overrides: dict | None = None
) -> ParsedDocument:
    """Turn a report file's bytes into a document with tokenised passages and figures.

    Args:
        doc_id: path relative to the corpus folder, ``/``-separated.
        content: the file's bytes; the type is taken from ``doc_id``'s extension.
        overrides: the admin's settings for this file from ``metadata.toml`` (title,
            place, year, years, period, kind), which replace what is inferred.

    Raises:
        DocumentReadError: the file cannot be read, has no body text, or no word that
            could be searched (only redaction marks, punctuation or numbering).
    """
    suffix = PurePosixPath(doc_id).suffix.lower()
    text = extract_text(content, suffix)
    paragraphs = [line for line in (clean_display_line(raw) for raw in text.split("\n")) if line]
    style_title = docx_title(content) if suffix == ".docx" else None
    facts = metadata.infer_facts(paragraphs, PurePosixPath(doc_id).stem, style_title)
    if overrides:
        facts = _apply(facts, overrides)
    drafts = split_passages(paragraphs, settings.passage_limits, skip=facts.skip)
    if not drafts:
        raise DocumentReadError("文件中只有标题，没有正文")
    values = {
        "id": doc_id,
        "title": facts.title,
        "years": ",".join(str(y) for y in facts.years),
        "year": facts.year,
        "period": facts.period,
        "place": facts.place,
        "level": facts.level,
        "kind": facts.kind,
        "title_from": facts.title_from,
        "overrides": fingerprint(overrides),
        "content_hash": hashlib.sha256(content).hexdigest(),
        "size_bytes": len(content),
        "char_count": sum(len(p) for p in paragraphs),
        "passage_count": len(drafts),
        "ingested_at": datetime.now(UTC),
    }
    stored = [
        (n, SECTION_SEPARATOR.join(d.section), metadata.passage_year(d.section, facts.year), d.text, d.start, d.end)
        for n, d in enumerate(drafts)
    ]
    parsed = derive(values, stored, tokenizer)
    if not any(p.tokens for p in parsed.passages):
        raise DocumentReadError("文件中没有可检索的文字（只有脱敏符号、标点或编号）")
    return parsed


def _apply(facts: metadata.DocumentFacts, overrides: dict) -> metadata.DocumentFacts:
    """Return the facts with the admin's settings in place of the inferred ones."""
    changed = {key: value for key, value in overrides.items() if key in ("title", "place", "year", "period", "kind")}
    if "title" in changed:
        changed["title_from"] = "admin"
    years = set(overrides.get("years", facts.years)) | ({overrides["year"]} if "year" in overrides else set())
    return replace(facts, **changed, years=tuple(sorted(years)))


def derive(values: dict, passages: Sequence[tuple], tokenizer: Tokenizer) -> ParsedDocument:
    """Tokenise passages and extract their figures: from a parsed file, or from the
    stored text again when the word lists or the extractor changed.

    Args:
        values: the document's row values (its kind and years guide the figures).
        passages: (ordinal, section, year, text, start, end) in document order.
    """
    years = tuple(int(y) for y in values["years"].split(",") if y)
    report_year = values["year"]
    section_tokens: dict[str, list[str]] = {}
    parsed_passages, parsed_figures = [], []
    for ordinal, section, year, text, start, end in passages:
        if section not in section_tokens:
            section_tokens[section] = tokenizer.tokens(section)
        offsets = tokenizer.token_offsets(text)
        heading = section_tokens[section]
        parsed_passages.append(
            ParsedPassage(ordinal, section, year, text, start, end, (*heading, *(t for t, _ in offsets)))
        )
        context = PassageContext(split_section(section), year, values["kind"], years, report_year)
        for figure in extract_figures(text, context, tokenizer):
            parsed_figures.append(_parsed_figure(ordinal, start, text, figure, offsets, heading, tokenizer))
    return ParsedDocument(values, tuple(parsed_passages), tuple(parsed_figures))


def _parsed_figure(ordinal, passage_start, text, figure: Figure, offsets, section_tokens, tokenizer) -> ParsedFigure:
    # The last occurrence of the sentence that starts at or before the figure is its own.
    sentence_start = text.rfind(figure.sentence, 0, figure.start + len(figure.sentence)) if figure.sentence else -1
    if sentence_start < 0:
        sentence_start, sentence_end = 0, len(text)
    else:
        sentence_end = sentence_start + len(figure.sentence)
    base_unit = base_quantity(None, figure.unit)[1]
    context = [token for token, at in offsets if sentence_start <= at < sentence_end]
    return ParsedFigure(
        passage_ordinal=ordinal,
        figure=replace(figure, start=passage_start + figure.start, end=passage_start + figure.end),
        unit_key=normal_unit(figure.unit),
        base_unit=base_unit,
        indicator_tokens=(*tokenizer.tokens(figure.indicator), base_unit),
        context_tokens=(*context, *section_tokens, *([str(figure.year)] if figure.year else [])),
    )
