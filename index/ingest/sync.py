"""Ingest the corpus folder into the store: parse, split, tokenize, and sync.

:func:`sync_corpus` compares the folder with the store by content hash, processes only
new and changed files, drops removed ones, and writes everything in one transaction. A
file that fails is reported and skipped (a changed file that fails keeps its previous
version); only a failure of the whole run raises :class:`ReloadError`, leaving the store
as it was.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, delete, func, select

from index.figures.extract import EXTRACTOR_VERSION, PassageContext, base_quantity, extract_targets, normal_unit
from index.ingest import metadata
from index.ingest.passages import split_passages
from index.ingest.readers import (
    SUPPORTED_SUFFIXES,
    DocumentReadError,
    extract_text,
    read_bytes,
    unsupported_type_reason,
)
from index.settings import IndexSettings
from index.store.models import SECTION_SEPARATOR, Document, IndexState, Passage, Target
from index.text.normalize import clean_display_line, index_form
from index.text.segmentation import Tokenizer

FINGERPRINT_KEY = "lexicon_fingerprint"
EXTRACTOR_KEY = "extractor_version"

Progress = Callable[[int, int, str], None]
"""Called as ``progress(done, total, doc_id)`` while files are processed."""


class ReloadError(Exception):
    """The whole reload failed and nothing was changed; the message is in Chinese."""


@dataclass(frozen=True)
class FailedDocument:
    """A file that could not be ingested, with the reason in Chinese."""

    doc_id: str
    reason: str


@dataclass
class ReloadReport:
    """What a sync changed.

    Attributes:
        added, updated, removed, unchanged: document ids.
        failed: files that could not be read; a changed file listed here keeps its
            previous version in the index.
        documents, passages, targets: totals in the store after the sync.
        retokenized: passages of unchanged documents re-tokenised because the
            lexicon changed.
        reextracted: documents whose targets were extracted again because the
            lexicon or the extractor changed.
        seconds: wall time of the sync.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[FailedDocument] = field(default_factory=list)
    documents: int = 0
    passages: int = 0
    targets: int = 0
    retokenized: int = 0
    reextracted: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether the store differs from before the sync."""
        return bool(self.added or self.updated or self.removed or self.retokenized or self.reextracted)

    def to_dict(self) -> dict:
        """Return the report as JSON-ready values (``failed`` as id/reason objects)."""
        return asdict(self)


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
    passages = []
    for ordinal, draft in enumerate(drafts):
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
                tokens=json.dumps(passage_tokens(tokenizer, section, draft.text), ensure_ascii=False),
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
    section = tuple(label for label in passage.section.split(SECTION_SEPARATOR) if label)
    context = PassageContext(section, passage.year, doc_kind, tuple(doc_years))
    rows = []
    for draft in extract_targets(passage.text, context, tokenizer):
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


def scan_corpus(corpus_dir: Path) -> tuple[dict[str, Path], list[FailedDocument]]:
    """List report files under ``corpus_dir``.

    Returns:
        (doc_id -> path for supported files, failures for files of other types).
        Hidden files and folders (name starting with ".") are skipped.

    Raises:
        ReloadError: the folder does not exist or cannot be listed.
    """
    if not corpus_dir.is_dir():
        raise ReloadError(f"语料目录不存在：{corpus_dir}")
    files: dict[str, Path] = {}
    unsupported: list[FailedDocument] = []
    try:
        paths = sorted(corpus_dir.rglob("*"))
    except OSError as error:
        raise ReloadError(f"无法读取语料目录 {corpus_dir}：{error}") from error
    for path in paths:
        relative = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        doc_id = relative.as_posix()
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            files[doc_id] = path
        else:
            unsupported.append(FailedDocument(doc_id, unsupported_type_reason(path.suffix.lower())))
    return files, unsupported


def sync_corpus(
    engine: Engine,
    settings: IndexSettings,
    tokenizer: Tokenizer,
    progress: Progress | None = None,
    preparsed: ParsedDocument | None = None,
) -> ReloadReport:
    """Bring the store in line with the corpus folder.

    New and changed files (by SHA-256 of their bytes) are parsed and tokenised;
    files no longer present are removed; if the lexicon changed since the last sync,
    the stored passages of unchanged documents are re-tokenised. All writes happen in
    one transaction. ``preparsed`` is a document already parsed with ``tokenizer``
    (an upload checked before saving); it is used if its file still has that content.

    Raises:
        ReloadError: the corpus folder is missing, holds no report while the store
            holds some (a missing mount must not empty the index), or the store
            cannot be written. Nothing is changed then.
    """
    started = time.perf_counter()
    files, unsupported = scan_corpus(settings.corpus_dir)
    report = ReloadReport(failed=list(unsupported))
    try:
        with Session(engine) as session:
            stored = {doc.id: doc.content_hash for doc in session.exec(select(Document))}
            fingerprint = session.get(IndexState, FINGERPRINT_KEY)
            extractor = session.get(IndexState, EXTRACTOR_KEY)
            if not files and stored:
                raise ReloadError(f"语料目录 {settings.corpus_dir} 中没有可读取的报告；为防止误删，索引未作更改")
            parsed: list[ParsedDocument] = []
            for done, (doc_id, path) in enumerate(files.items(), start=1):
                if progress:
                    progress(done, len(files), doc_id)
                try:
                    content = read_bytes(path, settings.max_file_bytes)
                    if stored.get(doc_id) == hashlib.sha256(content).hexdigest():
                        report.unchanged.append(doc_id)
                        continue
                    ready = preparsed is not None and preparsed.document.id == doc_id
                    same = ready and preparsed.document.content_hash == hashlib.sha256(content).hexdigest()
                    parsed.append(preparsed if same else parse_report(doc_id, content, settings, tokenizer))
                    (report.updated if doc_id in stored else report.added).append(doc_id)
                except DocumentReadError as error:
                    report.failed.append(FailedDocument(doc_id, str(error)))
                    if doc_id in stored:
                        report.unchanged.append(doc_id)
            report.removed = sorted(set(stored) - set(files))
            _write(session, parsed, report.removed)
            lexicon_changed = fingerprint is None or fingerprint.value != tokenizer.fingerprint
            if lexicon_changed:
                report.retokenized = _retokenize(session, report.unchanged, tokenizer)
                session.merge(IndexState(key=FINGERPRINT_KEY, value=tokenizer.fingerprint))
            if lexicon_changed or extractor is None or extractor.value != EXTRACTOR_VERSION:
                report.reextracted = _reextract(session, report.unchanged, tokenizer)
                session.merge(IndexState(key=EXTRACTOR_KEY, value=EXTRACTOR_VERSION))
            session.commit()
            report.documents = session.exec(select(func.count()).select_from(Document)).one()
            report.passages = session.exec(select(func.count()).select_from(Passage)).one()
            report.targets = session.exec(select(func.count()).select_from(Target)).one()
    except SQLAlchemyError as error:
        raise ReloadError(f"无法写入索引数据库：{error.__class__.__name__}: {error}") from error
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _write(session: Session, parsed: list[ParsedDocument], removed: list[str]) -> None:
    replaced = [p.document.id for p in parsed] + removed
    if replaced:
        session.exec(delete(Target).where(Target.doc_id.in_(replaced)))
        session.exec(delete(Passage).where(Passage.doc_id.in_(replaced)))
    if removed:
        session.exec(delete(Document).where(Document.id.in_(removed)))
    session.flush()
    for item in parsed:
        session.merge(item.document)
    session.flush()  # documents first: passages reference them
    for item in parsed:
        session.add_all(item.passages)
        session.add_all(item.targets)


def _retokenize(session: Session, doc_ids: list[str], tokenizer: Tokenizer) -> int:
    passages = session.exec(select(Passage).where(Passage.doc_id.in_(doc_ids))).all()
    for passage in passages:
        passage.tokens = json.dumps(passage_tokens(tokenizer, passage.section, passage.text), ensure_ascii=False)
        session.add(passage)
    return len(passages)


def _reextract(session: Session, doc_ids: list[str], tokenizer: Tokenizer) -> int:
    session.exec(delete(Target).where(Target.doc_id.in_(doc_ids)))
    documents = session.exec(select(Document).where(Document.id.in_(doc_ids))).all()
    for document in documents:
        passages = session.exec(select(Passage).where(Passage.doc_id == document.id).order_by(Passage.ordinal)).all()
        for passage in passages:
            session.add_all(passage_target_rows(passage, document.kind, document.year_list, tokenizer))
    return len(documents)
