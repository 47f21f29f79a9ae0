"""Parse one report file into the rows the store keeps: document, passages, figures.

Pure with respect to the store: bytes in, rows out. :mod:`index.ingest.sync` decides
which files to parse and writes the rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath

from index.errors import DocumentReadError
from index.figures.extract import PassageContext, base_quantity, extract_figures, normal_unit
from index.ingest import metadata
from index.ingest.passages import split_passages
from index.ingest.readers import extract_text
from index.settings import IndexSettings
from index.store.models import SECTION_SEPARATOR, Document, Passage, Target, split_section
from index.text.normalize import clean_display_line, index_form
from index.text.segmentation import Tokenizer


@dataclass(frozen=True)
class ParsedDocument:
    """A document row with its passage and target rows, ready to be written."""

    document: Document
    passages: list[Passage]
    targets: list[Target]


def parse_report(doc_id: str, content: bytes, settings: IndexSettings, tokenizer: Tokenizer) -> ParsedDocument:
    """Turn a report file's bytes into a document row and tokenised passage rows.

    Args:
        doc_id: path relative to the corpus folder, ``/``-separated.
        content: the file's bytes; the type is taken from ``doc_id``'s extension.

    Raises:
        DocumentReadError: the file cannot be read or has no body text.
    """
    text = extract_text(content, PurePosixPath(doc_id).suffix)
    paragraphs = [line for line in (clean_display_line(raw) for raw in text.split("\n")) if line]
    title = metadata.find_title(paragraphs)
    drafts = split_passages(paragraphs, settings.passage_limits, skip=1 if title else 0)
    if not drafts:
        raise DocumentReadError("文件中只有标题，没有正文")
    headings = list(dict.fromkeys(label for d in drafts for label in d.section))
    opening = drafts[0].text
    years = metadata.document_years(title, headings, opening)
    token_lists = [passage_tokens(tokenizer, SECTION_SEPARATOR.join(d.section), d.text) for d in drafts]
    if not any(token_lists):
        raise DocumentReadError("文件中没有可检索的文字（只有脱敏符号、标点或编号）")
    passages = []
    for ordinal, (draft, tokens) in enumerate(zip(drafts, token_lists, strict=True)):
        section = SECTION_SEPARATOR.join(draft.section)
        passages.append(
            Passage(
                doc_id=doc_id,
                ordinal=ordinal,
                section=section,
                year=metadata.passage_year(draft.section, years),
                text=draft.text,
                char_start=draft.start,
                char_end=draft.end,
                tokens=json.dumps(tokens, ensure_ascii=False),
            )
        )
    kind = metadata.document_kind(title, list(dict.fromkeys(d.section[0] for d in drafts if d.section)), opening)
    targets = [t for p in passages for t in passage_target_rows(p, kind, years, tokenizer)]
    document = Document(
        id=doc_id,
        title=title or PurePosixPath(doc_id).stem,
        years=",".join(str(y) for y in years),
        year=max(years) if years else None,
        level=metadata.issuing_level(title, paragraphs),
        kind=kind,
        content_hash=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        char_count=sum(len(p) for p in paragraphs),
        passage_count=len(passages),
        ingested_at=datetime.now(UTC),
    )
    return ParsedDocument(document, passages, targets)


def passage_target_rows(passage: Passage, doc_kind: str, doc_years: list[int], tokenizer: Tokenizer) -> list[Target]:
    """Extract the figures of a stored passage as target rows (document offsets)."""
    section = split_section(passage.section)
    context = PassageContext(section, passage.year, doc_kind, tuple(doc_years))
    rows = []
    for draft in extract_figures(passage.text, context, tokenizer):
        base_unit = base_quantity(None, draft.unit)[1]
        year_text = str(draft.year) if draft.year else ""
        rows.append(
            Target(
                doc_id=passage.doc_id,
                passage_ordinal=passage.ordinal,
                section=passage.section,
                indicator=draft.indicator,
                value=draft.value,
                value_text=draft.value_text,
                unit=draft.unit,
                unit_key=normal_unit(draft.unit),
                qualifier=draft.qualifier,
                kind=draft.kind,
                period=draft.period,
                year=draft.year,
                redacted=draft.redacted,
                sentence=draft.sentence,
                char_start=passage.char_start + draft.start,
                char_end=passage.char_start + draft.end,
                search_text=index_form(
                    " ".join([draft.indicator, draft.unit, draft.sentence, passage.section, year_text])
                ).lower(),
                indicator_tokens=json.dumps([*tokenizer.tokens(draft.indicator), base_unit], ensure_ascii=False),
                context_tokens=json.dumps(
                    [*tokenizer.tokens(f"{draft.sentence}\n{passage.section}"), *([year_text] if year_text else [])],
                    ensure_ascii=False,
                ),
            )
        )
    return rows


def passage_tokens(tokenizer: Tokenizer, section: str, text: str) -> list[str]:
    """Return the indexed tokens of a passage: its heading path, then its text."""
    return tokenizer.tokens(f"{section}\n{text}")
