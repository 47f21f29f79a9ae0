"""Shared fixtures: the bundled seed reports, temporary corpora and stores.

The seed store is built once per test session; tests that change a corpus get a copy
of the folder and of the built store, so only the tests about building pay for it.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import docx
import pytest

from index.api import IndexSettings, Library
from index.text.lexicon import Lexicon, LexiconPaths
from index.text.segmentation import Tokenizer

PROJECT_DIR = Path(__file__).resolve().parent.parent
SEED_DIR = PROJECT_DIR / "corpus"
DATA_DIR = Path(__file__).resolve().parent / "data"
DEV_SET = DATA_DIR / "dev.jsonl"
SEED_FILES = sorted(SEED_DIR.glob("*.txt"))
STORE_NAME = "store.db"


def seed_text(name_prefix: str) -> str:
    """Return the text of the seed report whose file name starts with ``name_prefix``."""
    (path,) = [p for p in SEED_FILES if p.name.startswith(name_prefix)]
    return path.read_text(encoding="utf-8")


def make_settings(tmp_path: Path, corpus_dir: Path, **overrides) -> IndexSettings:
    """Index settings over ``corpus_dir`` with the SQLite store ``tmp_path/store.db``."""
    return IndexSettings(corpus_dir=corpus_dir, storage_url=f"sqlite:///{tmp_path / STORE_NAME}", **overrides)


def silent(message: str) -> None:
    """A notice sink for libraries opened in tests."""


def open_library(tmp_path: Path, corpus_dir: Path, **overrides) -> Library:
    """Open (building if needed) a library over ``corpus_dir`` with its store in ``tmp_path``."""
    library = Library(make_settings(tmp_path, corpus_dir, **overrides), notice=silent)
    library.open()
    return library


def write_corpus(tmp_path: Path, reports: dict[str, str]) -> Path:
    """Write ``reports`` (file name -> text, UTF-8) into a new ``tmp_path/corpus`` folder
    and return it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in reports.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return corpus


def copy_store(source: Path, destination: Path) -> None:
    """Copy a closed store (and, when present, its index files) from one folder to another."""
    for path in source.iterdir():
        if path.name.startswith(STORE_NAME):
            target = destination / path.name
            (shutil.copytree if path.is_dir() else shutil.copy)(path, target)


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    """A tokenizer with the bundled lexicon (built once: jieba takes about a second)."""
    return Tokenizer.for_lexicon(Lexicon.load(LexiconPaths()))


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``corpus/`` (the seed reports) and the store built from it, once."""
    root = tmp_path_factory.mktemp("seed-store")
    shutil.copytree(SEED_DIR, root / "corpus")
    open_library(root, root / "corpus").engine.dispose()  # closing checkpoints the WAL into store.db
    return root


@pytest.fixture(scope="session")
def seed_index(seed_store: Path) -> Library:
    """A library over the seed reports, opened once, for tests that only read."""
    return open_library(seed_store, seed_store / "corpus")


@pytest.fixture
def seed_corpus(tmp_path: Path, seed_store: Path) -> Path:
    """A writable copy of the seed reports whose store (``tmp_path/store.db``) is already built."""
    shutil.copytree(seed_store / "corpus", tmp_path / "corpus")
    copy_store(seed_store, tmp_path)
    return tmp_path / "corpus"


@pytest.fixture
def fresh_seed_corpus(tmp_path: Path) -> Path:
    """A writable copy of the seed reports with no store yet."""
    shutil.copytree(SEED_DIR, tmp_path / "corpus")
    return tmp_path / "corpus"


def docx_bytes(*paragraphs: str) -> bytes:
    """A real .docx (python-docx) holding ``paragraphs`` in order."""
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
