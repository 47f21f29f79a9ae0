"""The one door between the front ends (:mod:`bot`) and the index.

Front ends import from here and nowhere else in :mod:`index` (a test walks their
imports). What passes through is small and frozen:

- :class:`Library`: the served index (parse a question, search, figures, /target
  lookups, a passage's context, documents, reload);
- :class:`CorpusAdmin`: add or remove a report file, with rollback;
- results: :class:`ParsedQuestion`, :class:`Hit` (a passage with highlight spans),
  :class:`PassageView`, :class:`Figure`, :class:`FigurePair`,
  :class:`DocumentSummary`, :class:`ReloadReport`, :class:`CorpusChange`;
- settings the front end builds from its configuration, and :func:`open_database`
  for a front end's own tables in a database of its own;
- one error family, :class:`IndexFailure` and its subclasses.
"""

from __future__ import annotations

from pathlib import Path

from index.corpus_admin import CorpusAdmin, CorpusChange
from index.errors import (
    DocumentNotFound,
    DocumentReadError,
    DocumentRejected,
    IndexFailure,
    ReloadBusyError,
    ReloadError,
    StoreError,
)
from index.figures.model import FIGURE_KINDS, KIND_LABELS, Figure, FigurePair
from index.ingest.corpus_files import FailedDocument
from index.ingest.overrides import OVERRIDES_FILE
from index.ingest.passages import PassageLimits
from index.ingest.readers import SUPPORTED_SUFFIXES
from index.ingest.sync import Progress, ReloadReport
from index.library import Library, keep_freed_memory
from index.search.results import Answer, Hit, PassageView
from index.settings import BM25_VARIANTS, DEFAULT_MAX_FILE_BYTES, MEGABYTE, IndexSettings, RankingSettings
from index.store.engine import open_database
from index.store.models import DocumentSummary
from index.text.lexicon import LexiconPaths
from index.text.normalize import index_form
from index.text.question import ParsedQuestion, TargetQuery, parse_target_query

__all__ = [
    "BM25_VARIANTS",
    "DEFAULT_MAX_FILE_BYTES",
    "FIGURE_KINDS",
    "KIND_LABELS",
    "MEGABYTE",
    "OVERRIDES_FILE",
    "SUPPORTED_SUFFIXES",
    "Answer",
    "CorpusAdmin",
    "CorpusChange",
    "DocumentNotFound",
    "DocumentReadError",
    "DocumentRejected",
    "DocumentSummary",
    "FailedDocument",
    "Figure",
    "FigurePair",
    "Hit",
    "IndexFailure",
    "IndexSettings",
    "LexiconPaths",
    "Library",
    "ParsedQuestion",
    "PassageLimits",
    "PassageView",
    "Progress",
    "RankingSettings",
    "ReloadBusyError",
    "ReloadError",
    "ReloadReport",
    "StoreError",
    "TargetQuery",
    "evaluate_figures",
    "evaluate_retrieval",
    "index_form",
    "keep_freed_memory",
    "open_database",
    "parse_target_query",
]


def evaluate_retrieval(library: Library, questions: Path):
    """Score retrieval on a JSON Lines file of judged questions.

    Returns an :class:`index.devtools.evaluation.EvaluationReport` (recall@k, MRR@10,
    passage lengths, misses).

    Raises:
        OSError: the file cannot be read.
        ValueError: a line is not a judged question.
    """
    from index.devtools import evaluation  # a developer tool, kept off the serving path

    return evaluation.evaluate(library, evaluation.load_questions(questions))


def evaluate_figures(library: Library, labelled: Path):
    """Score figure extraction on a JSON Lines file of labelled sentences.

    Returns an :class:`index.devtools.evaluation.ExtractionReport`.

    Raises:
        OSError: the file cannot be read.
        ValueError: a line is not a labelled sentence.
    """
    from index.devtools import evaluation  # a developer tool, kept off the serving path

    return evaluation.evaluate_extraction(evaluation.load_labelled_figures(labelled), library)
