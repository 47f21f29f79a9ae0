"""SQLModel tables of the store: documents, their passages, and index state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

SECTION_SEPARATOR = " › "
# Bumped whenever a table of the index store changes: an older store is rebuilt from the
# corpus folder (the store is derived from the report files).
SCHEMA_VERSION = "4"


def split_section(section: str) -> tuple[str, ...]:
    """Return the heading labels of a stored section string (joined with ``SECTION_SEPARATOR``)."""
    return tuple(label for label in section.split(SECTION_SEPARATOR) if label)


class Document(SQLModel, table=True):
    """One report file of the corpus.

    ``id`` is the file's path relative to the corpus folder, with ``/`` separators.
    ``years`` lists the years the report covers, comma-separated ("2021,2022"); ``year``
    is the one it reports on and ``period`` the part of it (上半年). ``place`` is the
    issuing body's place and ``level`` its level (省/州/市/县/区/国); ``kind`` is
    总结/计划/讲话/进展/新闻/其他. ``title_from`` says where the title came from (text,
    style, composed, file); ``overrides`` is the JSON of the admin's settings applied
    from ``metadata.toml`` ("" for none). ``content_hash`` is the SHA-256 of the file.
    """

    id: str = Field(primary_key=True)
    title: str
    years: str = ""
    year: int | None = None
    period: str | None = None
    place: str | None = None
    level: str | None = None
    kind: str = "其他"
    title_from: str = "text"
    overrides: str = ""
    content_hash: str = Field(index=True)
    size_bytes: int
    char_count: int
    passage_count: int
    ingested_at: datetime

    @property
    def year_list(self) -> list[int]:
        """``years`` as integers, ascending."""
        return [int(y) for y in self.years.split(",") if y]


class Passage(SQLModel, table=True):
    """A passage of a document, with its heading path and stored tokens.

    ``section`` is the heading path joined with `` › ``; ``char_start``/``char_end``
    are offsets in the document text (paragraphs joined by newlines); ``tokens`` is a
    JSON list of the tokens indexed for this passage (heading path and text), kept so
    the index can be rebuilt from the store without tokenising again.
    """

    __table_args__ = (Index("passage_doc_ordinal", "doc_id", "ordinal"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    doc_id: str = Field(foreign_key="document.id", index=True)
    ordinal: int
    section: str = ""
    year: int | None = None
    text: str
    char_start: int
    char_end: int
    tokens: str


class IndexState(SQLModel, table=True):
    """Key-value facts about the stored index (e.g. the lexicon fingerprint)."""

    key: str = Field(primary_key=True)
    value: str


class Target(SQLModel, table=True):
    """A figure stated in a passage (see :mod:`index.figures.extract` for the fields' meaning).

    ``char_start``/``char_end`` are the figure's offsets in the document text;
    ``unit_key`` is the unit normalised for matching and ``base_unit`` the unit without
    magnitude (户 for 万户); ``indicator_tokens`` and ``context_tokens`` are the JSON
    token lists of the index's figure fields, kept for rebuilding it and for pairing.
    """

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    doc_id: str = Field(foreign_key="document.id", index=True)
    passage_ordinal: int
    section: str = ""
    indicator: str
    value: float | None = None
    value_max: float | None = None
    value_text: str
    unit: str
    unit_key: str = Field(index=True)
    qualifier: str | None = None
    kind: str = Field(index=True)
    period: str | None = None
    year: int | None = Field(default=None, index=True)
    redacted: bool = False
    sentence: str
    char_start: int
    char_end: int
    base_unit: str = ""
    indicator_tokens: str
    context_tokens: str


@dataclass(frozen=True)
class DocumentSummary:
    """A stored document as the front ends list it (``docs``, ``/docs``, uploads).

    Attributes:
        id: path relative to the corpus folder.
        title, years, year, period, place, level, kind, title_from: see :class:`Document`.
        overridden: the fields an admin set in ``metadata.toml``; the others are inferred.
        passages, figures: how many passages and figures it holds.
        chars, size_bytes, content_hash, ingested_at: size and identity of the file.
    """

    id: str
    title: str
    years: tuple[int, ...]
    year: int | None
    period: str | None
    place: str | None
    level: str | None
    kind: str
    title_from: str
    overridden: tuple[str, ...]
    passages: int
    figures: int
    chars: int
    size_bytes: int
    content_hash: str
    ingested_at: datetime

    @classmethod
    def of(cls, document: Document, figures: int) -> DocumentSummary:
        """Return the summary of a stored document row with its number of figures."""
        return cls(
            id=document.id,
            title=document.title,
            years=tuple(document.year_list),
            year=document.year,
            period=document.period,
            place=document.place,
            level=document.level,
            kind=document.kind,
            title_from=document.title_from,
            overridden=tuple(sorted(json.loads(document.overrides))) if document.overrides else (),
            passages=document.passage_count,
            figures=figures,
            chars=document.char_count,
            size_bytes=document.size_bytes,
            content_hash=document.content_hash,
            ingested_at=document.ingested_at,
        )

    def to_dict(self) -> dict:
        """Return the JSON object of the ``docs`` command (its documented contract)."""
        return {
            "doc_id": self.id,
            "title": self.title,
            "years": list(self.years),
            "year": self.year,
            "period": self.period,
            "place": self.place,
            "level": self.level,
            "kind": self.kind,
            "title_from": self.title_from,
            "overridden": list(self.overridden),
            "passages": self.passages,
            "targets": self.figures,
            "chars": self.chars,
            "size_bytes": self.size_bytes,
            "content_hash": self.content_hash,
            "ingested_at": self.ingested_at.isoformat(),
        }
