"""Shared fixtures: the bundled seed reports, temporary corpora and stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.library import LiveIndex
from index.settings import IndexSettings
from index.text.lexicon import Lexicon, LexiconPaths
from index.text.segmentation import Tokenizer

PROJECT_DIR = Path(__file__).resolve().parent.parent
SEED_DIR = PROJECT_DIR / "corpus"
DEV_SET = Path(__file__).resolve().parent / "data" / "dev.jsonl"
SEED_FILES = sorted(SEED_DIR.glob("*.txt"))


def seed_text(name_prefix: str) -> str:
    """Return the text of the seed report whose file name starts with ``name_prefix``."""
    (path,) = [p for p in SEED_FILES if p.name.startswith(name_prefix)]
    return path.read_text(encoding="utf-8")


def make_settings(tmp_path: Path, corpus_dir: Path, **overrides) -> IndexSettings:
    """Index settings over ``corpus_dir`` with a fresh SQLite file under ``tmp_path``."""
    return IndexSettings(corpus_dir=corpus_dir, storage_url=f"sqlite:///{tmp_path / 'store.db'}", **overrides)


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    """A tokenizer with the bundled lexicon (built once: jieba takes about a second)."""
    return Tokenizer(Lexicon.load(LexiconPaths()))


@pytest.fixture
def seed_corpus(tmp_path: Path) -> Path:
    """A writable copy of the five seed reports."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in SEED_FILES:
        shutil.copy(path, corpus / path.name)
    return corpus


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> LiveIndex:
    """A live index over the seed reports, opened once for read-only tests."""
    root = tmp_path_factory.mktemp("seed-index")
    live = LiveIndex(make_settings(root, SEED_DIR), notice=lambda message: None)
    live.open()
    return live
