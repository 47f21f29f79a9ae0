"""The index being served: opened from the store, reloaded from the corpus, swapped
atomically.

A reload runs the whole sync and builds a complete new :class:`SearchIndex` before
replacing the reference searches read, so searches during a reload use the previous
index, and a failed reload leaves it in place.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlmodel import Session, func, select

from index.figures.extract import EXTRACTOR_VERSION
from index.figures.lookup import TargetRecord, figures_for_question, lookup_targets
from index.ingest.corpus_files import move_aside, safe_file_name, save_report
from index.ingest.readers import DocumentReadError
from index.ingest.sync import (
    EXTRACTOR_KEY,
    FINGERPRINT_KEY,
    ParsedDocument,
    Progress,
    ReloadError,
    ReloadReport,
    parse_report,
    sync_corpus,
)
from index.search.searcher import SearchHit, SearchIndex, load_search_index
from index.settings import IndexSettings
from index.store.engine import create_store_engine
from index.store.models import Document, IndexState, Target
from index.text.lexicon import Lexicon, LexiconError
from index.text.segmentation import Tokenizer


class ReloadBusyError(ReloadError):
    """Another reload is running; this one did not start."""


class DocumentRejected(Exception):
    """An uploaded report was not added; ``str(error)`` is the reason in Chinese."""


class DocumentNotFound(Exception):
    """No indexed document (or more than one) matches a name.

    Attributes:
        candidates: ids of the documents that match partly, for the admin to pick.
    """

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


@dataclass(frozen=True)
class CorpusChange:
    """The outcome of adding or removing one report.

    Attributes:
        doc_id: the document's id (its file name in the corpus folder).
        moved_to: where the previous version (upload) or the removed file now lies.
        report: the reload that followed.
        document: the stored document after an upload; None after a removal.
        targets: figures extracted from the uploaded document.
    """

    doc_id: str
    moved_to: Path | None
    report: ReloadReport
    document: Document | None
    targets: int


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class LiveIndex:
    """Own the store engine, the tokenizer and the current :class:`SearchIndex`.

    Args:
        settings: index settings.
        notice: receives one-line progress notes for the operator (stderr by default).
    """

    def __init__(self, settings: IndexSettings, notice: Callable[[str], None] = _stderr) -> None:
        self.settings = settings
        self.engine = create_store_engine(settings.storage_url)
        self._notice = notice
        self._reload_lock = threading.Lock()
        self._tokenizer: Tokenizer | None = None
        self._current: SearchIndex | None = None

    @property
    def current(self) -> SearchIndex:
        """The index searches use now.

        Raises:
            RuntimeError: :meth:`open` has not been called.
        """
        if self._current is None:
            raise RuntimeError("LiveIndex.open() must be called before searching")
        return self._current

    def open(self) -> ReloadReport | None:
        """Load the stored index; build it from the corpus first if the store is empty,
        re-tokenise if the lexicon files changed since it was built, and re-extract
        targets if the extractor did.

        Returns:
            The report of the sync that was needed, or None if the store was used as is.

        Raises:
            ReloadError: the store is empty or stale and the sync failed.
        """
        tokenizer = self._tokenizer_for(self._load_lexicon())
        with Session(self.engine) as session:
            documents = session.exec(select(func.count()).select_from(Document)).one()
            state = session.get(IndexState, FINGERPRINT_KEY)
            extractor = session.get(IndexState, EXTRACTOR_KEY)
        report = None
        if documents == 0:
            self._notice(f"索引为空，正在从语料目录建立索引：{self.settings.corpus_dir}")
            report = self._sync(tokenizer, None)
        elif state is None or state.value != tokenizer.fingerprint:
            self._notice("词表已更改，正在按新词表重新分词")
            report = self._sync(tokenizer, None)
        elif extractor is None or extractor.value != EXTRACTOR_VERSION:
            self._notice("数字提取规则已更新，正在重新提取数字")
            report = self._sync(tokenizer, None)
        else:
            self._tokenizer = tokenizer
            self._current = load_search_index(self.engine, tokenizer, self.settings.ranking)
        if report is not None:
            self._notice(
                f"索引完成：{report.documents} 份文档，{report.passages} 个段落，"
                f"{len(report.failed)} 个文件失败，用时 {report.seconds:.1f} 秒"
            )
        return report

    def reload(self, progress: Progress | None = None) -> ReloadReport:
        """Sync the store with the corpus folder and swap in the new index.

        Re-reads the lexicon files (a new tokenizer is built only if they changed).

        Raises:
            ReloadBusyError: a reload is already running.
            ReloadError: the reload failed; the previous index keeps serving.
        """
        with self._exclusive():
            tokenizer = self._tokenizer_for(self._load_lexicon())
            return self._sync(tokenizer, progress)

    def add_document(self, file_name: str, content: bytes, progress: Progress | None = None) -> CorpusChange:
        """Add an uploaded report to the corpus folder and the index.

        The file is parsed first; only a readable report is saved (atomically, under a
        safe name), and a file of the same name is moved aside, not overwritten. If
        the reload that follows fails, the new file is taken out and the old one put
        back, so nothing is left half-added.

        Raises:
            DocumentRejected: bad name or type, empty, too large, or unreadable.
            ReloadBusyError: a reload is running.
            ReloadError: the reload failed (the corpus folder is as before).
        """
        try:
            name = safe_file_name(file_name)
            if len(content) > self.settings.max_file_bytes:
                limit = self.settings.max_file_bytes / 1_048_576
                raise DocumentReadError(f"文件过大（{len(content) / 1_048_576:.1f} MB，上限 {limit:.0f} MB）")
            tokenizer = self._tokenizer_for(self._load_lexicon())
            checked = parse_report(name, content, self.settings, tokenizer)
        except DocumentReadError as error:
            raise DocumentRejected(str(error)) from error
        target = self.settings.corpus_dir / name
        with self._exclusive():
            replaced = move_aside(target, self.settings.removed_folder) if target.exists() else None
            save_report(self.settings.corpus_dir, name, content)
            try:
                report = self._sync(tokenizer, progress, checked)
            except ReloadError:
                target.unlink(missing_ok=True)
                if replaced is not None:
                    shutil.move(replaced, target)
                raise
        with Session(self.engine) as session:
            document = session.get(Document, name)
            targets = session.exec(select(func.count()).select_from(Target).where(Target.doc_id == name)).one()
        return CorpusChange(name, replaced, report, document, targets)

    def remove_document(self, name: str, progress: Progress | None = None) -> CorpusChange:
        """Move a report out of the corpus folder (into the removed folder) and reindex.

        ``name`` is a document id, a file name, or a title; it must match one
        document (exactly, or as the only partial match).

        Raises:
            DocumentNotFound: no document or several match.
            ReloadBusyError: a reload is running.
            ReloadError: the reload failed; the file is put back.
        """
        doc_id = self._find_document(name)
        path = self.settings.corpus_dir / doc_id
        with self._exclusive():
            moved = move_aside(path, self.settings.removed_folder) if path.exists() else None
            try:
                report = self._sync(self._tokenizer_for(self._load_lexicon()), progress)
            except ReloadError:
                if moved is not None:
                    shutil.move(moved, path)
                raise
        return CorpusChange(doc_id, moved, report, None, 0)

    def document_summaries(self) -> list[tuple[Document, int]]:
        """Return the stored documents with their number of targets, ordered by id."""
        with Session(self.engine) as session:
            counts = dict(session.exec(select(Target.doc_id, func.count()).group_by(Target.doc_id)).all())
            documents = session.exec(select(Document).order_by(Document.id)).all()
        return [(document, counts.get(document.id, 0)) for document in documents]

    def search(self, question: str, k: int = 5) -> list[SearchHit]:
        """Search the current index; see :meth:`SearchIndex.search`."""
        return self.current.search(question, k)

    def targets(self, keyword: str, *, year: int | None = None, kind: str | None = None) -> list[TargetRecord]:
        """Look up stored targets; see :func:`index.figures.lookup.lookup_targets`."""
        return lookup_targets(self.engine, self.current.tokenizer, keyword, year=year, kind=kind)

    def figures(self, question: str, limit: int = 3) -> list[TargetRecord]:
        """Targets answering a question; see :func:`index.figures.lookup.figures_for_question`."""
        return figures_for_question(self.engine, self.current.tokenizer, question, limit)

    def documents(self) -> list[Document]:
        """Return the stored documents, ordered by id."""
        with Session(self.engine) as session:
            return list(session.exec(select(Document).order_by(Document.id)).all())

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the reload lock, or fail at once if another change is running."""
        if not self._reload_lock.acquire(blocking=False):
            raise ReloadBusyError("已有一次重新加载正在进行，请稍后再试")
        try:
            yield
        finally:
            self._reload_lock.release()

    def _find_document(self, name: str) -> str:
        wanted = name.strip()
        documents = self.documents()
        for document in documents:
            if wanted in (document.id, PurePosixPath(document.id).name, document.title):
                return document.id
        partial = [d.id for d in documents if wanted and (wanted in d.id or wanted in d.title)]
        if len(partial) == 1:
            return partial[0]
        if partial:
            raise DocumentNotFound(f"有 {len(partial)} 份文档与“{wanted}”相符，请写出完整文件名", partial)
        raise DocumentNotFound(f"没有名为“{wanted}”的文档", [])

    def _sync(
        self, tokenizer: Tokenizer, progress: Progress | None, preparsed: ParsedDocument | None = None
    ) -> ReloadReport:
        report = sync_corpus(self.engine, self.settings, tokenizer, progress, preparsed)
        try:
            index = load_search_index(self.engine, tokenizer, self.settings.ranking)
        except (ValueError, MemoryError) as error:
            raise ReloadError(f"无法建立检索索引：{error}") from error
        self._tokenizer, self._current = tokenizer, index  # the swap
        return report

    def _load_lexicon(self) -> Lexicon:
        try:
            return Lexicon.load(self.settings.lexicon)
        except LexiconError as error:
            raise ReloadError(f"词表有误，未作更改：{error}") from error

    def _tokenizer_for(self, lexicon: Lexicon) -> Tokenizer:
        if self._tokenizer is not None and self._tokenizer.fingerprint == lexicon.fingerprint:
            return self._tokenizer
        return Tokenizer(lexicon)
