"""What the corpus's own vocabulary says about a question word it never uses:
abbreviations it stands for, and typos of a term it holds.

Both tables are mined from the word field of the index (terms with their document
frequency), so they follow the reports loaded, not a list written for any question:

- :class:`AbbreviationTable`: Chinese shortens a compound by keeping one character of
  some of its words, in order (加装电梯 → 加梯, 老旧小区改造 → 旧改, 保障性租赁住房 →
  保租房). Every corpus term of two or more words yields such short forms; a short form
  the corpus never writes expands to its long terms, best fit first.
- :class:`TypoTable`: a question word the corpus never uses that differs from a corpus
  term in one character with the same pinyin syllable (加状电梯 → 加装电梯), or in any
  one character of a word of four or more characters, is read as that term.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from index.text.segmentation import general_dictionary

_CJK = re.compile(r"[\u4e00-\u9fff]+")
# Long terms considered, in characters; short forms made, in characters.
LONG_TERM_CHARS = (4, 10)
SHORT_FORM_CHARS = (2, 3)
MAX_COMPONENTS = 5
MIN_DOCUMENT_FREQUENCY = 2
EXPANSIONS_KEPT = 3
TYPO_CHARS = (3, 8)  # two-character words have too many same-sounding neighbours (失业/事业)


@dataclass(frozen=True)
class Expansion:
    """A corpus term a question word may stand for.

    Attributes:
        term: the corpus term (word-field token).
        fit: 0–1, how well the word matches it (1 for a typo of one character).
        frequency: how many passages hold the term.
    """

    term: str
    fit: float
    frequency: int


class AbbreviationTable:
    """Short forms of the corpus's compound terms (see the module docstring).

    A short form takes one character from each of two or more consecutive or skipped
    words of the term (jieba's default dictionary cuts the term into words), keeping
    their order; ``fit`` = share of the term's words it draws from, so 加梯 fits 加装电梯
    (2 of 2 words) better than 加装电梯设备 (2 of 3). Short forms that are themselves
    corpus terms are not abbreviations.

    Args:
        frequencies: corpus term -> passages holding it.
    """

    def __init__(self, frequencies: dict[str, int]) -> None:
        table: dict[str, list[Expansion]] = {}
        for term, frequency in frequencies.items():
            if frequency < MIN_DOCUMENT_FREQUENCY or not LONG_TERM_CHARS[0] <= len(term) <= LONG_TERM_CHARS[1]:
                continue
            if not _CJK.fullmatch(term):
                continue
            words = component_words(term)
            if not 2 <= len(words) <= MAX_COMPONENTS:
                continue
            for short, used in _short_forms(words):
                if short in frequencies:
                    continue
                table.setdefault(short, []).append(Expansion(term, used / len(words), frequency))
        # Best first by fit x log(1 + passages): 旧改 is 老旧小区改造 (2 of 3 words, in 30
        # passages) before 旧城改造 (2 of 2 words, in 3).
        self.table = {
            short: tuple(sorted(found, key=lambda e: (-e.fit * math.log1p(e.frequency), e.term))[:EXPANSIONS_KEPT])
            for short, found in table.items()
        }

    def expand(self, word: str) -> tuple[Expansion, ...]:
        """Return the corpus terms ``word`` abbreviates, best first (empty when none)."""
        return self.table.get(word, ())

    def __len__(self) -> int:
        return len(self.table)


def component_words(term: str) -> list[str]:
    """Return the words of a compound term, none longer than three characters
    (老旧小区改造 → 老旧, 小区, 改造; 保障性租赁住房 → 保障性, 租赁, 住房).

    jieba's best route (``Tokenizer.calc``: the most probable path through the word
    graph) over its general dictionary only, and words of four or more characters left
    out: those are the compounds themselves, and the field's own terms (user
    dictionary, synonyms) would keep 旧小区 or 老旧小区 whole. A lone character joins the
    word before it (燃气管+道 → 燃气管道), or the next one at the start.
    """
    general = general_dictionary()
    frequencies, log_total = general.frequencies, math.log(general.total)
    route: dict[int, tuple[float, int]] = {len(term): (0.0, 0)}
    for start in range(len(term) - 1, -1, -1):
        ends = [end for end in range(start + 1, min(len(term), start + 3)) if frequencies.get(term[start : end + 1])]
        route[start] = max(
            (math.log(frequencies.get(term[start : end + 1]) or 1) - log_total + route[end + 1][0], end)
            for end in [start, *ends]
        )
    pieces, start = [], 0
    while start < len(term):
        end = route[start][1] + 1
        pieces.append(term[start:end])
        start = end
    runs: list[tuple[str, bool]] = []  # (text, made of single characters): 老+旧 → 老旧
    for piece in pieces:
        if len(piece) == 1 and runs and runs[-1][1]:
            runs[-1] = (runs[-1][0] + piece, True)
        else:
            runs.append((piece, len(piece) == 1))
    words: list[str] = []  # a lone character joins its neighbour (燃气管+道 → 燃气管道)
    for run, _ in runs:
        if words and (len(run) == 1 or len(words[-1]) == 1):
            words[-1] += run
        else:
            words.append(run)
    return words


def _short_forms(words: list[str]) -> Iterable[tuple[str, int]]:
    """Yield (short form, words drawn from) for one character of 2+ of ``words`` in order.

    Only the first or last character of each word is drawn (加装 gives 加 or 装; 电梯 gives
    电 or 梯): that is how such abbreviations are made, and it keeps the table small.
    """
    for used in range(2, len(words) + 1):
        for chosen in itertools.combinations(range(len(words)), used):
            edges = [sorted({words[i][0], words[i][-1]}) for i in chosen]
            for picks in itertools.product(*edges):
                short = "".join(picks)
                if SHORT_FORM_CHARS[0] <= len(short) <= SHORT_FORM_CHARS[1]:
                    yield short, used


class TypoTable:
    """Corpus terms by one-character wildcard patterns, to correct a one-character typo.

    Args:
        frequencies: corpus term -> passages holding it.
    """

    def __init__(self, frequencies: dict[str, int]) -> None:
        self.frequencies = frequencies
        self.patterns: dict[str, list[str]] = {}
        # What a word's one-character change leaves intact: its first two or last two
        # characters (or, in three, its first and last). A word sharing none of these
        # with a term of its length can be no typo of one, so its patterns are not built.
        self.intact: set[tuple[int, str]] = set()
        for term, frequency in frequencies.items():
            if frequency < MIN_DOCUMENT_FREQUENCY or not TYPO_CHARS[0] <= len(term) <= TYPO_CHARS[1]:
                continue
            if not _CJK.fullmatch(term):
                continue
            for position in range(len(term)):
                self.patterns.setdefault(_wildcard(term, position), []).append(term)
            self.intact.update(_intact_parts(term))

    def may_correct(self, word: str) -> bool:
        """Whether some term of ``word``'s length keeps what a one-character change of
        ``word`` would (its first or last two characters; of three, also its first and
        last). False means :meth:`correct` finds nothing; this is a set lookup, where
        :meth:`correct` adds a pattern check and a search (a question's text has a
        dozen windows to try)."""
        return not self.intact.isdisjoint(_intact_parts(word))

    def correct(self, word: str, same_sound: bool = False) -> Expansion | None:
        """Return the corpus term ``word`` is a one-character typo of, or None.

        Words of three to eight characters only. The changed character must sound the
        same (same pinyin syllable, any tone), except in words of four or more
        characters, where the other three decide. Among
        several candidates, the one more passages hold wins. With ``same_sound`` the
        changed character must sound the same whatever the length.
        """
        if not _CJK.fullmatch(word) or not TYPO_CHARS[0] <= len(word) <= TYPO_CHARS[1]:
            return None
        if not self.may_correct(word):
            return None
        found = []
        for position in range(len(word)):
            for term in self.patterns.get(_wildcard(word, position), ()):
                from pypinyin import lazy_pinyin  # imported for the first candidate: 0.2-0.4 s

                sounds_alike = lazy_pinyin(term[position]) == lazy_pinyin(word[position])
                if term != word and (sounds_alike or (len(word) >= 4 and not same_sound)):
                    found.append((sounds_alike, self.frequencies[term], term))
        if not found:
            return None
        _, frequency, term = max(found)
        return Expansion(term, 1.0, frequency)


def _intact_parts(word: str) -> tuple[tuple[int, str], ...]:
    """Keys of what any one-character change of ``word`` keeps: the first two
    characters, the last two, and (three characters) the first with the last."""
    n = len(word)
    parts = ((n, word[:2] + "<"), (n, ">" + word[-2:]))
    return (*parts, (n, word[0] + "?" + word[-1])) if n == 3 else parts


def _wildcard(term: str, position: int) -> str:
    return f"{term[:position]}?{term[position + 1 :]}"
