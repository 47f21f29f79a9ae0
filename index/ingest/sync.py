"""Bring the store and the index in line with the corpus folder.

:func:`sync_corpus` compares the folder with the store by content hash, parses only new
and changed files (on several processes when asked), drops removed ones, and writes the
store in one transaction. The index's next generation is written beside the one in use
before the store commits and switched to after it, so a failure at any point leaves the
previous store and index serving. A file that fails is reported and skipped (a changed
file that fails keeps its previous version); only a failure of the whole run raises.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, func, select

from index.errors import DocumentReadError, ReloadError
from index.figures.extract import EXTRACTOR_VERSION
from index.figures.model import FIGURE_KINDS
from index.ingest.corpus_files import FailedDocument, scan_corpus
from index.ingest.overrides import fingerprint, load_overrides
from index.ingest.parse import ParsedDocument, derive, parse_report
from index.ingest.readers import read_bytes, size_refusal
from index.search.engine import IndexWriter, SparseIndex, activate, generation_on_disk, open_index
from index.settings import IndexSettings
from index.store.engine import is_damage, store_failure
from index.store.models import Document, IndexState, Passage, Target
from index.text.lexicon import Lexicon
from index.text.places import gazetteer
from index.text.segmentation import Tokenizer, cjk_bigrams

logger = logging.getLogger(__name__)

FINGERPRINT_KEY = "lexicon_fingerprint"
EXTRACTOR_KEY = "extractor_version"
GENERATION_KEY = "store_generation"
FILE_HASHES = "corpus-hashes.json"

Progress = Callable[[int, int, str], None]
"""Called as ``progress(done, total, doc_id)`` while files are processed."""


@dataclass(frozen=True)
class Duplicate:
    """A file whose content another report already has."""

    doc_id: str
    same_as: str


@dataclass
class ReloadReport:
    """What a sync changed.

    Attributes:
        added, updated, removed, unchanged: document ids.
        failed: files that could not be read; a changed file listed here keeps its
            previous version in the index.
        duplicates: files with the same content as another report (kept: the one
            indexed before, else the first by name); they are not indexed twice.
        warnings: problems of ``metadata.toml`` entries, which were left out.
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
    duplicates: list[Duplicate] = field(default_factory=list)
    warnings: list[FailedDocument] = field(default_factory=list)
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
class _Job:
    """One document to parse: a file's bytes, or its stored passages to derive again."""

    doc_id: str
    content: bytes | None = None
    values: dict | None = None
    passages: tuple = ()
    overrides: dict | None = None


def sync_corpus(
    engine: Engine,
    settings: IndexSettings,
    tokenizer: Tokenizer,
    progress: Progress | None = None,
    preparsed: ParsedDocument | None = None,
    workers: int = 1,
    served: SparseIndex | None = None,
) -> ReloadReport:
    """Bring the store and the index in line with the corpus folder.

    New and changed files (by SHA-256 of their bytes) are parsed and tokenised; files
    no longer present are removed; when the word lists or the figure extractor
    changed, every unchanged document is derived again from its stored text. With
    nothing to change, nothing is written.

    Args:
        preparsed: a document already parsed with ``tokenizer`` (an upload checked
            before saving); used if its file still has that content.
        workers: processes that parse files (1 parses here).
        served: the index generation the caller serves, if any: used instead of
            opening the one on disk again when it is that one.

    Raises:
        ReloadError: the corpus folder is missing, holds no report while the store
            holds some (a missing mount must not empty the index), or the store or the
            index cannot be written. Nothing is changed then.
        StoreError: the store is damaged or cannot be opened.
    """
    started = time.perf_counter()
    files, failed = scan_corpus(settings.corpus_dir)
    report = ReloadReport(failed=list(failed))
    try:
        with engine.connect() as connection:  # not an ORM session: half the time for 13,000 rows
            rows = connection.execute(select(Document.id, Document.content_hash, Document.overrides)).all()
            state = dict(connection.execute(select(IndexState.key, IndexState.value)).all())
    except SQLAlchemyError as error:
        raise store_failure(error, settings.storage_url) from error
    stored = {doc_id: digest for doc_id, digest, _ in rows}
    stored_overrides = {doc_id: overrides for doc_id, _, overrides in rows}
    if not files and stored:
        raise ReloadError(f"语料目录 {settings.corpus_dir} 中没有可读取的报告；为防止误删，索引未作更改")
    files_to_drop: set[str] = set()  # duplicates: in the folder, but not indexed
    overrides, report.warnings = load_overrides(settings.corpus_dir, set(files))
    jobs: list[_Job] = []
    kept_hashes: dict[str, str] = {}  # content hash -> the report kept: the one indexed before, else the first
    for doc_id, digest in sorted(stored.items()):
        if doc_id in files:
            kept_hashes.setdefault(digest, doc_id)
    hashes = FileHashes(settings.index_folder)
    for doc_id, path in files.items():
        try:
            content, digest = hashes.read(doc_id, path, settings.max_file_bytes)
        except DocumentReadError as error:
            _keep_previous(report, stored, doc_id, str(error))
            continue
        original = kept_hashes.setdefault(digest, doc_id)
        if original != doc_id:
            report.duplicates.append(Duplicate(doc_id, original))
            files_to_drop.add(doc_id)
            continue
        same_settings = stored_overrides.get(doc_id, "") == fingerprint(overrides.get(doc_id))
        if stored.get(doc_id) == digest and same_settings:
            report.unchanged.append(doc_id)
        else:
            if content is None:  # known by its size and time, but its settings changed
                try:
                    content = read_bytes(Path(path), settings.max_file_bytes)
                except DocumentReadError as error:
                    _keep_previous(report, stored, doc_id, str(error))
                    continue
            jobs.append(_Job(doc_id, content=content, overrides=overrides.get(doc_id)))
    removed = sorted(set(stored) - (set(files) - files_to_drop))
    lexicon_changed = state.get(FINGERPRINT_KEY) != tokenizer.fingerprint
    rederive = lexicon_changed or state.get(EXTRACTOR_KEY) != EXTRACTOR_VERSION
    folder = settings.index_folder
    generation = int(state.get(GENERATION_KEY, 0))
    previous = _consistent_index(folder, tokenizer.fingerprint, generation, served) if not rederive else None
    if not jobs and not removed and not rederive and previous is not None:
        hashes.save()
        # The index reflects the store (its generation says so): its live rows are the
        # store's passages and figures, with no count over the tables (0.1-0.7 s at 200k).
        report.documents, report.passages, report.targets = len(stored), *_live_rows(previous)
        report.seconds = round(time.perf_counter() - started, 3)
        return report  # nothing changed: no store or index work
    writer = IndexWriter(folder, previous, lexicon=tokenizer.fingerprint) if previous else None
    try:
        with Session(engine) as session:
            if rederive:
                jobs += _stored_jobs(session, report.unchanged)
            ids = _next_ids(session)
            total = len(jobs)
            for done, (job, outcome) in enumerate(_parse_all(jobs, settings, tokenizer, preparsed, workers), 1):
                if progress:
                    progress(done, total, job.doc_id)
                if isinstance(outcome, str):
                    _keep_previous(report, stored, job.doc_id, outcome)
                    continue
                if job.content is None:  # derived again from the store
                    report.reextracted += 1
                    report.retokenized += len(outcome.passages) if lexicon_changed else 0
                else:
                    (report.updated if job.doc_id in stored else report.added).append(job.doc_id)
                _replace(session, outcome, ids, writer, replacing=job.doc_id in stored)
            for doc_id in removed:
                _delete_rows(session, doc_id)
            if writer is not None:
                writer.remove(removed)
            else:  # no consistent index to update: build it from the store's rows
                writer = IndexWriter(folder, None, lexicon=tokenizer.fingerprint)
                _index_store(session, writer)
            report.removed = removed
            _set_state(session, tokenizer.fingerprint, generation + 1)
            manifest = writer.finish(store_generation=generation + 1)
            session.commit()
    except SQLAlchemyError as error:
        _discard(writer)
        if is_damage(error):
            raise store_failure(error, settings.storage_url) from error
        raise ReloadError(f"无法写入索引数据库：{error.__class__.__name__}: {error}") from error
    except OSError as error:
        _discard(writer)
        raise ReloadError(f"无法写入检索索引 {folder}：{error}") from error
    except BaseException:
        _discard(writer)
        raise
    try:
        activate(folder, manifest)
    except OSError as error:  # the store has changed: the next open rebuilds the index from it
        raise ReloadError(f"报告已入库，但检索索引未能切换（{error}）；请再运行一次 bureau-bot reload") from error
    hashes.save()
    report.documents, report.passages, report.targets = _totals(engine, settings)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def rebuild_index(engine: Engine, settings: IndexSettings, fingerprint: str) -> SparseIndex:
    """Build the index from the store's rows (no tokenising) and switch to it.

    Used when the index files are missing, of another engine version, or behind the
    store (a crash between the two). The caller holds the reload lock.

    Raises:
        ReloadError: the index folder cannot be written.
        StoreError: the store cannot be read.
    """
    folder = settings.index_folder
    writer = IndexWriter(folder, None, lexicon=fingerprint)
    try:
        with Session(engine) as session:
            state = session.get(IndexState, GENERATION_KEY)
            generation = int(state.value) if state else 0
            _index_store(session, writer)
        manifest = writer.finish(store_generation=generation)
        activate(folder, manifest)
    except SQLAlchemyError as error:
        _discard(writer)
        raise store_failure(error, settings.storage_url) from error
    except OSError as error:
        _discard(writer)
        raise ReloadError(f"无法写入检索索引 {folder}：{error}") from error
    return open_index(folder)


def consistent_index(settings: IndexSettings, engine: Engine, fingerprint: str) -> SparseIndex | None:
    """Return the index in use when it reflects the store and the word lists, else None.

    Raises:
        StoreError: the store or the index files cannot be read.
    """
    try:
        with Session(engine) as session:
            state = session.get(IndexState, GENERATION_KEY)
    except SQLAlchemyError as error:
        raise store_failure(error, settings.storage_url) from error
    return _consistent_index(settings.index_folder, fingerprint, int(state.value) if state else 0)


def _consistent_index(
    folder, fingerprint: str, generation: int, served: SparseIndex | None = None
) -> SparseIndex | None:
    """The index on disk when it reflects store generation ``generation`` and the word
    lists of ``fingerprint``; ``served`` stands for it when it is the one on disk."""
    in_use = served is not None and served.generation == generation_on_disk(folder)
    index = served if in_use else open_index(folder)
    if index is None or index.manifest["lexicon"] != fingerprint or index.store_generation != generation:
        return None
    return index


class FileHashes:
    """SHA-256 of the corpus files, remembered with each file's size and modification
    time (``corpus-hashes.json`` in the index folder), so that a reload reads and
    hashes only the files whose size or time changed, as ``git status`` and rsync's
    quick check do. A file rewritten with the same size within the same nanosecond
    would be missed; one that is missing or unreadable is simply hashed again.

    Args:
        folder: the index folder.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_HASHES
        try:
            known = json.loads(self.path.read_text(encoding="utf-8"))
            self.known: dict[str, list] = known if isinstance(known, dict) else {}
        except (OSError, ValueError):
            self.known = {}
        self.seen: dict[str, list] = {}

    def read(self, doc_id: str, path: str, max_bytes: int) -> tuple[bytes | None, str]:
        """Return (the file's bytes, or None when its hash is known; its SHA-256 hex).

        Raises:
            DocumentReadError: see :func:`read_bytes` (the size limit is checked either way).
        """
        try:
            status = os.stat(path)
        except OSError as error:
            raise DocumentReadError(f"无法读取文件：{error.strerror or error}") from error
        refusal = size_refusal(status.st_size, max_bytes)
        if refusal:
            raise DocumentReadError(refusal)
        known = self.known.get(doc_id)
        if (
            isinstance(known, list) and len(known) == 3
            and known[0] == status.st_size and known[1] == status.st_mtime_ns
        ):  # fmt: skip
            self.seen[doc_id] = known
            return None, known[2]
        content = read_bytes(Path(path), max_bytes)
        digest = hashlib.sha256(content).hexdigest()
        self.seen[doc_id] = [status.st_size, status.st_mtime_ns, digest]
        return content, digest

    def save(self) -> None:
        """Remember the files read by this sync (written only when something differs;
        a file that cannot be written is skipped, the next reload hashes again)."""
        if self.seen == self.known:
            return
        try:
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}")
            partial.write_text(json.dumps(self.seen, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, self.path)
        except OSError:
            logger.debug("could not write %s", self.path)


def _keep_previous(report: ReloadReport, stored: dict[str, str], doc_id: str, reason: str) -> None:
    report.failed.append(FailedDocument(doc_id, reason))
    if doc_id in stored:
        report.unchanged.append(doc_id)


def _discard(writer: IndexWriter | None) -> None:
    if writer is not None:
        writer.discard()


# Parsing, here or on worker processes


def _parse_all(
    jobs: list[_Job], settings: IndexSettings, tokenizer: Tokenizer, preparsed: ParsedDocument | None, workers: int
) -> Iterator[tuple[_Job, ParsedDocument | str]]:
    """Yield (job, parsed document or the reason it failed) as jobs complete."""
    ready = {
        job.doc_id: preparsed
        for job in jobs
        if preparsed is not None and job.content is not None and job.doc_id == preparsed.id
        and hashlib.sha256(job.content).hexdigest() == preparsed.content_hash
    }  # fmt: skip
    remaining = [job for job in jobs if job.doc_id not in ready]
    for job in jobs:
        if job.doc_id in ready:
            yield job, ready[job.doc_id]
    if workers <= 1 or len(remaining) < 2:
        for job in remaining:
            yield job, _parse_job(job, settings, tokenizer)
        return
    forking = threading.active_count() == 1
    if forking:
        # Forked workers inherit this process's loaded tokenizer and word tables
        # (copy-on-write) instead of each loading jieba's dictionary again (~1 s).
        gazetteer()
        _worker_state.update(settings=settings, tokenizer=tokenizer)
        starter = {}
    else:
        starter = {"initializer": _start_worker, "initargs": (settings, tokenizer.fingerprint)}
    context = multiprocessing.get_context("fork" if forking else "spawn")
    with ProcessPoolExecutor(min(workers, len(remaining)), mp_context=context, **starter) as pool:
        pending = {}
        queued = iter(remaining)
        for job in itertools.islice(queued, 2 * workers):  # a few at a time: bounded memory
            pending[pool.submit(_parse_in_worker, job)] = job
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                yield job, future.result()
                following = next(queued, None)
                if following is not None:
                    pending[pool.submit(_parse_in_worker, following)] = following


_worker_state: dict = {}


def _start_worker(settings: IndexSettings, fingerprint: str) -> None:
    lexicon = Lexicon.load(settings.lexicon)
    if lexicon.fingerprint != fingerprint:
        raise ReloadError("词表在重新加载时被修改，请再试一次")
    _worker_state.update(settings=settings, tokenizer=Tokenizer.for_lexicon(lexicon))


def _parse_in_worker(job: _Job) -> ParsedDocument | str:
    return _parse_job(job, _worker_state["settings"], _worker_state["tokenizer"])


def _parse_job(job: _Job, settings: IndexSettings, tokenizer: Tokenizer) -> ParsedDocument | str:
    """Parse one job; return the reason in Chinese instead when it cannot be."""
    try:
        if job.content is not None:
            return parse_report(job.doc_id, job.content, settings, tokenizer, job.overrides)
        return derive(job.values, job.passages, tokenizer)
    except DocumentReadError as error:
        return str(error)
    except Exception as error:  # one file must never stop the others
        logger.exception("could not ingest %s", job.doc_id)
        return f"处理该文件时出错（{type(error).__name__}），已跳过；其他文件不受影响"


def _stored_jobs(session: Session, doc_ids: list[str]) -> list[_Job]:
    """Jobs that derive unchanged documents again from their stored passages."""
    jobs = []
    for document in session.exec(select(Document).where(Document.id.in_(doc_ids)).order_by(Document.id)):
        passages = session.exec(
            select(Passage.ordinal, Passage.section, Passage.year, Passage.text, Passage.char_start, Passage.char_end)
            .where(Passage.doc_id == document.id)
            .order_by(Passage.ordinal)
        ).all()
        values = document.model_dump()
        jobs.append(_Job(document.id, values=values, passages=tuple(tuple(p) for p in passages)))
    return jobs


# Writing the store, and the index rows that go with it


@dataclass
class _Ids:
    passage: int
    target: int


def _next_ids(session: Session) -> _Ids:
    """Ids are given here, not by the database, so the index can be written before the
    store commits."""
    passage = session.exec(select(func.max(Passage.id))).one() or 0
    target = session.exec(select(func.max(Target.id))).one() or 0
    return _Ids(passage + 1, target + 1)


def _delete_rows(session: Session, doc_id: str) -> None:
    session.exec(delete(Target).where(Target.doc_id == doc_id))
    session.exec(delete(Passage).where(Passage.doc_id == doc_id))
    session.exec(delete(Document).where(Document.id == doc_id))


def _replace(session: Session, parsed: ParsedDocument, ids: _Ids, writer: IndexWriter | None, replacing: bool) -> None:
    """Write one document's rows (replacing its previous ones) and give them to the index."""
    if replacing:
        _delete_rows(session, parsed.id)
        if writer is not None:
            writer.remove([parsed.id])
    connection = session.connection()
    connection.execute(insert(Document), [parsed.values])
    passage_ids = list(range(ids.passage, ids.passage + len(parsed.passages)))
    ids.passage += len(passage_ids)
    passage_rows = [
        {
            "id": passage_id,
            "doc_id": parsed.id,
            "ordinal": p.ordinal,
            "section": p.section,
            "year": p.year,
            "text": p.text,
            "char_start": p.start,
            "char_end": p.end,
            "tokens": json.dumps(p.tokens, ensure_ascii=False),
        }
        for passage_id, p in zip(passage_ids, parsed.passages, strict=True)
    ]
    if passage_rows:
        connection.execute(insert(Passage), passage_rows)
    target_rows = []
    for item in parsed.figures:
        figure = item.figure
        target_rows.append(
            {
                "id": ids.target,
                "doc_id": parsed.id,
                "passage_ordinal": item.passage_ordinal,
                "section": parsed.passages[item.passage_ordinal].section,
                "indicator": figure.indicator,
                "value": figure.value,
                "value_max": figure.value_max,
                "value_text": figure.value_text,
                "unit": figure.unit,
                "unit_key": item.unit_key,
                "base_unit": item.base_unit,
                "qualifier": figure.qualifier,
                "kind": figure.kind,
                "period": figure.period,
                "year": figure.year,
                "redacted": figure.redacted,
                "sentence": figure.sentence,
                "char_start": figure.start,
                "char_end": figure.end,
                "indicator_tokens": json.dumps(item.indicator_tokens, ensure_ascii=False),
                "context_tokens": json.dumps(item.context_tokens, ensure_ascii=False),
            }
        )
        ids.target += 1
    if target_rows:
        connection.execute(insert(Target), target_rows)
    if writer is not None:
        passages = zip(passage_ids, parsed.passages, strict=True)
        rows = [
            (passage_id, p.ordinal, p.year, p.section, p.text, p.tokens, _bigrams(p.section, p.text))
            for passage_id, p in passages
        ]
        writer.add(parsed.id, rows, [_figure_row(row) for row in target_rows])


def _figure_row(row: dict) -> tuple:
    return (
        row["id"],
        row["passage_ordinal"],
        FIGURE_KINDS.index(row["kind"]),
        row["year"],
        row["redacted"],
        row["base_unit"],
        json.loads(row["indicator_tokens"]),
        json.loads(row["context_tokens"]),
    )


def _bigrams(section: str, text: str) -> list[str]:
    return cjk_bigrams(f"{section}\n{text}")


def _index_store(session: Session, writer: IndexWriter) -> None:
    """Give every document of the store (as the session sees it) to the index writer."""
    passages = session.exec(
        select(
            Passage.id, Passage.doc_id, Passage.ordinal, Passage.year, Passage.section, Passage.text, Passage.tokens
        ).order_by(Passage.doc_id, Passage.ordinal)
    )
    figures = session.exec(
        select(
            Target.id,
            Target.doc_id,
            Target.passage_ordinal,
            Target.kind,
            Target.year,
            Target.redacted,
            Target.base_unit,
            Target.indicator_tokens,
            Target.context_tokens,
        ).order_by(Target.doc_id, Target.id)
    )
    figure_groups = itertools.groupby(figures, key=lambda row: row[1])
    pending = next(figure_groups, None)
    for doc_id, rows in itertools.groupby(passages, key=lambda row: row[1]):
        passage_rows = [
            (pid, ordinal, year, section, text, json.loads(tokens), _bigrams(section, text))
            for pid, _, ordinal, year, section, text, tokens in rows
        ]
        doc_figures: list[tuple] = []
        while pending is not None and pending[0] <= doc_id:
            if pending[0] == doc_id:
                doc_figures = [
                    (fid, ordinal, FIGURE_KINDS.index(kind), year, redacted, unit, json.loads(ind), json.loads(ctx))
                    for fid, _, ordinal, kind, year, redacted, unit, ind, ctx in pending[1]
                ]
            pending = next(figure_groups, None)
        writer.add(doc_id, passage_rows, doc_figures)


def _set_state(session: Session, fingerprint: str, generation: int) -> None:
    state = {FINGERPRINT_KEY: fingerprint, EXTRACTOR_KEY: EXTRACTOR_VERSION, GENERATION_KEY: str(generation)}
    for key, value in state.items():
        session.merge(IndexState(key=key, value=value))


def _live_rows(index: SparseIndex) -> tuple[int, int]:
    """(passages, figures) an index generation holds."""
    return index.stats["word"].rows, index.stats["indicator"].rows


def _totals(engine: Engine, settings: IndexSettings) -> tuple[int, int, int]:
    try:
        with Session(engine) as session:
            counts = [session.exec(select(func.count()).select_from(t)).one() for t in (Document, Passage, Target)]
        return counts[0], counts[1], counts[2]
    except SQLAlchemyError as error:
        raise store_failure(error, settings.storage_url) from error
