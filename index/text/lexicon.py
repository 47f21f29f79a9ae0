"""The admin-editable word lists: user dictionary, stopwords, synonyms.

Each is a UTF-8 text file, one entry a line, ``#`` starting a comment line. The
defaults ship in ``index/lexicon/``; ``config.toml`` ``[lexicon]`` may point elsewhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from index.errors import IndexFailure
from index.text.normalize import fold_width, to_simplified

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicon"
# Bumped whenever tokenization changes in code, so stored tokens are rebuilt on reload.
TOKENIZER_VERSION = "1"


class LexiconError(IndexFailure):
    """A lexicon file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class LexiconPaths:
    """Where the three word lists live."""

    user_dict: Path = LEXICON_DIR / "userdict.txt"
    stopwords: Path = LEXICON_DIR / "stopwords.txt"
    synonyms: Path = LEXICON_DIR / "synonyms.txt"


@dataclass(frozen=True)
class Lexicon:
    """Loaded word lists.

    Attributes:
        user_words: (word, frequency or None) pairs for jieba's dictionary.
        stopwords: words dropped from passages and questions.
        synonym_groups: each group's words stand for each other in a question.
        fingerprint: SHA-256 over everything that changes passage tokens (user
            dictionary, stopwords, synonym words, tokenizer version); stored tokens
            made under another fingerprint are stale.
    """

    user_words: tuple[tuple[str, int | None], ...]
    stopwords: frozenset[str]
    synonym_groups: tuple[tuple[str, ...], ...]
    fingerprint: str

    @classmethod
    def load(cls, paths: LexiconPaths) -> Lexicon:
        """Read the three files.

        Raises:
            LexiconError: a file cannot be read, is not UTF-8, or has a bad line.
        """
        user_words = tuple(_parse_user_word(paths.user_dict, n, line) for n, line in _lines(paths.user_dict))
        stopwords = frozenset(_normal(line) for _, line in _lines(paths.stopwords))
        groups = []
        for number, line in _lines(paths.synonyms):
            words = tuple(dict.fromkeys(_normal(w) for w in line.split()))
            if len(words) < 2:
                raise LexiconError(f"{paths.synonyms}:{number}: 同义词行至少需要两个词：{line}")
            groups.append(words)
        digest = hashlib.sha256(TOKENIZER_VERSION.encode())
        for path in (paths.user_dict, paths.stopwords, paths.synonyms):
            digest.update(path.read_bytes())
        return cls(user_words, stopwords, tuple(groups), digest.hexdigest())

    def synonyms_of(self) -> dict[str, tuple[str, ...]]:
        """Return a map from each synonym word to the other words of its group(s)."""
        table: dict[str, list[str]] = {}
        for group in self.synonym_groups:
            for word in group:
                others = table.setdefault(word, [])
                others.extend(w for w in group if w != word and w not in others)
        return {word: tuple(others) for word, others in table.items()}


def _normal(word: str) -> str:
    return fold_width(to_simplified(word.strip())).lower()


def _lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise LexiconError(f"无法读取词表 {path}：{error}") from error
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _parse_user_word(path: Path, number: int, line: str) -> tuple[str, int | None]:
    parts = line.split()
    if len(parts) > 3 or (len(parts) > 1 and not parts[1].isdigit()):
        raise LexiconError(f"{path}:{number}: 词典行格式应为“词 [词频]”：{line}")
    return _normal(parts[0]), int(parts[1]) if len(parts) > 1 else None
