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
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, delete, func, select

from index.errors import DocumentReadError, ReloadError
from index.figures.extract import EXTRACTOR_VERSION
from index.ingest.corpus_files import FailedDocument, scan_corpus
from index.ingest.parse import ParsedDocument, parse_report, passage_target_rows, passage_tokens
from index.ingest.readers import read_bytes
from index.settings import IndexSettings
from index.store.engine import is_damage, store_failure
from index.store.models import Document, IndexState, Passage, Target
from index.text.segmentation import Tokenizer

logger = logging.getLogger(__name__)

FINGERPRINT_KEY = "lexicon_fingerprint"
EXTRACTOR_KEY = "extractor_version"

Progress = Callable[[int, int, str], None]
"""Called as ``progress(done, total, doc_id)`` while files are processed."""


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
                except Exception as error:  # one file must never stop the others
                    logger.exception("could not ingest %s", doc_id)
                    reason = f"处理该文件时出错（{type(error).__name__}），已跳过；其他文件不受影响"
                    report.failed.append(FailedDocument(doc_id, reason))
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
        if is_damage(error):
            raise store_failure(error, settings.storage_url) from error
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
