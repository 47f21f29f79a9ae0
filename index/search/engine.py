"""The persisted sparse index: term-major postings in segments, loaded with mmap.

Layout of the index folder (beside the store, e.g. ``data/bureau.index/``), all plain
files a developer can open with numpy or a text editor:

- ``index.json``: the manifest (engine version, lexicon fingerprint, the store
  generation it reflects, the segments in use, per field: vocabulary size, live rows,
  total token length);
- ``vocab.<field>.txt``: one term a line; a term's id is its line number. Append-only,
  shared by all segments, so ids never change;
- ``seg-NNNNNN/``: immutable segments, written by reloads that add documents: per field
  ``<field>.indptr.npy`` (int64, one entry per term id known when it was built, plus
  one), ``<field>.rows.npy`` (int32, local row of each posting, ascending within a
  term), ``<field>.tf.npy`` (uint16 term frequency), ``<field>.lengths.npy`` (float32
  tokens per row); row metadata (``passage_id.npy``, ``figure_id.npy`` …),
  ``docs.json``, and each passage's display text and section as text columns
  (``passage_text.offsets.npy``, int64, and ``passage_text.data.npy``, its UTF-8
  bytes end to end), so an answer's passages are read from the index, not the store;
- ``gen-NNNNNN/``: what one generation adds to its segments: the rows deleted since
  they were built (``<segment>.<space>.deleted.npy``) and the live document
  frequency of every term (``df.<field>.npy``).

Two row spaces share this structure: passages (fields ``word`` and ``bigram``) and
figures (fields ``indicator`` and ``context``). Global row numbers are the segments'
rows one after the other.

Scores are not stored: like Lucene's ``BM25Similarity``, BM25 is computed at query time
from the stored term frequency and each row's length, so adding or removing a document
never rewrites a segment (a new segment plus a new generation's small files), and
changing k1 or b needs no rebuild. :func:`bm25_weights` holds the formulas; a test
checks them against rank-bm25, which defines the ranking. :class:`IndexWriter` makes
the next generation; :func:`open_index` opens the one in use.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.errors import StoreError
from index.text.normalize import to_simplified

ENGINE_VERSION = 2  # 2: passages' text, section, ordinal and simplified flag in the segments
MANIFEST = "index.json"
PASSAGE_FIELDS = ("word", "bigram")
FIGURE_FIELDS = ("indicator", "context")
FIELDS = PASSAGE_FIELDS + FIGURE_FIELDS
SPACE_OF = {"word": "passages", "bigram": "passages", "indicator": "figures", "context": "figures"}
# Merge all segments into one when there are more than this many, or when this share
# of their rows is deleted (the deleted rows still cost time at query time).
MAX_SEGMENTS = 8
MAX_DELETED_SHARE = 0.3
TF_MAX = np.iinfo(np.uint16).max


class Vocabulary:
    """Terms and their ids for one field; append-only.

    Args:
        terms: the terms in id order.
    """

    def __init__(self, terms: list[str]) -> None:
        self.terms = terms
        self.ids = {term: number for number, term in enumerate(terms)}

    def __len__(self) -> int:
        return len(self.terms)

    def get(self, term: str) -> int | None:
        """Return the id of ``term``, or None if the corpus never had it."""
        return self.ids.get(term)

    def add(self, term: str) -> int:
        """Return the id of ``term``, giving it the next id if it is new."""
        number = self.ids.get(term)
        if number is None:
            number = len(self.terms)
            self.terms.append(term)
            self.ids[term] = number
        return number

    def copy(self) -> Vocabulary:
        """Return an independent copy (a build must not change the vocabulary a search reads)."""
        return Vocabulary(list(self.terms))


@dataclass(frozen=True)
class Postings:
    """One field of one segment: term-major postings (CSR) and the length of each row.

    Attributes:
        indptr: int64, ``len == terms + 1``; postings of term t are ``[indptr[t], indptr[t+1])``.
        rows: int32 local row of each posting, ascending within a term.
        tf: uint16 term frequency of each posting.
        lengths: float32 number of tokens in each local row.
    """

    indptr: np.ndarray
    rows: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray

    @property
    def terms(self) -> int:
        """How many term ids this segment knows (those added after it have no postings here)."""
        return len(self.indptr) - 1

    def of(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (local rows, tf) of one term; empty arrays for a term unknown here."""
        if term_id >= self.terms:
            return _EMPTY_ROWS, _EMPTY_TF
        start, end = int(self.indptr[term_id]), int(self.indptr[term_id + 1])
        return self.rows[start:end], self.tf[start:end]

    def term_of_postings(self) -> np.ndarray:
        """Return the term id of every posting (int32, same order as ``rows``)."""
        return np.repeat(np.arange(self.terms, dtype=np.int32), np.diff(self.indptr))

    @classmethod
    def build(cls, token_ids: Sequence[Sequence[int]], terms: int) -> Postings:
        """Return the postings of rows given as token id lists, for a vocabulary of ``terms`` ids."""
        lengths = np.fromiter((len(ids) for ids in token_ids), dtype=np.float32, count=len(token_ids))
        flat = np.fromiter((t for ids in token_ids for t in ids), dtype=np.int64, count=int(lengths.sum()))
        row_of = np.repeat(np.arange(len(token_ids), dtype=np.int64), lengths.astype(np.int64))
        keys, counts = np.unique(flat * max(len(token_ids), 1) + row_of, return_counts=True)
        return cls.from_coo(keys // max(len(token_ids), 1), keys % max(len(token_ids), 1), counts, lengths, terms)

    @classmethod
    def from_coo(cls, term_ids, rows, tf, lengths: np.ndarray, terms: int) -> Postings:
        """Return postings from (term, row, tf) triples sorted by term, then row."""
        indptr = np.zeros(terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_ids, minlength=terms), out=indptr[1:])
        return cls(
            indptr,
            np.asarray(rows, dtype=np.int32),
            np.minimum(tf, TF_MAX).astype(np.uint16),
            np.asarray(lengths, dtype=np.float32),
        )


_EMPTY_ROWS = np.zeros(0, dtype=np.int32)
_EMPTY_TF = np.zeros(0, dtype=np.uint16)


@dataclass(frozen=True)
class TextColumn:
    """One string per row, stored as UTF-8 bytes end to end with their offsets.

    Attributes:
        offsets: int64, ``rows + 1``; row r is ``data[offsets[r]:offsets[r + 1]]``.
        data: uint8, the encoded strings.
    """

    offsets: np.ndarray
    data: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, row: int) -> str:
        """Return the string of local ``row``."""
        return self.data[int(self.offsets[row]) : int(self.offsets[row + 1])].tobytes().decode("utf-8")

    def take(self, rows: np.ndarray) -> TextColumn:
        """Return a column of these rows' strings, in this order."""
        rows = np.asarray(rows, dtype=np.int64)
        offsets = np.asarray(self.offsets)
        sizes = offsets[rows + 1] - offsets[rows]
        data = np.asarray(self.data)[concat_ranges(offsets[rows], sizes)]
        return TextColumn(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), data)

    @classmethod
    def build(cls, strings: Sequence[str]) -> TextColumn:
        """Return the column of ``strings``."""
        encoded = [text.encode("utf-8") for text in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(offsets, np.frombuffer(b"".join(encoded), dtype=np.uint8))

    @classmethod
    def concatenate(cls, columns: Sequence[TextColumn]) -> TextColumn:
        """Return the columns' rows one after the other."""
        if not columns:
            return cls.build([])
        starts = np.cumsum([0] + [int(c.offsets[-1]) for c in columns[:-1]])
        offsets = [np.asarray(c.offsets[:-1]) + start for c, start in zip(columns, starts, strict=True)]
        offsets.append(np.array([int(starts[-1]) + int(columns[-1].offsets[-1])]))
        return cls(np.concatenate(offsets).astype(np.int64), np.concatenate([np.asarray(c.data) for c in columns]))


@dataclass(frozen=True)
class RowsToIndex:
    """What a build adds: rows of both spaces with their tokens per field.

    Attributes:
        docs: the documents these rows belong to (ids).
        passage_id, passage_doc, passage_year, passage_ordinal, passage_simplified: per
            passage row: store id, index into ``docs``, the year it is about (0 when
            unknown), position in its document, whether OpenCC leaves its display
            text as it is (no traditional character to convert).
        passage_text, passage_section: per passage row: display text, stored section.
        figure_id, figure_passage, figure_kind, figure_year, figure_redacted,
            figure_unit: per figure row: store id, row of its passage in this build,
            kind code (``FIGURE_KINDS`` order), year (0 unknown), redacted, base unit.
        tokens: field -> one token list per row of its space.
    """

    docs: list[str]
    passage_id: list[int] = field(default_factory=list)
    passage_doc: list[int] = field(default_factory=list)
    passage_year: list[int] = field(default_factory=list)
    passage_ordinal: list[int] = field(default_factory=list)
    passage_simplified: list[bool] = field(default_factory=list)
    passage_text: list[str] = field(default_factory=list)
    passage_section: list[str] = field(default_factory=list)
    figure_id: list[int] = field(default_factory=list)
    figure_passage: list[int] = field(default_factory=list)
    figure_kind: list[int] = field(default_factory=list)
    figure_year: list[int] = field(default_factory=list)
    figure_redacted: list[bool] = field(default_factory=list)
    figure_unit: list[str] = field(default_factory=list)
    tokens: dict[str, list[list[str]]] = field(default_factory=lambda: {name: [] for name in FIELDS})


_TEXT_COLUMNS = ("passage_text", "passage_section")
_ROW_ARRAYS = {
    "passage_id": np.int64,
    "passage_doc": np.int32,
    "passage_year": np.int16,
    "passage_ordinal": np.int32,
    "passage_simplified": np.bool_,
    "figure_id": np.int64,
    "figure_passage": np.int32,
    "figure_kind": np.int8,
    "figure_year": np.int16,
    "figure_redacted": np.bool_,
}


@dataclass(frozen=True)
class Segment:
    """An immutable part of the index: rows of both spaces and their postings.

    Attributes:
        name: folder name (``seg-000003``).
        docs: document ids; ``arrays["passage_doc"]`` indexes this list.
        units: base units; ``arrays["figure_unit"]`` indexes this list.
        arrays: row metadata (see ``RowsToIndex``), numpy arrays.
        fields: field name -> :class:`Postings`.
        texts: ``passage_text`` and ``passage_section`` -> :class:`TextColumn`.
    """

    name: str
    docs: list[str]
    units: list[str]
    arrays: dict[str, np.ndarray]
    fields: dict[str, Postings]
    texts: dict[str, TextColumn]

    @property
    def passages(self) -> int:
        """Passage rows in this segment."""
        return len(self.arrays["passage_id"])

    @property
    def figures(self) -> int:
        """Figure rows in this segment."""
        return len(self.arrays["figure_id"])

    def rows(self, space: str) -> int:
        """Rows of ``space`` ("passages" or "figures")."""
        return self.passages if space == "passages" else self.figures

    def write(self, folder: Path) -> None:
        """Write the segment's files into ``folder/name`` (the folder must not exist)."""
        target = folder / self.name
        target.mkdir()
        for name, values in self.arrays.items():
            np.save(target / f"{name}.npy", values)
        for name, postings in self.fields.items():
            for part in ("indptr", "rows", "tf", "lengths"):
                np.save(target / f"{name}.{part}.npy", getattr(postings, part))
        for name, column in self.texts.items():
            np.save(target / f"{name}.offsets.npy", column.offsets)
            np.save(target / f"{name}.data.npy", column.data)
        (target / "docs.json").write_text(json.dumps(self.docs, ensure_ascii=False), encoding="utf-8")
        (target / "units.json").write_text(json.dumps(self.units, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, name: str) -> Segment:
        """Open a written segment; the large arrays are memory-mapped, not read."""
        source = folder / name
        arrays = {key: np.load(source / f"{key}.npy", mmap_mode="r") for key in _ROW_ARRAYS}
        arrays["figure_unit"] = np.load(source / "figure_unit.npy")
        parts = ("indptr", "rows", "tf", "lengths")
        fields = {
            name: Postings(*(np.load(source / f"{name}.{part}.npy", mmap_mode="r") for part in parts))
            for name in FIELDS
        }
        texts = {
            key: TextColumn(*(np.load(source / f"{key}.{part}.npy", mmap_mode="r") for part in ("offsets", "data")))
            for key in _TEXT_COLUMNS
        }
        docs = json.loads((source / "docs.json").read_text(encoding="utf-8"))
        units = json.loads((source / "units.json").read_text(encoding="utf-8"))
        return cls(name, docs, units, arrays, fields, texts)

    @classmethod
    def build(cls, name: str, rows: RowsToIndex, vocabularies: dict[str, Vocabulary]) -> Segment:
        """Return a segment of ``rows``; new terms are added to ``vocabularies``."""
        fields = {}
        for field_name in FIELDS:
            vocabulary = vocabularies[field_name]
            ids = [[vocabulary.add(token) for token in tokens] for tokens in rows.tokens[field_name]]
            fields[field_name] = Postings.build(ids, len(vocabulary))
        units = sorted(set(rows.figure_unit))
        unit_index = {unit: number for number, unit in enumerate(units)}
        arrays = {key: np.asarray(getattr(rows, key), dtype=kind) for key, kind in _ROW_ARRAYS.items()}
        arrays["figure_unit"] = np.asarray([unit_index[u] for u in rows.figure_unit], dtype=np.int16)
        texts = {key: TextColumn.build(getattr(rows, key)) for key in _TEXT_COLUMNS}
        return cls(name, list(rows.docs), units, arrays, fields, texts)


@dataclass
class FieldStats:
    """Live statistics of one field: rows, total tokens, document frequency per term id."""

    rows: int
    length: float
    df: np.ndarray

    @property
    def average_length(self) -> float:
        """Mean tokens per live row (1.0 for an empty field, to keep formulas finite)."""
        return self.length / self.rows if self.rows else 1.0


class SparseIndex:
    """An opened generation of the index: segments, deletions, vocabularies, statistics.

    Immutable once opened; :func:`write_generation` makes the next one.

    Attributes:
        folder: the index folder.
        manifest: the parsed ``index.json``.
        segments: in row order.
        vocabularies, stats: per field.
        passage_offsets, figure_offsets: the first global row of each segment.
        live: per space, bool per global row (False once deleted).
    """

    def __init__(
        self,
        folder: Path,
        manifest: dict,
        segments: list[Segment],
        vocabularies: dict[str, Vocabulary],
        stats: dict[str, FieldStats],
        deleted: dict[str, dict[str, np.ndarray]],
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.segments = segments
        self.vocabularies = vocabularies
        self.stats = stats
        self.deleted = deleted  # segment name -> space -> sorted local rows
        self.offsets = {space: _offsets(segments, space) for space in ("passages", "figures")}
        self.live = {space: self._live(space) for space in ("passages", "figures")}
        self._complete = {space: bool(live.all()) for space, live in self.live.items()}  # no row deleted
        self.lengths = {name: _concat([s.fields[name].lengths for s in segments], np.float32) for name in FIELDS}
        # Per field and segment: (indptr, rows, tf, first global row) as plain arrays over
        # the same memory (slicing a numpy.memmap costs ten times more).
        self._views = {
            name: [
                (
                    np.asarray(s.fields[name].indptr),
                    np.asarray(s.fields[name].rows),
                    np.asarray(s.fields[name].tf),
                    int(o),
                )
                for s, o in zip(segments, self.offsets[SPACE_OF[name]][:-1], strict=True)
            ]
            for name in FIELDS
        }
        # Text columns per segment as plain arrays too, for the same reason.
        self._texts = {
            key: [TextColumn(np.asarray(s.texts[key].offsets), np.asarray(s.texts[key].data)) for s in segments]
            for key in _TEXT_COLUMNS
        }

    def texts(self, key: str, rows: Sequence[int]) -> list[str]:
        """Return the strings of text column ``key`` (``passage_text``: display text,
        ``passage_section``: the stored section) for global passage rows."""
        offsets = self.offsets["passages"]
        segment_of = (np.searchsorted(offsets, rows, side="right") - 1).tolist()
        columns = self._texts[key]
        return [columns[s].get(row - int(offsets[s])) for row, s in zip(rows, segment_of, strict=True)]

    @property
    def generation(self) -> int:
        """The generation number of this opened index."""
        return self.manifest["generation"]

    @property
    def store_generation(self) -> int:
        """The store generation this index reflects."""
        return self.manifest["store_generation"]

    def rows(self, space: str) -> int:
        """Global rows of a space, deleted ones included."""
        return int(self.offsets[space][-1]) if self.segments else 0

    def array(self, name: str) -> np.ndarray:
        """Return a row metadata array over all segments (e.g. ``passage_id``)."""
        return _concat([s.arrays[name] for s in self.segments], _ROW_ARRAYS.get(name, np.int16))

    def postings(self, field_name: str, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (global rows, tf) of a term over all segments, deleted rows left out."""
        space = SPACE_OF[field_name]
        rows_parts, tf_parts = [], []
        for segment, offset in zip(self.segments, self.offsets[space][:-1], strict=True):
            rows, tf = segment.fields[field_name].of(term_id)
            if len(rows):
                rows_parts.append(rows.astype(np.int64) + int(offset))
                tf_parts.append(tf)
        if not rows_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows = np.concatenate(rows_parts)
        tf = np.concatenate(tf_parts).astype(np.float32)
        keep = self.live[space][rows]
        return (rows, tf) if keep.all() else (rows[keep], tf[keep])

    def gather(self, field_name: str, terms: Iterable[str]) -> Gathered:
        """Return the live postings of the distinct ``terms`` the field knows, grouped by
        term in the order given, with one concatenation for all of them (a question has
        20–40 tokens; a :meth:`postings` call each cost more than scoring them)."""
        return self.gather_fields([(field_name, terms)])[0]

    def gather_fields(self, requests: Sequence[tuple[str, Iterable[str]]]) -> tuple[Gathered, list[int]]:
        """Return the live postings of several fields' terms as one :class:`Gathered`
        (each field's distinct known terms in the order given, fields in the order
        asked), and where each field's terms start in it: ``starts[i]:starts[i + 1]``
        are the term numbers of ``requests[i]`` (``len(requests) + 1`` numbers).

        One concatenation and one restriction serve the word and bigram fields of a
        question: per field they cost 0.1 ms at 20,000 passages, a tenth of its ranking.

        Raises:
            ValueError: the fields are of different row spaces.
        """
        spaces = {SPACE_OF[name] for name, _ in requests}
        if len(spaces) > 1:
            raise ValueError(f"fields of different row spaces gathered together: {sorted(spaces)}")
        known, ids, starts = [], [], []
        row_parts, tf_parts, per_term = [], [], []
        shifts, sizes = [], []  # per part: its segment's first global row, its postings
        for field_name, terms in requests:
            starts.append(len(known))
            id_of = self.vocabularies[field_name].ids
            field_known = [t for t in dict.fromkeys(terms) if t in id_of]
            known += field_known
            field_ids = [id_of[t] for t in field_known]
            ids += field_ids
            if not field_ids:
                continue
            # Every term's postings bounds in each segment with two reads per segment (a
            # term newer than the segment gets its last bound twice: no postings).
            asked = np.array(field_ids, np.int64)
            spans = []
            for indptr, rows, tf, offset in self._views[field_name]:
                last = len(indptr) - 1
                if last < 1:
                    continue  # the segment's field holds no term
                lows = indptr[np.minimum(asked, last)].tolist()
                highs = indptr[np.minimum(asked + 1, last)].tolist()
                spans.append((lows, highs, rows, tf, offset))
            for number in range(len(field_ids)):
                found = 0
                for lows, highs, rows, tf, offset in spans:
                    start, end = lows[number], highs[number]
                    if end > start:
                        row_parts.append(rows[start:end])
                        tf_parts.append(tf[start:end])
                        shifts.append(offset)
                        sizes.append(end - start)
                        found += end - start
                per_term.append(found)
        starts.append(len(known))
        term_ids = np.array(ids, np.int64)
        if not row_parts:
            empty = np.zeros(0, np.int64)
            return Gathered(known, term_ids, empty, np.zeros(0), np.zeros(len(known) + 1, np.int64)), starts
        rows = np.concatenate(row_parts, dtype=np.int64)
        if any(shifts):  # local rows of later segments to global ones, in one pass
            rows += np.repeat(np.array(shifts, np.int64), sizes)
        tf = np.concatenate(tf_parts, dtype=np.float64)
        space = spaces.pop()
        keep = None if self._complete[space] else self.live[space][rows]
        if keep is not None and not keep.all():
            per_term = np.bincount(np.repeat(np.arange(len(known)), per_term)[keep], minlength=len(known)).tolist()
            rows, tf = rows[keep], tf[keep]
        # Summed in Python: np.cumsum over a list of 20-40 counts cost three times as much.
        bounds = np.array([0, *itertools.accumulate(per_term)], dtype=np.int64)
        return Gathered(known, term_ids, rows, tf, bounds), starts

    def term_id(self, field_name: str, term: str) -> int | None:
        """Return the id of a term in a field, or None when no row ever had it."""
        return self.vocabularies[field_name].get(term)

    def df(self, field_name: str, term: str) -> int:
        """Return how many live rows of the field hold ``term`` (0 when unknown)."""
        return self.dfs(field_name, [term])[0]

    def dfs(self, field_name: str, terms: Sequence[str]) -> list[int]:
        """Return :meth:`df` of each of ``terms``, with one read of the counts."""
        id_of, counts = self.vocabularies[field_name].ids, self.stats[field_name].df
        # -1: a term no row ever had, or only rows written after these counts
        numbers = [number if number < len(counts) else -1 for number in (id_of.get(t, -1) for t in terms)]
        read = iter(np.asarray(counts)[[number for number in numbers if number >= 0]].tolist())
        return [next(read) if number >= 0 else 0 for number in numbers]

    def document_rows(self, doc_ids: Iterable[str]) -> dict[str, dict[str, np.ndarray]]:
        """Return, per segment name and space, the local rows of these documents."""
        wanted = set(doc_ids)
        found: dict[str, dict[str, np.ndarray]] = {}
        for segment in self.segments:
            codes = [number for number, doc in enumerate(segment.docs) if doc in wanted]
            if not codes:
                continue
            passages = np.flatnonzero(np.isin(segment.arrays["passage_doc"], codes)).astype(np.int32)
            figures = np.flatnonzero(np.isin(segment.arrays["figure_passage"], passages)).astype(np.int32)
            found[segment.name] = {"passages": passages, "figures": figures}
        return found

    def _live(self, space: str) -> np.ndarray:
        live = np.ones(self.rows(space), dtype=bool)
        for segment, offset in zip(self.segments, self.offsets[space][:-1], strict=True):
            rows = self.deleted.get(segment.name, {}).get(space)
            if rows is not None and len(rows):
                live[np.asarray(rows, dtype=np.int64) + int(offset)] = False
        return live


def concat_ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Return the concatenation of ``arange(start, start + size)`` for each pair."""
    total = int(sizes.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - np.cumsum(sizes) + sizes, sizes)
    return shift + np.arange(total, dtype=np.int64)


@dataclass(frozen=True)
class Gathered:
    """The live postings of some terms of one field (or of several fields of one row
    space, their terms one after the other), grouped by term.

    Attributes:
        terms: the distinct terms the field knows, in the order asked.
        ids: their term ids (int64, same order).
        rows: global row of each posting (int64), ascending within a term.
        tf: term frequency of each posting (float64).
        bounds: int64, ``len(terms) + 1``: the postings of ``terms[i]`` are
            ``rows[bounds[i]:bounds[i + 1]]``.
    """

    terms: list[str]
    ids: np.ndarray
    rows: np.ndarray
    tf: np.ndarray
    bounds: np.ndarray

    def term_index(self) -> np.ndarray:
        """Return, for each posting, the index of its term in ``terms``."""
        return np.repeat(np.arange(len(self.terms)), np.diff(self.bounds))

    def mark(self, rows: np.ndarray, terms: set[str]) -> None:
        """Set ``rows[r]`` (bool per global row) for every row holding one of ``terms``."""
        self.mark_numbers(rows, [number for number, term in enumerate(self.terms) if term in terms])

    def mark_numbers(self, rows: np.ndarray, numbers: Collection[int | None]) -> None:
        """Set ``rows[r]`` for every row holding one of the terms numbered ``numbers``
        (positions in ``terms``; None is ignored)."""
        for number in numbers:
            if number is not None:
                rows[self.rows[self.bounds[number] : self.bounds[number + 1]]] = True

    def restricted(self, rows: np.ndarray) -> Gathered:
        """Return these postings with only the rows where ``rows`` (bool per global row)
        is set; every term stays, with no postings when none of its rows is kept."""
        keep = rows[self.rows]
        if keep.all():
            return self
        # Positions, not a mask: one pass finds them, each gather then reads only the
        # kept postings, and a term's bounds are a binary search among them (a cumulative
        # count of the mask and two masked copies took twice as long).
        kept = np.flatnonzero(keep)
        return Gathered(self.terms, self.ids, self.rows[kept], self.tf[kept], np.searchsorted(kept, self.bounds))


def _offsets(segments: Sequence[Segment], space: str) -> np.ndarray:
    counts = [segment.rows(space) for segment in segments]
    return np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]) if counts else np.zeros(1, dtype=np.int64)


def _concat(parts: list[np.ndarray], kind) -> np.ndarray:
    return np.concatenate([np.asarray(p) for p in parts]).astype(kind, copy=False) if parts else np.zeros(0, kind)


# Opening and writing generations


def generation_on_disk(folder: Path) -> int | None:
    """Return the generation the index folder's manifest names (the one in use), or
    None when there is no readable manifest."""
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["generation"]
    except (OSError, ValueError, KeyError):
        return None


def open_index(folder: Path) -> SparseIndex | None:
    """Open the newest generation in ``folder``; None when there is none or it is of
    another engine version.

    Raises:
        StoreError: the files are there but unreadable or inconsistent.
    """
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("engine") != ENGINE_VERSION:
            return None
        generation = folder / _generation_name(manifest["generation"])
        vocabularies = {
            name: Vocabulary(_read_terms(folder / manifest["vocab"][name], manifest["fields"][name]["terms"]))
            for name in FIELDS
        }
        stats = {
            name: FieldStats(
                manifest["fields"][name]["rows"],
                manifest["fields"][name]["length"],
                np.load(generation / f"df.{name}.npy", mmap_mode="r"),
            )
            for name in FIELDS
        }
        segments = [Segment.load(folder, name) for name in manifest["segments"]]
        deleted = {
            segment.name: {
                space: np.load(path) if (path := generation / f"{segment.name}.{space}.deleted.npy").exists()
                else np.zeros(0, np.int32)
                for space in ("passages", "figures")
            }
            for segment in segments
        }  # fmt: skip
    except (OSError, ValueError, KeyError) as error:
        raise StoreError(
            f"检索索引文件 {folder} 无法读取（{error}）；请删除该文件夹后运行 bureau-bot reload 重建"
        ) from error
    return SparseIndex(folder, manifest, segments, vocabularies, stats, deleted)


class IndexWriter:
    """Write the next generation, document by document, without changing the one in use.

    Rows of added documents are gathered into segments of about ``batch_rows``
    passages (memory stays bounded on a large reload); documents given to
    :meth:`remove` lose their rows in the segments they are in. :meth:`finish`
    writes the generation's files and returns its manifest; :func:`activate` then
    switches to it atomically, or :meth:`discard` removes what was written.

    Args:
        folder: the index folder.
        previous: the generation in use, or None to build from nothing (new term ids).
        lexicon: fingerprint of the word lists the tokens were made with.
        batch_rows: passages per new segment.

    Raises:
        OSError: the folder cannot be written.
    """

    def __init__(
        self,
        folder: Path,
        previous: SparseIndex | None,
        lexicon: str,
        batch_rows: int = 20_000,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.previous = previous
        self.lexicon = lexicon
        self.batch_rows = batch_rows
        self.number = (previous.generation if previous else _newest_generation(folder)) + 1
        self.vocabularies = {
            name: (previous.vocabularies[name].copy() if previous else Vocabulary([])) for name in FIELDS
        }
        self.segments = list(previous.segments) if previous else []
        self.deleted = {name: dict(spaces) for name, spaces in (previous.deleted.items() if previous else [])}
        self.stats = {
            name: FieldStats(s.rows, s.length, np.array(s.df, dtype=np.int64))
            for name, s in (previous.stats.items() if previous else [])
        } or {name: FieldStats(0, 0.0, np.zeros(0, np.int64)) for name in FIELDS}
        self.written: list[str] = []
        self._batch: RowsToIndex | None = None

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Delete the rows these documents have in the generation in use (rows added by
        this writer are not looked at: a document is removed before it is added again)."""
        if self.previous is None:
            return
        for segment_name, spaces in self.previous.document_rows(doc_ids).items():
            segment = next(s for s in self.segments if s.name == segment_name)
            for space, rows in spaces.items():
                already = self.deleted.get(segment_name, {}).get(space, np.zeros(0, np.int32))
                fresh = np.setdiff1d(rows, already, assume_unique=True)
                _subtract(self.stats, segment, space, fresh)
                self.deleted.setdefault(segment_name, {})[space] = np.union1d(already, fresh).astype(np.int32)

    def add(self, doc_id: str, passages: Sequence[tuple], figures: Sequence[tuple]) -> None:
        """Add one document's rows.

        Args:
            passages: (store id, ordinal, year or None, section, display text, word
                tokens, bigram tokens) per passage.
            figures: (store id, index of its passage in ``passages``, kind code, year or
                None, redacted, base unit, indicator tokens, context tokens) per figure.
        """
        batch = self._batch or RowsToIndex(docs=[])
        first_passage = len(batch.passage_id)
        batch.docs.append(doc_id)
        code = len(batch.docs) - 1
        for store_id, ordinal, year, section, text, words, bigrams in passages:
            batch.passage_id.append(store_id)
            batch.passage_doc.append(code)
            batch.passage_year.append(year or 0)
            batch.passage_ordinal.append(ordinal)
            batch.passage_simplified.append(to_simplified(text) == text)
            batch.passage_text.append(text)
            batch.passage_section.append(section)
            batch.tokens["word"].append(list(words))
            batch.tokens["bigram"].append(list(bigrams))
        for store_id, passage, kind, year, redacted, unit, indicator, context in figures:
            batch.figure_id.append(store_id)
            batch.figure_passage.append(first_passage + passage)
            batch.figure_kind.append(kind)
            batch.figure_year.append(year or 0)
            batch.figure_redacted.append(bool(redacted))
            batch.figure_unit.append(unit)
            batch.tokens["indicator"].append(list(indicator))
            batch.tokens["context"].append(list(context))
        self._batch = batch
        if len(batch.passage_id) >= self.batch_rows:
            self._flush()

    def finish(self, store_generation: int) -> dict:
        """Write the generation's files and return its manifest (not yet in use)."""
        self._flush()
        if _needs_merge(self.segments, self.deleted):
            merged = merge_segments(_segment_name(self.folder, self.number, merged=True), self.segments, self.deleted)
            merged.write(self.folder)
            self.written.append(merged.name)
            self.segments, self.deleted = [merged], {}
        generation = self.folder / _generation_name(self.number)
        generation.mkdir(exist_ok=True)
        # A build from nothing numbers terms afresh: its vocabulary goes to new files, so
        # the generation in use keeps reading its own until the switch.
        if self.previous is not None:
            vocab = self.previous.manifest["vocab"]
        else:
            vocab = {name: f"vocab.{name}.{self.number:06d}.txt" for name in FIELDS}
        for name in FIELDS:
            _write_terms(self.folder / vocab[name], self.vocabularies[name].terms)
            df = np.zeros(len(self.vocabularies[name]), dtype=np.int32)
            df[: len(self.stats[name].df)] = self.stats[name].df
            np.save(generation / f"df.{name}.npy", df)
        for segment_name, spaces in self.deleted.items():
            for space, rows in spaces.items():
                if len(rows):
                    np.save(generation / f"{segment_name}.{space}.deleted.npy", np.asarray(rows, dtype=np.int32))
        return {
            "engine": ENGINE_VERSION,
            "generation": self.number,
            "lexicon": self.lexicon,
            "store_generation": store_generation,
            "segments": [s.name for s in self.segments],
            "vocab": vocab,
            "fields": {
                name: {
                    "terms": len(self.vocabularies[name]),
                    "rows": self.stats[name].rows,
                    "length": self.stats[name].length,
                }
                for name in FIELDS
            },
        }

    def discard(self) -> None:
        """Remove the segments and generation files written so far (the build failed)."""
        for name in self.written:
            shutil.rmtree(self.folder / name, ignore_errors=True)
        shutil.rmtree(self.folder / _generation_name(self.number), ignore_errors=True)

    def _flush(self) -> None:
        batch, self._batch = self._batch, None
        if batch is None or not batch.passage_id:
            return
        segment = Segment.build(_segment_name(self.folder, self.number), batch, self.vocabularies)
        segment.write(self.folder)
        self.written.append(segment.name)
        _add(self.stats, segment)
        self.segments.append(segment)


def activate(folder: Path, manifest: dict) -> None:
    """Make a written generation the one in use (one atomic rename), then delete the
    files it does not use.

    Raises:
        OSError: the manifest cannot be written.
    """
    temporary = folder / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, folder / MANIFEST)
    keep = {*manifest["segments"], *manifest["vocab"].values(), _generation_name(manifest["generation"])}
    for path in folder.iterdir():
        if path.name.startswith(("seg-", "gen-", "vocab.")) and path.name not in keep:
            # A process still serving an older generation keeps its memory maps (POSIX).
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def merge_segments(name: str, segments: Sequence[Segment], deleted: dict[str, dict[str, np.ndarray]]) -> Segment:
    """Return one segment holding the live rows of ``segments``, in the same order.

    Postings are re-sorted by term with a stable sort (rows are already ascending
    segment after segment), so nothing is re-tokenised.
    """
    keep = {
        space: [
            np.setdiff1d(np.arange(s.rows(space)), deleted.get(s.name, {}).get(space, []), assume_unique=True)
            for s in segments
        ]
        for space in ("passages", "figures")
    }
    remap = {space: [] for space in keep}
    for space, kept in keep.items():
        start = 0
        for segment, rows in zip(segments, kept, strict=True):
            table = np.full(segment.rows(space), -1, dtype=np.int64)
            table[rows] = np.arange(start, start + len(rows))
            remap[space].append(table)
            start += len(rows)
    docs: list[str] = []
    units: list[str] = []
    arrays: dict[str, list[np.ndarray]] = {key: [] for key in (*_ROW_ARRAYS, "figure_unit")}
    for number, segment in enumerate(segments):
        passages, figures = keep["passages"][number], keep["figures"][number]
        doc_codes = {code: len(docs) + i for i, code in enumerate(range(len(segment.docs)))}
        docs.extend(segment.docs)
        unit_codes = np.array([len(units) + i for i in range(len(segment.units))], dtype=np.int16)
        units.extend(segment.units)
        for key in _ROW_ARRAYS:
            values = np.asarray(segment.arrays[key])[passages if key.startswith("passage") else figures]
            if key == "passage_doc":
                values = np.array([doc_codes[int(v)] for v in values], dtype=np.int32)
            elif key == "figure_passage":
                values = remap["passages"][number][values]
            arrays[key].append(values)
        arrays["figure_unit"].append(unit_codes[np.asarray(segment.arrays["figure_unit"])[figures]])
    fields = {}
    for field_name in FIELDS:
        space = SPACE_OF[field_name]
        terms = max((s.fields[field_name].terms for s in segments), default=0)
        term_parts, row_parts, tf_parts, lengths = [], [], [], []
        for number, segment in enumerate(segments):
            postings = segment.fields[field_name]
            rows = remap[space][number][np.asarray(postings.rows)]
            alive = rows >= 0
            term_parts.append(postings.term_of_postings()[alive])
            row_parts.append(rows[alive])
            tf_parts.append(np.asarray(postings.tf)[alive])
            lengths.append(np.asarray(postings.lengths)[keep[space][number]])
        term_ids = np.concatenate(term_parts) if term_parts else np.zeros(0, np.int32)
        order = np.argsort(term_ids, kind="stable")
        fields[field_name] = Postings.from_coo(
            term_ids[order],
            np.concatenate(row_parts)[order] if row_parts else np.zeros(0, np.int64),
            np.concatenate(tf_parts)[order] if tf_parts else np.zeros(0, np.uint16),
            _concat(lengths, np.float32),
            terms,
        )
    merged_arrays = {key: _concat(parts, _ROW_ARRAYS.get(key, np.int16)) for key, parts in arrays.items()}
    texts = {
        key: TextColumn.concatenate(
            [s.texts[key].take(rows) for s, rows in zip(segments, keep["passages"], strict=True)]
        )
        for key in _TEXT_COLUMNS
    }
    return Segment(name, docs, units, merged_arrays, fields, texts)


def _needs_merge(segments: Sequence[Segment], deleted: dict[str, dict[str, np.ndarray]]) -> bool:
    if len(segments) > MAX_SEGMENTS:
        return True
    rows = sum(s.passages for s in segments)
    gone = sum(len(spaces.get("passages", [])) for spaces in deleted.values())
    return bool(rows) and gone / rows > MAX_DELETED_SHARE


def _subtract(stats: dict[str, FieldStats], segment: Segment, space: str, rows: np.ndarray) -> None:
    if not len(rows):
        return
    for name in FIELDS:
        if SPACE_OF[name] != space:
            continue
        postings = segment.fields[name]
        gone = np.zeros(segment.rows(space), dtype=bool)
        gone[rows] = True
        hit = gone[np.asarray(postings.rows)]
        counts = np.bincount(postings.term_of_postings()[hit], minlength=len(stats[name].df))
        stats[name].df = stats[name].df - counts[: len(stats[name].df)]
        stats[name].rows -= len(rows)
        stats[name].length -= float(np.asarray(postings.lengths)[rows].sum())


def _add(stats: dict[str, FieldStats], segment: Segment) -> None:
    for name in FIELDS:
        postings = segment.fields[name]
        df = np.diff(np.asarray(postings.indptr))
        grown = np.zeros(max(len(df), len(stats[name].df)), dtype=np.int64)
        grown[: len(stats[name].df)] = stats[name].df
        grown[: len(df)] += df
        stats[name].df = grown
        stats[name].rows += len(postings.lengths)
        stats[name].length += float(np.asarray(postings.lengths).sum())


def _read_terms(path: Path, count: int) -> list[str]:
    if not count:
        return []
    terms = path.read_text(encoding="utf-8").split("\n")[:count]
    if len(terms) != count:
        raise ValueError(f"{path} holds {len(terms)} terms, the manifest {count}")
    return terms


def _write_terms(path: Path, terms: list[str]) -> None:
    """Bring a vocabulary file to ``terms``: append what it lacks (ids never change);
    when it holds other terms past the shared start (lines of a build that was
    discarded), replace it whole, atomically, so readers see one file or the other."""
    existing = path.read_text(encoding="utf-8").split("\n")[:-1] if path.exists() else []
    if terms[: len(existing)] == existing:
        with path.open("a", encoding="utf-8") as stream:
            stream.write("".join(f"{t}\n" for t in terms[len(existing) :]))
        return
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("".join(f"{t}\n" for t in terms), encoding="utf-8")
    os.replace(temporary, path)


def _generation_name(number: int) -> str:
    return f"gen-{number:06d}"


def _segment_name(folder: Path, number: int, merged: bool = False) -> str:
    base = f"seg-{number:06d}" + ("m" if merged else "")
    taken = 0
    while (folder / (name := base if not taken else f"{base}-{taken}")).exists():
        taken += 1
    return name


def _newest_generation(folder: Path) -> int:
    numbers = [int(p.name[4:10]) for p in folder.glob("gen-*") if p.name[4:10].isdigit()]
    return max(numbers, default=0)


# BM25


@dataclass(frozen=True)
class BM25Parameters:
    """BM25 variant and parameters (see :class:`index.settings.RankingSettings`)."""

    variant: str = "lucene"
    k1: float = 1.2
    b: float = 0.75
    delta: float = 1.0
    epsilon: float = 0.25  # rank-bm25 BM25Okapi's floor: epsilon x mean IDF for negative IDFs


def idf(stats: FieldStats, term_ids: np.ndarray, parameters: BM25Parameters) -> np.ndarray:
    """Return the IDF of each term id under a variant, as rank-bm25 computes it.

    - lucene: log(1 + (N - n + 0.5) / (n + 0.5)) (Lucene BM25Similarity);
    - okapi: log((N - n + 0.5) / (n + 0.5)), negative values floored at
      epsilon x the mean IDF of the vocabulary (rank-bm25 BM25Okapi);
    - plus: log((N + 1) / n) (BM25+, Lv & Zhai 2011);
    - l: log(N + 1) - log(n + 0.5) (BM25L, Lv & Zhai 2011).

    Terms no live row holds (n = 0) get 0, as rank-bm25 does for unknown words.
    """
    total = float(stats.rows)
    known = np.asarray(term_ids) < len(stats.df)
    n = np.zeros(len(term_ids), dtype=np.float64)
    n[known] = np.asarray(stats.df)[np.asarray(term_ids)[known]]
    present = n > 0
    values = np.zeros(len(term_ids), dtype=np.float64)
    variant = parameters.variant
    if variant == "lucene":
        values[present] = np.log(1 + (total - n[present] + 0.5) / (n[present] + 0.5))
    elif variant == "okapi":
        values[present] = np.log(total - n[present] + 0.5) - np.log(n[present] + 0.5)
        values[present & (values < 0)] = parameters.epsilon * okapi_mean_idf(stats)
    elif variant == "plus":
        values[present] = np.log((total + 1) / n[present])
    else:
        values[present] = np.log(total + 1) - np.log(n[present] + 0.5)
    return values


def okapi_mean_idf(stats: FieldStats) -> float:
    """Mean of log((N - n + 0.5) / (n + 0.5)) over the terms live rows hold (rank-bm25's average_idf)."""
    df = np.asarray(stats.df, dtype=np.float64)
    df = df[df > 0]
    if not len(df):
        return 0.0
    return float(np.mean(np.log(stats.rows - df + 0.5) - np.log(df + 0.5)))


def length_norms(lengths: np.ndarray, stats: FieldStats, p: BM25Parameters) -> np.ndarray:
    """Return BM25's length normalisation 1 - b + b x length / average length per row
    (float64, same shape as ``lengths``)."""
    return 1 - p.b + p.b * np.asarray(lengths, dtype=np.float64) / stats.average_length


def bm25_weights(
    tf: np.ndarray, lengths: np.ndarray | None, term_idf, stats: FieldStats | None, p: BM25Parameters, norm=None
) -> np.ndarray:
    """Return the BM25 contribution of one term to the rows holding it.

    Args:
        tf: term frequency in each row (> 0); lengths: those rows' token counts.
        term_idf: the term's IDF (see :func:`idf`), or one per row.
        norm: the rows' :func:`length_norms` when computed already (``lengths`` and
            ``stats`` unused then).

    Formulas as in rank-bm25 (Robertson & Zaragoza 2009; Lv & Zhai 2011 for plus and l),
    with norm = 1 - b + b x length / average length:
    lucene and okapi: idf x tf (k1 + 1) / (tf + k1 norm); plus: idf x (delta + tf (k1 + 1)
    / (k1 norm + tf)) minus the idf x delta every row gets (see :func:`plus_constant`);
    l: idf x tf (k1 + 1) (tf/norm + delta) / (k1 + tf/norm + delta).
    """
    if norm is None:
        norm = length_norms(lengths, stats, p)
    if p.variant in ("lucene", "okapi"):
        return term_idf * tf * (p.k1 + 1) / (tf + p.k1 * norm)
    if p.variant == "plus":
        return term_idf * (tf * (p.k1 + 1)) / (p.k1 * norm + tf)
    ctd = tf / norm
    return term_idf * tf * (p.k1 + 1) * (ctd + p.delta) / (p.k1 + ctd + p.delta)


def plus_constant(term_idfs: np.ndarray, p: BM25Parameters) -> float:
    """The score BM25+ gives every row, matched or not: sum of idf x delta over the query."""
    return float(np.sum(term_idfs) * p.delta) if p.variant == "plus" else 0.0


def field_scores(index: SparseIndex, field_name: str, terms: Iterable[str], p: BM25Parameters) -> np.ndarray:
    """Return the BM25 score of every global row of the field's space (0 for deleted
    rows) for the distinct ``terms``, as rank-bm25's ``get_scores`` gives it: one
    gather of their postings, one vectorised formula, one sum per row."""
    space = SPACE_OF[field_name]
    stats = index.stats[field_name]
    gathered = index.gather(field_name, terms)
    idfs = idf(stats, gathered.ids, p)
    lengths = index.lengths[field_name][gathered.rows].astype(np.float64)
    weights = bm25_weights(gathered.tf, lengths, idfs[gathered.term_index()], stats, p)
    scores = np.bincount(gathered.rows, weights, minlength=index.rows(space)).astype(np.float64, copy=False)
    constant = plus_constant(idfs, p)
    if constant:  # BM25+ gives every row idf x delta; deleted rows get nothing
        scores += constant
        scores[~index.live[space]] = 0.0
    return scores


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Return the rows of the ``k`` highest scores, best first (equal scores in row
    order), choosing among the rows that score at all: ``argpartition`` over the whole
    array slows down tenfold when most of it is zero (about 10 ms at 200k rows against
    1 ms for the scores). Rows scoring 0 fill the list only when fewer than ``k`` score."""
    scored = np.flatnonzero(scores > 0)
    if len(scored) > k:  # every row at or above the k-th score, so ties keep row order
        threshold = -np.partition(-scores[scored], k - 1)[k - 1]
        scored = scored[scores[scored] >= threshold]
    best = scored[np.lexsort((scored, -scores[scored]))][:k]
    if len(best) < k:
        rest = np.flatnonzero(scores <= 0)[: k - len(best)]
        best = np.concatenate([best, rest])
    return best
