"""Chinese tokenization with jieba, a user dictionary, stopwords and synonyms.

Passages and questions go through the same steps: the index form of the text
(simplified, half-width, lower-case), jieba's search-engine mode (each word plus the
dictionary words inside it, so 加装电梯 gives 加装, 电梯, 加装电梯), then filtering:
no punctuation, no stopwords, no redaction marks (XX, xx, *, ***). Numbers stay whole
(6.28, 12345, 95%).

Questions add synonyms: a question term is a :class:`QueryTerm`, the word and its
alternatives, so ranking can count 保租房 and 保障性租赁住房 as one concept.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import marshal
import os
import re
import sys
import tempfile
import threading
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from index.text.lexicon import Lexicon
from index.text.normalize import index_form


def _import_jieba():
    """Import jieba without pkg_resources. jieba 0.42 imports it only to open files in
    its own package (``jieba/_compat.py``), and that import reads the metadata of every
    installed distribution: 0.12 s of a 2.4 s cold start (``python -X importtime``).
    With the import failing, jieba opens the same files by path, its own fallback; the
    module is visible again right after."""
    hidden = sys.modules.get("pkg_resources")
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import fails
    try:
        import jieba
        from jieba import finalseg
    finally:
        if hidden is None:
            del sys.modules["pkg_resources"]
        else:
            sys.modules["pkg_resources"] = hidden
    return jieba, finalseg


jieba, finalseg = _import_jieba()

logger = logging.getLogger(__name__)

# Redaction marks: X, XX, xxx, *, ***, alone or with a percent sign (XX%).
_REDACTION = re.compile(r"^(?:[x]+|\*+)%?$")
_NUMBER = re.compile(r"\d+(?:\.\d+)?%?")
_WORD_CHAR = re.compile(r"[\w\u4e00-\u9fff]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
# jieba's re_eng, in runs of two or more.
_LETTERS_AND_DIGITS = re.compile(r"[a-zA-Z0-9]{2,}")
MAX_QUERY_TERMS = 64
# Tokenizers kept per process, by lexicon fingerprint: building one loads jieba's
# dictionary (about half a second), and a reload or a second index in the same process
# (tests, the benchmark) would otherwise pay it again for the same word lists.
CACHED_TOKENIZERS = 2
# Texts up to this many characters (words, not passages) have their tokens cached, up
# to CACHED_WORDS of them per tokenizer.
CACHED_WORD_LENGTH = 12
CACHED_WORDS = 50_000
T = TypeVar("T")
_cache: dict[str, Tokenizer] = {}
_cache_lock = threading.Lock()

# jieba announces every dictionary load on stderr at INFO; our CLI keeps stderr for
# messages meant for the operator.
jieba.setLogLevel(logging.WARNING)


@dataclass(frozen=True)
class QueryTerm:
    """One concept of a question.

    Attributes:
        word: the token as segmented from the question.
        whole: the word and its synonyms.
        alternatives: tokens that count as this concept in a passage: ``whole`` and
            the sub-words of each; the word comes first.
    """

    word: str
    whole: tuple[str, ...]
    alternatives: tuple[str, ...]


@dataclass(frozen=True)
class GeneralDictionary:
    """jieba's default dictionary (about 350,000 entries from general-language text).

    Attributes:
        tags: word -> part-of-speech tag (the tags ``jieba.posseg`` uses).
        frequencies: word -> its count in jieba's general corpus.
        total: the sum of the counts.
    """

    tags: dict[str, str]
    frequencies: dict[str, int]
    total: int


def dictionary_tags() -> dict[str, str]:
    """Word -> part-of-speech tag of jieba's default dictionary: word classes without
    running its tagger (:mod:`index.figures.indicator`), place names
    (:mod:`index.text.places`). See :func:`general_dictionary`."""
    return general_dictionary().tags


@functools.cache
def general_dictionary() -> GeneralDictionary:
    """Return jieba's default dictionary as read from its ``dict.txt`` (once per process).

    Reading the text takes about half a second, so it is cached (see
    :func:`cached_from_dictionary`) as three newline-joined strings, 4x faster to load
    than a marshalled dict.
    """
    words, word_tags, counts = cached_from_dictionary("dictionary", 2, _read_general_dictionary)
    words = words.split("\n")
    tags = dict(zip(words, word_tags.split("\n"), strict=True))
    frequencies = dict(zip(words, map(int, counts.split("\n")), strict=True))
    return GeneralDictionary(tags, frequencies, sum(frequencies.values()))


def _read_general_dictionary() -> tuple[str, str, str]:
    tags, frequencies = {}, {}
    with _dictionary_file().open("rb") as stream:
        for raw in stream:
            parts = raw.decode("utf-8").split()
            if len(parts) >= 3:
                tags[parts[0]] = parts[2]
                frequencies[parts[0]] = int(parts[1])
    return "\n".join(tags), "\n".join(tags.values()), "\n".join(map(str, frequencies.values()))


def cached_from_dictionary(name: str, version: int | str, build: Callable[[], T]) -> T:
    """Return ``build()`` (a value :mod:`marshal` can write), computed from jieba's
    default dictionary, from a cache in the temporary folder when one is there.

    The cache is keyed by the dictionary file's path, size and modification time,
    ``name`` and ``version`` (change it when ``build`` changes: a number, or the rules
    ``build`` applies); a cache that cannot be read or written is ignored, and one is
    written whole or not at all.
    """
    source = _dictionary_file()
    stat = source.stat()
    key = hashlib.sha1(f"{source}|{stat.st_size}|{stat.st_mtime_ns}|{version}".encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"bureau-bot-{name}.{key}.cache"
    try:
        with cache.open("rb") as stream:
            return marshal.load(stream)
    except (OSError, EOFError, ValueError, TypeError):
        pass  # absent or unreadable: build it
    built = build()
    try:
        partial = cache.with_name(f"{cache.name}.{os.getpid()}")
        with partial.open("wb") as stream:
            marshal.dump(built, stream)
        os.replace(partial, cache)  # whole or not at all: a reader never sees half a file
    except (OSError, ValueError):
        logger.debug("could not cache %s in %s", name, cache)
    return built


def prefix_dictionary() -> tuple[dict[str, int], int]:
    """Return jieba's prefix dictionary of its default dictionary, as its own
    ``initialize`` builds it (``jieba.Tokenizer.gen_pfdict``: each word with its count,
    each prefix of a word with 0), and the total count; a new dict on every call (a
    tokenizer adds its user words to it).

    jieba caches the same dict in the temporary folder, marshalled whole: loading that
    took 1.0-1.2 s of a 2.4 s cold start here. Cached instead (see
    :func:`cached_from_dictionary`) as one newline-joined string of the words and an
    int64 array of the counts, the 498k entries load in 0.22-0.25 s.
    """

    def build() -> tuple[str, bytes, int]:
        frequencies, total = jieba.Tokenizer.gen_pfdict(jieba.Tokenizer().get_dict_file())
        return "\n".join(frequencies), array("q", frequencies.values()).tobytes(), total

    words, counts, total = cached_from_dictionary("prefix-dictionary", 1, build)
    return dict(zip(words.split("\n"), array("q", counts), strict=True)), total


def _dictionary_file() -> Path:
    return Path(jieba.__file__).with_name("dict.txt")


def cjk_bigrams(text: str) -> list[str]:
    """Return the overlapping pairs of Chinese characters of ``text`` (index form), a
    character standing alone as itself: 加装电梯 -> 加装, 装电, 电梯.

    The second field of the index, as Lucene's CJKBigramFilter makes it: a question
    word the dictionary cuts differently from the report (or never saw) still meets
    the passage through its characters.
    """
    grams: list[str] = []
    for run in _CJK_RUN.findall(index_form(text)):
        grams.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    return grams


class Tokenizer:
    """Segment passages and questions into tokens (jieba + lexicon).

    Each instance has its own jieba dictionary (``jieba.Tokenizer``), so a reload with
    an edited user dictionary never changes the tokenizer a running search uses.
    Building one takes about half a second (jieba's 350k-word dictionary is loaded).
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._jieba = jieba.Tokenizer()
        # What jieba's initialize() sets, from a cache four times faster to load.
        self._jieba.FREQ, self._jieba.total = prefix_dictionary()
        self._jieba.initialized = True
        # jieba's counts before the lexicon changes them are the general-language
        # frequencies of :meth:`general_frequency`, with no second read of its dictionary.
        self._general_total = self._jieba.total
        added = [word for word, _ in lexicon.user_words] + [w for group in lexicon.synonym_groups for w in group]
        self._general_counts = {word: self._jieba.FREQ.get(word, 0) for word in added}
        for word, frequency in lexicon.user_words:
            self._jieba.add_word(word, frequency, tag="nz")
        for group in lexicon.synonym_groups:
            for word in group:
                self._jieba.add_word(word, tag="nz")
        self._synonyms = lexicon.synonyms_of()
        # The tokens of single words (a question's words and their synonyms), computed
        # once per tokenizer: each is a jieba cut, and a question looks up dozens.
        self._word_tokens: dict[tuple[str, bool], tuple[str, ...]] = {}
        self._user_terms = frozenset(word for word, _ in lexicon.user_words)
        self._field_terms = frozenset(
            [word for word, _ in lexicon.user_words] + [w for group in lexicon.synonym_groups for w in group]
        )
        # jieba's search mode adds only 2- and 3-character dictionary words inside a
        # word; a field term also yields the longer field terms inside it, so that
        # 老旧小区 is a token of 老旧小区改造 and 租赁住房 of 保障性租赁住房.
        self._inner_terms = {
            term: tuple(inner for inner in self._field_terms if len(inner) > 3 and inner != term and inner in term)
            for term in self._field_terms
            if len(term) > 4
        }

    @classmethod
    def for_lexicon(cls, lexicon: Lexicon) -> Tokenizer:
        """Return a tokenizer for ``lexicon``: one already built in this process for the
        same fingerprint, else a new one (the oldest cached one is dropped)."""
        with _cache_lock:
            cached = _cache.get(lexicon.fingerprint)
            if cached is None:
                cached = cls(lexicon)
                _cache[lexicon.fingerprint] = cached
                while len(_cache) > CACHED_TOKENIZERS:
                    _cache.pop(next(iter(_cache)))
            return cached

    def general_frequency(self, word: str) -> tuple[int, int]:
        """Return (count of ``word``, total count) in jieba's general-language corpus
        (the counts of its default dictionary; 0 for a word it does not hold), as before
        the user dictionary and synonyms were added."""
        count = self._general_counts.get(word)
        if count is None:
            count = self._jieba.FREQ.get(word, 0)
        return count, self._general_total

    @property
    def user_terms(self) -> frozenset[str]:
        """The terms of the user dictionary (the field's own terms)."""
        return self._user_terms

    @property
    def field_terms(self) -> frozenset[str]:
        """The terms of the field: user dictionary words and synonym table words."""
        return self._field_terms

    def is_field_term(self, word: str) -> bool:
        """Whether ``word`` is a term of the field (user dictionary or synonym table)."""
        return word in self._field_terms

    @property
    def segmenter(self) -> jieba.Tokenizer:
        """The jieba tokenizer holding the user dictionary."""
        return self._jieba

    @property
    def fingerprint(self) -> str:
        """The lexicon fingerprint the tokens of this tokenizer depend on."""
        return self.lexicon.fingerprint

    def tokens(self, text: str, inner_terms: bool = True) -> list[str]:
        """Return the tokens of ``text`` in order, sub-words before their word.

        Args:
            text: display or index text of any length.
            inner_terms: also yield the longer field terms inside a field term
                (老旧小区 in 老旧小区改造). Passages and ledger entries get them, so a
                question naming the shorter term finds the longer one; a question's
                own expansions leave them out, or a synonym such as 公共租赁住房
                would bring 租赁住房 and outweigh the rest of the question.
        """
        if len(text) > CACHED_WORD_LENGTH:
            return [token for token, _ in self.token_offsets(text, inner_terms)]
        key = (text, inner_terms)
        cached = self._word_tokens.get(key)
        if cached is None:
            if len(self._word_tokens) >= CACHED_WORDS:
                self._word_tokens.clear()  # a bound, not an LRU: questions reuse few words
            cached = self._word_tokens[key] = tuple(token for token, _ in self.token_offsets(text, inner_terms))
        return list(cached)

    def token_offsets(self, text: str, inner_terms: bool = True) -> list[tuple[str, int]]:
        """Return (token, offset in ``text``) pairs, as :meth:`tokens` (a token found
        inside a word has the word's offset)."""
        folded = index_form(text).lower()
        tokens = []
        for token, start, _ in self._jieba.tokenize(folded, mode="search"):
            if self._keep(token):
                tokens.append((token, start))
                if inner_terms:
                    tokens.extend((inner, start) for inner in self._inner_terms.get(token, ()))
                # A dictionary word holding a figure (12345热线) also yields the figure.
                if token[0].isdigit() and not _NUMBER.fullmatch(token):
                    tokens.extend((number, start) for number in _NUMBER.findall(token))
        return tokens

    def question_words(self, question: str) -> list[str]:
        """Return the words of a question in order (jieba precise mode over its index
        form, lower-cased), stopwords and punctuation included."""
        return self.question_cut(question)[0]

    def question_cut(self, question: str, folded: str | None = None) -> tuple[list[str], frozenset[int]]:
        """Return the words of a question (:meth:`question_words`) and its dictionary
        spans: the offsets, in its lower-cased index form, inside the words of two or
        more characters that the same cut makes without jieba's HMM (words the
        dictionary knows; the HMM only guesses new ones).

        Equal to ``jieba.Tokenizer.cut(text)`` and the words of ``cut(text, HMM=False)``
        (tested over every line of the seed reports), but with one DAG and route per
        block for both: each jieba call builds its own, and the two calls cost a
        question 0.08 ms against 0.05 ms for one pass (measured on the benchmark
        questions). The loop is jieba 0.42's ``cut``, ``__cut_DAG`` and
        ``__cut_DAG_NO_HMM`` over its public ``get_DAG``, ``calc`` and ``finalseg``.
        ``folded`` is ``index_form(question)`` when the caller has it already.
        """
        text = (index_form(question) if folded is None else folded).lower()
        segmenter, frequencies = self._jieba, self._jieba.FREQ
        words: list[str] = []
        spans: set[int] = set()
        offset = 0
        for block in jieba.re_han_default.split(text):
            if not block:
                continue
            if not jieba.re_han_default.match(block):
                for part in jieba.re_skip_default.split(block):
                    words.extend([part] if jieba.re_skip_default.match(part) else part)
                offset += len(block)
                continue
            route: dict[int, tuple[float, int]] = {}
            segmenter.calc(block, segmenter.get_DAG(block), route)
            single = ""  # a run of one-character steps of the route
            position = 0
            while position <= len(block):
                end = route[position][1] + 1 if position < len(block) else position + 1
                if end - position == 1 and position < len(block):
                    single += block[position]
                    position = end
                    continue
                if single:
                    if len(single) == 1:
                        words.append(single)
                    elif not frequencies.get(single):
                        words.extend(finalseg.cut(single))  # the HMM's guess at new words
                    else:
                        words.extend(single)
                    # Without the HMM, letters and digits in a row make one word.
                    first = offset + position - len(single)
                    for run in _LETTERS_AND_DIGITS.finditer(single):
                        spans.update(range(first + run.start(), first + run.end()))
                    single = ""
                if position < len(block):
                    words.append(block[position:end])
                    spans.update(range(offset + position, offset + end))
                position = end
            offset += len(block)
        return words, frozenset(spans)

    def query_terms(self, question: str, words: Sequence[str] | None = None) -> list[QueryTerm]:
        """Return the distinct concepts of a question, at most ``MAX_QUERY_TERMS``.

        Every kept word of the question (jieba precise mode; ``words`` when
        :meth:`question_words` gave them already) becomes a term whose alternatives are
        its sub-words and its synonyms' tokens.
        """
        terms: dict[str, QueryTerm] = {}
        for word in self.question_words(question) if words is None else words:
            if not self._keep(word) or word in terms:
                continue
            whole = (word, *self._synonyms.get(word, ()))
            alternatives = dict.fromkeys(whole)
            for form in whole:
                alternatives.update(dict.fromkeys(self.tokens(form, inner_terms=False)))
            terms[word] = QueryTerm(word, whole, tuple(alternatives))
            if len(terms) == MAX_QUERY_TERMS:
                break
        return list(terms.values())

    def _keep(self, token: str) -> bool:
        token = token.strip()
        return bool(
            token and _WORD_CHAR.search(token) and token not in self.lexicon.stopwords and not _REDACTION.match(token)
        )
