"""Typed settings of the index: where the corpus and store are, and how to rank.

Built once by :func:`bot.config.load_config` from ``config.toml`` and passed in; nothing
in :mod:`index` reads configuration files or globals itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from index.ingest.passages import PassageLimits
from index.text.lexicon import LexiconPaths

BM25_VARIANTS = ("lucene", "okapi", "plus", "l")
MEGABYTE = 1_048_576
# Report files larger than this are refused (config.toml [corpus] max_file_mb).
DEFAULT_MAX_FILE_BYTES = 8 * MEGABYTE


@dataclass(frozen=True)
class RankingSettings:
    """BM25 variant and parameters.

    Attributes:
        variant: ``lucene`` (BM25 with Lucene's IDF, log(1 + (N - n + 0.5)/(n + 0.5)),
            never negative), ``okapi`` (rank-bm25 BM25Okapi, IDF floored at
            epsilon x mean IDF), ``plus`` (BM25+, Lv & Zhai 2011) or ``l`` (BM25L,
            Lv & Zhai 2011).
        k1: term-frequency saturation (Robertson & Zaragoza 2009), typically 0.5-2.
        b: length normalisation, 0 (none) to 1 (full).
        delta: the lower bound added per matched term by ``plus`` and ``l``.
        min_coverage: a passage is shown only if the question concepts it holds carry
            at least this share of the weight (IDF) of the concepts the corpus knows
            (0-1), and it holds the question's strongest concept or a second one;
            below it the bot says it found nothing rather than show an unrelated passage.
        min_evidence: a passage is shown only if the field-specific weight of the
            question concepts it holds (IDF x specificity, summed, in units of the
            IDF of a word no passage holds) reaches this: a passage that shares only
            everyday words (时间, 办, 周末) with the question is not an answer.
        bigram_weight: weight of the bigram field's BM25 score added to the word
            field's (0 turns the bigram field off).
        abbreviations, typos: expand question words the corpus never uses that
            abbreviate a corpus term, or are a one-character typo of one.
        place_boost, year_boost: a passage of the place or the year the question names
            scores this much more (0.5 = +50 %); 0 turns steering off.
        deduplicate: show near-identical passages once.
        key_concepts: a long question is searched by at most this many of its
            concepts, the rarest in the corpus first.
    """

    variant: str = "lucene"
    k1: float = 1.2
    b: float = 0.75
    delta: float = 1.0
    min_coverage: float = 0.35
    min_evidence: float = 0.2
    bigram_weight: float = 0.15
    abbreviations: bool = True
    typos: bool = True
    place_boost: float = 0.5
    year_boost: float = 0.3
    deduplicate: bool = True
    key_concepts: int = 8

    def __post_init__(self) -> None:
        if self.variant not in BM25_VARIANTS:
            raise ValueError(f"BM25 variant must be one of {', '.join(BM25_VARIANTS)}; got {self.variant!r}")
        if self.k1 < 0 or not 0 <= self.b <= 1 or self.delta < 0:
            raise ValueError(f"need k1 >= 0, 0 <= b <= 1, delta >= 0; got k1={self.k1}, b={self.b}, delta={self.delta}")
        if not 0 <= self.min_coverage <= 1:
            raise ValueError(f"min_coverage must be between 0 and 1; got {self.min_coverage}")
        if min(self.bigram_weight, self.place_boost, self.year_boost) < 0 or self.key_concepts < 1:
            raise ValueError("bigram_weight, place_boost and year_boost must be >= 0, key_concepts >= 1")


@dataclass(frozen=True)
class IndexSettings:
    """Everything :mod:`index` needs.

    Attributes:
        corpus_dir: folder of report files (.txt, .docx, .pdf), searched recursively;
            hidden files and folders (name starting with ".") are ignored.
        removed_dir: where removed and replaced report files are moved (never
            deleted); by default ``.removed`` inside the corpus folder.
        storage_url: SQLAlchemy URL of the store, e.g. ``sqlite:////srv/bot/bureau.db``.
        index_dir: folder of the search index files; None puts it beside a SQLite
            store (see :attr:`index_folder`).
        max_file_bytes: larger report files are refused.
        lexicon: the user dictionary, stopword and synonym files.
        ranking: BM25 settings.
        passage_limits: passage size bounds in characters.
    """

    corpus_dir: Path
    storage_url: str
    removed_dir: Path | None = None
    index_dir: Path | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    lexicon: LexiconPaths = field(default_factory=LexiconPaths)
    ranking: RankingSettings = field(default_factory=RankingSettings)
    passage_limits: PassageLimits = field(default_factory=PassageLimits)

    @property
    def index_folder(self) -> Path:
        """``index_dir``, or beside a SQLite store file (``data/bureau.db`` ->
        ``data/bureau.index``), or ``index`` beside the corpus folder."""
        if self.index_dir is not None:
            return self.index_dir
        url = make_url(self.storage_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database).with_suffix(".index")
        return self.corpus_dir.parent / "index"

    @property
    def removed_folder(self) -> Path:
        """``removed_dir``, or ``.removed`` inside the corpus folder."""
        return self.removed_dir or self.corpus_dir / ".removed"
