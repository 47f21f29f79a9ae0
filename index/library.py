"""The index being served: opened from the store, reloaded from the corpus, swapped
atomically.

A reload runs the whole sync and builds a complete new search index before replacing
the reference searches read, so searches during a reload use the previous index, and a
failed reload leaves it in place. Changes to the corpus folder itself (uploads,
removals) are made by :class:`index.corpus_admin.CorpusAdmin` under the same lock.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator

from sqlmodel import Session, func, select

from index.errors import ReloadBusyError, ReloadError
from index.figures.extract import EXTRACTOR_VERSION
from index.figures.lookup import figures_for_question, lookup_targets
from index.figures.model import Figure, FigurePair
from index.figures.pairing import pair_plans
from index.ingest.parse import ParsedDocument
from index.ingest.sync import EXTRACTOR_KEY, FINGERPRINT_KEY, Progress, ReloadReport, sync_corpus
from index.search.results import Hit, PassageView
from index.search.searcher import SearchIndex, load_search_index
from index.settings import IndexSettings
from index.store.engine import create_store_engine, reading
from index.store.models import Document, DocumentSummary, IndexState, Passage, Target
from index.text.lexicon import Lexicon, LexiconError
from index.text.question import ParsedQuestion, TargetQuery, parse_question
from index.text.segmentation import Tokenizer


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Library:
    """The served index: search, figures, documents, reload.

    Owns the store engine, the tokenizer and the current search index. Every method
    that reads the store raises :class:`StoreError` (one line naming the database and
    what to do) when the database cannot be read.

    Args:
        settings: index settings.
        notice: receives one-line progress notes for the operator (stderr by default).

    Raises:
        StoreError: the store cannot be opened or created.
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
        """The search index in use now.

        Raises:
            RuntimeError: :meth:`open` has not been called.
        """
        if self._current is None:
            raise RuntimeError("Library.open() must be called before searching")
        return self._current

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer of the index in use now."""
        return self.current.tokenizer

    def open(self) -> ReloadReport | None:
        """Load the stored index; build it from the corpus first if the store is empty,
        re-tokenise if the lexicon files changed since it was built, and re-extract
        figures if the extractor did.

        Returns:
            The report of the sync that was needed, or None if the store was used as is.

        Raises:
            ReloadError: the store is empty or stale and the sync failed.
        """
        tokenizer = self._tokenizer_for(self._load_lexicon())
        with reading(self.settings.storage_url), Session(self.engine) as session:
            documents = session.exec(select(func.count()).select_from(Document)).one()
            state = session.get(IndexState, FINGERPRINT_KEY)
            extractor = session.get(IndexState, EXTRACTOR_KEY)
        report = None
        if documents == 0:
            self._notice(f"索引为空，正在从语料目录建立索引：{self.settings.corpus_dir}")
            report = self.sync_locked(None)
        elif state is None or state.value != tokenizer.fingerprint:
            self._notice("词表已更改，正在按新词表重新分词")
            report = self.sync_locked(None)
        elif extractor is None or extractor.value != EXTRACTOR_VERSION:
            self._notice("数字提取规则已更新，正在重新提取数字")
            report = self.sync_locked(None)
        else:
            with reading(self.settings.storage_url):
                self._current = load_search_index(self.engine, tokenizer, self.settings.ranking)
            self._tokenizer = tokenizer
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
            ReloadBusyError: a reload or corpus change is already running.
            ReloadError: the reload failed; the previous index keeps serving.
        """
        with self.exclusive():
            return self.sync_locked(progress)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the reload lock for a change of the corpus, or fail at once.

        Raises:
            ReloadBusyError: another reload or change holds it.
        """
        if not self._reload_lock.acquire(blocking=False):
            raise ReloadBusyError("已有一次重新加载正在进行，请稍后再试")
        try:
            yield
        finally:
            self._reload_lock.release()

    def sync_locked(self, progress: Progress | None, preparsed: ParsedDocument | None = None) -> ReloadReport:
        """Sync and swap; the caller holds :meth:`exclusive` (or is opening the index).

        ``preparsed`` is an upload already parsed with :meth:`upload_tokenizer`.

        Raises:
            ReloadError: the sync or the new index failed; nothing was swapped.
        """
        tokenizer = self._tokenizer_for(self._load_lexicon())
        report = sync_corpus(self.engine, self.settings, tokenizer, progress, preparsed)
        try:
            with reading(self.settings.storage_url):
                index = load_search_index(self.engine, tokenizer, self.settings.ranking)
        except (ValueError, MemoryError) as error:
            raise ReloadError(f"无法建立检索索引：{error}") from error
        self._tokenizer, self._current = tokenizer, index  # the swap
        return report

    def upload_tokenizer(self) -> Tokenizer:
        """Return the tokenizer of the current word lists, to parse an upload with.

        Raises:
            ReloadError: a word list is broken.
        """
        return self._tokenizer_for(self._load_lexicon())

    def parse(self, question: str) -> ParsedQuestion:
        """Return the parsed form of a question (built once, used by search and figures)."""
        return parse_question(question, self.tokenizer)

    def search(self, question: str | ParsedQuestion, k: int = 5) -> list[Hit]:
        """Return up to ``k`` passages for a question, best first; empty when nothing
        in the reports is relevant (see :meth:`SearchIndex.search`).

        Raises:
            ValueError: ``k`` is not positive.
        """
        parsed = self.parse(question) if isinstance(question, str) else question
        return self.current.search(parsed, k)

    def figures(self, question: str | ParsedQuestion, limit: int = 3) -> list[Figure]:
        """Figures answering a question; see :func:`index.figures.lookup.figures_for_question`."""
        parsed = self.parse(question) if isinstance(question, str) else question
        with reading(self.settings.storage_url):
            return figures_for_question(self.engine, self.tokenizer, parsed, limit)

    def targets(self, keyword: str, *, year: int | None = None, kind: str | None = None) -> list[Figure]:
        """Figures matching every word of a keyword; see :func:`index.figures.lookup.lookup_targets`.

        Raises:
            ValueError: ``kind`` is not one of ``FIGURE_KINDS``.
        """
        with reading(self.settings.storage_url):
            return lookup_targets(self.engine, self.tokenizer, keyword, year=year, kind=kind)

    def target_query(self, query: TargetQuery) -> tuple[list[Figure], list[FigurePair]]:
        """Return the figures of a /target query and, without a kind filter, the plans
        paired with their achievements among those whose indicator names the keyword."""
        figures = self.targets(query.keyword, year=query.year, kind=query.kind) if query.keyword else []
        named = [f for f in figures if f.indicator_match] if query.kind is None else []
        return figures, pair_plans(named)

    def context(self, passage_id: int, before: int = 1, after: int = 1) -> list[PassageView]:
        """Return a passage with its neighbours in the same document, in document order;
        empty when the id is not indexed (any more)."""
        return self.current.neighbours(passage_id, before, after)

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

    def _load_lexicon(self) -> Lexicon:
        try:
            return Lexicon.load(self.settings.lexicon)
        except LexiconError as error:
            raise ReloadError(f"词表有误，未作更改：{error}") from error

    def _tokenizer_for(self, lexicon: Lexicon) -> Tokenizer:
        if self._tokenizer is not None and self._tokenizer.fingerprint == lexicon.fingerprint:
            return self._tokenizer
        return Tokenizer.for_lexicon(lexicon)
