"""The figure: one class from extraction to the front ends, and plan/achieved pairs."""

from __future__ import annotations

from dataclasses import dataclass

FIGURE_KINDS = ("plan", "achieved", "rate", "other")
KIND_LABELS = {"plan": "计划", "achieved": "完成", "rate": "比率", "other": "其他"}


@dataclass(frozen=True)
class Figure:
    """A figure stated in a report: what is counted, how much, and whether planned or done.

    Extraction fills what the text says; a lookup adds where it is stored and how well
    it matched. The store keeps it as a :class:`index.store.models.Target` row.

    Attributes:
        indicator: what is counted, a short phrase from the text (加装电梯).
        value: the number as a float (lower bound of a range); None when redacted or
            missing. Magnitude stays in the unit: 6.28 with unit 亿元.
        value_text: the number as written, without qualifier (``***``, ``6.28``, ``二十``,
            ``550`` in 550余万吨, ``3至5``); empty when the number is missing from the copy.
        unit: as written, with magnitude and bracket (``万套（间）``, ``%``).
        qualifier: 约, 余, 多, 以上, 不少于, 超过, 区间 (a range) …, or None.
        kind: plan, achieved, rate or other (see ``FIGURE_KINDS``).
        year: the year the figure is about, or None.
        period: the year with half, quarter or month range ("2023年上半年"), or None.
        redacted: the number is masked or missing in the copy.
        sentence: the sentence it came from (display text).
        start, end: character offsets of the figure, in the passage text when
            extracted and in the document text once stored.
        id: store id (0 before storing).
        doc_id, doc_title: the document it comes from ("" before storing).
        section: heading path of its passage, joined with `` › ``.
        score: how well it matched a lookup (higher is better; 0 outside lookups).
        indicator_tokens: the indicator's tokens plus its base unit, for pairing.
        indicator_match: every word of the lookup is in the indicator.
        value_max: the high end of a range (qualifier 区间), else None.
        place: the place of the document it comes from ("" unknown).
    """

    indicator: str
    value: float | None
    value_text: str
    unit: str
    qualifier: str | None
    kind: str
    year: int | None
    period: str | None
    redacted: bool
    sentence: str
    start: int = 0
    end: int = 0
    id: int = 0
    doc_id: str = ""
    doc_title: str = ""
    section: str = ""
    score: float = 0.0
    indicator_tokens: tuple[str, ...] = ()
    indicator_match: bool = False
    value_max: float | None = None
    place: str = ""

    def to_dict(self) -> dict:
        """Return the JSON object of the ``targets`` command (its documented contract)."""
        return {
            "indicator": self.indicator,
            "value": self.value,
            "value_max": self.value_max,
            "value_text": self.value_text,
            "unit": self.unit,
            "qualifier": self.qualifier,
            "kind": self.kind,
            "period": self.period,
            "year": self.year,
            "redacted": self.redacted,
            "sentence": self.sentence,
            "doc_id": self.doc_id,
            "doc_title": self.doc_title,
            "place": self.place or None,
            "section": self.section,
        }


@dataclass(frozen=True)
class FigurePair:
    """A plan and the achievement reported against it: the same place, indicator, unit
    and year (often from two documents: the year's plan and its summary).

    ``met`` is True/False when both figures are known and comparable, else None.
    """

    plan: Figure
    achieved: Figure
    met: bool | None
