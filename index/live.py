"""The index being served: opened from the store, reloaded from the corpus, swapped
atomically.

A reload runs the whole sync and builds a complete new :class:`SearchIndex` before
replacing the reference searches read, so searches during a reload use the previous
index, and a failed reload leaves it in place.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from sqlmodel import Session, func, select

from index.ingest import FINGERPRINT_KEY, Progress, ReloadError, ReloadReport, sync_corpus
from index.ledger import TargetRecord, figures_for_question, lookup_targets
from index.lexicon import Lexicon, LexiconError
from index.models import Document, IndexState
from index.search import SearchHit, SearchIndex, load_search_index
from index.settings import IndexSettings
from index.store import create_store_engine
from index.tokenize import Tokenizer


class ReloadBusyError(ReloadError):
    """Another reload is running; this one did not start."""


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
        or re-tokenise if the lexicon files changed since it was built.

        Returns:
            The report of the sync that was needed, or None if the store was used as is.

        Raises:
            ReloadError: the store is empty or stale and the sync failed.
        """
        tokenizer = self._tokenizer_for(self._load_lexicon())
        with Session(self.engine) as session:
            documents = session.exec(select(func.count()).select_from(Document)).one()
            state = session.get(IndexState, FINGERPRINT_KEY)
        report = None
        if documents == 0:
            self._notice(f"索引为空，正在从语料目录建立索引：{self.settings.corpus_dir}")
            report = self._sync(tokenizer, None)
        elif state is None or state.value != tokenizer.fingerprint:
            self._notice("词表已更改，正在按新词表重新分词")
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
        if not self._reload_lock.acquire(blocking=False):
            raise ReloadBusyError("已有一次重新加载正在进行，请稍后再试")
        try:
            tokenizer = self._tokenizer_for(self._load_lexicon())
            return self._sync(tokenizer, progress)
        finally:
            self._reload_lock.release()

    def search(self, question: str, k: int = 5) -> list[SearchHit]:
        """Search the current index; see :meth:`SearchIndex.search`."""
        return self.current.search(question, k)

    def targets(self, keyword: str, *, year: int | None = None, kind: str | None = None) -> list[TargetRecord]:
        """Look up stored targets; see :func:`index.ledger.lookup_targets`."""
        return lookup_targets(self.engine, self.current.tokenizer, keyword, year=year, kind=kind)

    def figures(self, question: str, limit: int = 3) -> list[TargetRecord]:
        """Targets answering a question; see :func:`index.ledger.figures_for_question`."""
        return figures_for_question(self.engine, self.current.tokenizer, question, limit)

    def documents(self) -> list[Document]:
        """Return the stored documents, ordered by id."""
        with Session(self.engine) as session:
            return list(session.exec(select(Document).order_by(Document.id)).all())

    def _sync(self, tokenizer: Tokenizer, progress: Progress | None) -> ReloadReport:
        report = sync_corpus(self.engine, self.settings, tokenizer, progress)
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
