"""The index being served: opened from the store and the index files, reloaded from the
corpus, swapped atomically.

A reload writes the store and the index's next generation, then opens that generation
and replaces the searcher questions read, so a search during a reload uses the previous
generation, and a failed reload leaves it in place. Reloads (and uploads and removals,
made by :class:`index.corpus_admin.CorpusAdmin`) hold one lock, shared between the
processes using the same index (the bot and ``bureau-bot reload`` in a terminal).

With ``isolate_reloads`` the parsing and writing run in a worker process, so that a
reload never holds up the process answering questions (the bot's case; it also lets
the reload use the other core).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from sqlmodel import Session, func, select

from index.errors import IndexFailure, ReloadBusyError, ReloadError
from index.figures.extract import EXTRACTOR_VERSION
from index.figures.lookup import FigureLookup
from index.figures.model import Figure, FigurePair
from index.figures.pairing import pair_plans
from index.ingest.parse import ParsedDocument
from index.ingest.sync import (
    EXTRACTOR_KEY,
    FINGERPRINT_KEY,
    Progress,
    ReloadReport,
    consistent_index,
    rebuild_index,
    sync_corpus,
)
from index.search.engine import SparseIndex, generation_on_disk, open_index
from index.search.results import Answer, Hit, PassageView
from index.search.searcher import Searcher
from index.search.vocabulary import Expansion
from index.settings import IndexSettings
from index.store.engine import create_store_engine, reading
from index.store.models import Document, DocumentSummary, IndexState, Passage, Target
from index.text.lexicon import Lexicon, LexiconError
from index.text.normalize import index_form
from index.text.question import ParsedQuestion, TargetQuery, parse_question
from index.text.segmentation import Tokenizer

TARGET_PAIRING_POOL = 200  # figures of a /target lookup looked at for plan/achieved pairs
LOCK_FILE = ".reload.lock"
OTHER_PROCESS_RELOADING = "另一个进程正在重新加载报告（例如命令行的 bureau-bot reload），请稍后再试"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Library:
    """The served index: search, figures, documents, reload.

    Owns the store engine, the tokenizer and the searcher of the generation in use.
    Every method that reads the store raises :class:`StoreError` (one line naming the
    database and what to do) when it cannot be read.

    Args:
        settings: index settings.
        notice: receives one-line progress notes for the operator (stderr by default).
        workers: processes that parse files during a reload (1: parse in this process).
        isolate_reloads: run reloads in a worker process (see the module docstring).

    Raises:
        StoreError: the store cannot be opened or created.
    """

    def __init__(
        self,
        settings: IndexSettings,
        notice: Callable[[str], None] = _stderr,
        workers: int = 1,
        isolate_reloads: bool = False,
    ) -> None:
        self.settings = settings
        self.engine = create_store_engine(settings.storage_url)
        self.workers = workers
        self._notice = notice
        self._reload_lock = threading.Lock()
        self._worker = _ReloadWorker() if isolate_reloads else None
        self._serving: tuple[Tokenizer, Searcher, FigureLookup] | None = None

    @property
    def serving(self) -> Searcher:
        """The searcher of the generation in use now.

        Raises:
            RuntimeError: :meth:`open` has not been called.
        """
        if self._serving is None:
            raise RuntimeError("Library.open() must be called before searching")
        return self._serving[1]

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer of the generation in use now."""
        return self.serving.tokenizer

    def open(self) -> ReloadReport | None:
        """Start serving: the stored index when it is current; otherwise build it from
        the corpus (an empty store), re-derive it (the word lists or the figure
        extractor changed), or rebuild the index files from the store (missing, of
        another engine version, or behind the store).

        Returns:
            The report of the sync that was needed, or None when none was.

        Raises:
            ReloadError: the store is empty or stale and the sync failed.
            StoreError: the store or the index files cannot be read.
        """
        lexicon = self._load_lexicon()
        tokenizer = Tokenizer.for_lexicon(lexicon)
        with reading(self.settings.storage_url), Session(self.engine) as session:
            documents = session.exec(select(func.count()).select_from(Document)).one()
            state = dict(session.exec(select(IndexState.key, IndexState.value)).all())
        report = None
        if documents == 0:
            self._notice(f"索引为空，正在从语料目录建立索引：{self.settings.corpus_dir}")
        elif state.get(FINGERPRINT_KEY) != tokenizer.fingerprint:
            self._notice("词表已更改，正在按新词表重新分词")
        elif state.get(EXTRACTOR_KEY) != EXTRACTOR_VERSION:
            self._notice("数字提取规则已更新，正在重新提取数字")
        else:
            index = consistent_index(self.settings, self.engine, tokenizer.fingerprint)
            if index is None:
                self._notice("检索索引文件缺失或已过期，正在从数据库重建")
                with self.exclusive():
                    index = rebuild_index(self.engine, self.settings, tokenizer.fingerprint)
            self._serve(index, tokenizer)
            return None
        with self.exclusive():
            report = self.sync_locked(None)
        self._notice(
            f"索引完成：{report.documents} 份文档，{report.passages} 个段落，"
            f"{len(report.failed)} 个文件失败，用时 {report.seconds:.1f} 秒"
        )
        return report

    def reload(self, progress: Progress | None = None) -> ReloadReport:
        """Sync the store with the corpus folder and swap in the new generation.

        Re-reads the lexicon files (a new tokenizer is built only if they changed).

        Raises:
            ReloadBusyError: a reload or corpus change is already running (here or in
                another process).
            ReloadError: the reload failed; the previous index keeps serving.
            StoreError: the store is damaged or cannot be opened.
        """
        with self.exclusive():
            return self.sync_locked(progress)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the reload lock (this process's, and the index folder's lock file that
        other processes take) for a change of the corpus, or fail at once.

        Raises:
            ReloadBusyError: another reload or change holds it.
        """
        if not self._reload_lock.acquire(blocking=False):
            raise ReloadBusyError("已有一次重新加载正在进行，请稍后再试")
        try:
            folder = self.settings.index_folder
            try:
                folder.mkdir(parents=True, exist_ok=True)
                handle = (folder / LOCK_FILE).open("a")
            except OSError as error:
                raise ReloadError(f"无法写入检索索引文件夹 {folder}：{error}") from error
            with handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError as error:
                    raise ReloadBusyError(OTHER_PROCESS_RELOADING) from error
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            self._reload_lock.release()

    def sync_locked(self, progress: Progress | None, preparsed: ParsedDocument | None = None) -> ReloadReport:
        """Sync and swap; the caller holds :meth:`exclusive`.

        ``preparsed`` is an upload already parsed with :meth:`upload_tokenizer`.

        Raises:
            ReloadError, StoreError: the sync or the new generation failed; nothing was swapped.
        """
        lexicon = self._load_lexicon()
        tokenizer = Tokenizer.for_lexicon(lexicon)
        current = self._serving[1].index if self._serving else None
        if self._worker is not None:
            report = self._worker.sync(self.settings, lexicon, progress, preparsed)
        else:
            report = sync_corpus(self.engine, self.settings, tokenizer, progress, preparsed, self.workers, current)
        if current is None or current.generation != generation_on_disk(self.settings.index_folder):
            index = open_index(self.settings.index_folder)
            if index is None:
                raise ReloadError("检索索引文件未能写入，仍在使用原来的索引")
            self._serve(index, tokenizer)
        return report

    def upload_tokenizer(self) -> Tokenizer:
        """Return the tokenizer of the current word lists, to parse an upload with.

        Raises:
            ReloadError: a word list is broken.
        """
        return Tokenizer.for_lexicon(self._load_lexicon())

    def close(self) -> None:
        """Stop the reload worker process, if one was started."""
        if self._worker is not None:
            self._worker.close()

    def parse(self, question: str) -> ParsedQuestion:
        """Return the parsed form of a question (built once, used by search and figures)."""
        return parse_question(question, self.tokenizer)

    def search(self, question: str | ParsedQuestion, k: int = 5) -> list[Hit]:
        """Return up to ``k`` passages for a question, best first; empty when nothing
        in the reports is relevant (see :meth:`Searcher.search`).

        Raises:
            ValueError: ``k`` is not positive.
        """
        return list(self.answer(question, k).hits)

    def answer(self, question: str | ParsedQuestion, k: int = 5) -> Answer:
        """Return up to ``k`` passages for a question with how it was read: words
        searched as an abbreviation or typo, relative years, places and years no report
        covers (see :meth:`Searcher.answer`).

        Raises:
            ValueError: ``k`` is not positive.
        """
        parsed = self.parse(question) if isinstance(question, str) else question
        with reading(self.settings.storage_url):
            return self.serving.answer(parsed, k)

    def figures(self, question: str | ParsedQuestion, limit: int = 3) -> list[Figure]:
        """Figures answering a question; see :meth:`FigureLookup.for_question`."""
        parsed = self.parse(question) if isinstance(question, str) else question
        with reading(self.settings.storage_url):
            return self._lookup.for_question(parsed, limit)

    def targets(
        self, keyword: str, *, year: int | None = None, kind: str | None = None, limit: int | None = None
    ) -> list[Figure]:
        """Figures matching every word of a keyword, best first; see :meth:`FigureLookup.by_keyword`.

        Raises:
            ValueError: ``kind`` is not one of ``FIGURE_KINDS``.
        """
        with reading(self.settings.storage_url):
            return self._lookup.by_keyword(keyword, year=year, kind=kind, limit=limit)[1]

    def target_query(self, query: TargetQuery, shown: int = 10) -> tuple[int, list[Figure], list[FigurePair]]:
        """Return what a /target query finds: how many figures, the best ``shown`` of
        them, and (without a kind filter) plans paired with their achievements among
        the best matches whose indicator names the keyword."""
        if not query.keyword:
            return 0, [], []
        with reading(self.settings.storage_url):
            total, figures = self._lookup.by_keyword(
                query.keyword, year=query.year, kind=query.kind, limit=max(shown, TARGET_PAIRING_POOL)
            )
        named = [f for f in figures if f.indicator_match] if query.kind is None else []
        return total, figures[:shown], pair_plans(named)

    def context(self, passage_id: int, before: int = 1, after: int = 1) -> list[PassageView]:
        """Return a passage with its neighbours in the same document, in document order;
        empty when the id is not in the store (any more)."""
        with reading(self.settings.storage_url):
            return self.serving.neighbours(passage_id, before, after)

    def abbreviations(self, words: Sequence[str] = ()) -> list[tuple[str, tuple[Expansion, ...]]]:
        """Return the abbreviation table mined from the corpus (see
        :class:`index.search.vocabulary.AbbreviationTable`): (short form, its corpus
        terms best first), sorted by short form; only ``words`` when given. A short form
        that ``synonyms.txt`` lists is searched by its synonyms instead."""
        table = self.serving.interpreter.abbreviations.table
        shown = sorted(table) if not words else [w for w in (index_form(w) for w in words) if w in table]
        return [(short, table[short]) for short in shown]

    def documents(self) -> list[DocumentSummary]:
        """Return the stored documents with their number of figures, ordered by id."""
        with reading(self.settings.storage_url), Session(self.engine) as session:
            counts = dict(session.exec(select(Target.doc_id, func.count()).group_by(Target.doc_id)).all())
            documents = session.exec(select(Document).order_by(Document.id)).all()
        return [DocumentSummary.of(document, counts.get(document.id, 0)) for document in documents]

    def document(self, doc_id: str) -> DocumentSummary | None:
        """Return one stored document, or None."""
        with reading(self.settings.storage_url), Session(self.engine) as session:
            document = session.get(Document, doc_id)
            if document is None:
                return None
            count = session.exec(select(func.count()).select_from(Target).where(Target.doc_id == doc_id)).one()
        return DocumentSummary.of(document, count)

    def document_with_content(self, content_hash: str) -> DocumentSummary | None:
        """Return a stored document whose file has this SHA-256, or None."""
        with reading(self.settings.storage_url), Session(self.engine) as session:
            document = session.exec(select(Document).where(Document.content_hash == content_hash)).first()
        return None if document is None else self.document(document.id)

    def passage_lengths(self) -> list[int]:
        """Return the length in characters of every stored passage."""
        with reading(self.settings.storage_url), Session(self.engine) as session:
            return [len(text) for text in session.exec(select(Passage.text)).all()]

    @property
    def _lookup(self) -> FigureLookup:
        if self._serving is None:
            raise RuntimeError("Library.open() must be called before looking up figures")
        return self._serving[2]

    def _serve(self, index: SparseIndex, tokenizer: Tokenizer) -> None:
        searcher = Searcher(index, tokenizer, self.settings.ranking, self.engine)
        lookup = FigureLookup(index, tokenizer, self.engine)
        if self._worker is not None:  # a long-running server: warm every lazy part before the swap
            searcher.interpreter.prepare()
            warm_up = parse_question("今年计划完成多少", tokenizer)
            searcher.answer(warm_up, 3)
            lookup.for_question(warm_up, 3)
        self._serving = (tokenizer, searcher, lookup)  # the swap

    def _load_lexicon(self) -> Lexicon:
        try:
            return Lexicon.load(self.settings.lexicon)
        except LexiconError as error:
            raise ReloadError(f"词表有误，未作更改：{error}") from error


class _ReloadWorker:
    """One worker process that runs syncs, started on first use and kept warm (its
    tokenizer loaded), reporting progress back through a queue."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._progress: multiprocessing.Queue | None = None

    def sync(
        self, settings: IndexSettings, lexicon: Lexicon, progress: Progress | None, preparsed: ParsedDocument | None
    ) -> ReloadReport:
        """Run :func:`sync_corpus` in the worker process and return its report.

        Raises:
            ReloadError, StoreError: as the sync does; ReloadError also when the worker died.
        """
        if self._pool is None:
            context = multiprocessing.get_context("spawn")  # the serving process runs threads: no fork
            self._progress = context.Queue()
            self._pool = ProcessPoolExecutor(
                1, mp_context=context, initializer=_start_reload_worker, initargs=(self._progress,)
            )
        future = self._pool.submit(_sync_in_worker, settings, lexicon, preparsed)
        while True:
            try:
                message = self._progress.get(timeout=0.1)
            except queue.Empty:
                if future.done() and self._progress.empty():
                    break
                continue
            if progress is not None:
                progress(*message)
        try:
            return future.result()
        except BrokenProcessPool as error:
            self.close()
            raise ReloadError("重新加载的工作进程意外退出，仍在使用原来的索引") from error

    def close(self) -> None:
        """Stop the worker process."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


_worker_engines: dict = {}
_worker_progress: list = []


def _start_reload_worker(progress: multiprocessing.Queue) -> None:
    _worker_progress.append(progress)
    with contextlib.suppress(OSError):
        os.nice(10)  # answering questions comes first: the reload takes the CPU left over


def _sync_in_worker(settings: IndexSettings, lexicon: Lexicon, preparsed: ParsedDocument | None) -> ReloadReport:
    engine = _worker_engines.get(settings.storage_url)
    if engine is None:
        engine = _worker_engines[settings.storage_url] = create_store_engine(settings.storage_url)
    channel = _worker_progress[0]
    try:
        return sync_corpus(
            engine, settings, Tokenizer.for_lexicon(lexicon), lambda *m: channel.put(m), preparsed, workers=1
        )
    except IndexFailure as error:
        raise type(error)(str(error)) from None  # plain, so it crosses back to the serving process


# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory(mmap_threshold: int = 64 << 20, trim_threshold: int = 128 << 20) -> bool:
    """Ask glibc's allocator to serve arrays up to ``mmap_threshold`` bytes from its heap
    and keep up to ``trim_threshold`` bytes freed there, instead of mapping each large
    array afresh from the system and faulting its pages in on every question. A
    question at 200k passages makes several arrays of a few MB; with glibc's defaults a
    new serving process answers at p95 43-49 ms, with these 28-30 ms (the same search);
    its resident memory after 600 questions is about 550 MB instead of 440 MB (up to
    ``trim_threshold`` of freed memory is kept). Returns whether the
    allocator took the setting (False off glibc, where nothing changes)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
            libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
        )
    except (OSError, AttributeError):
        return False
