"""Evaluation: retrieval on judged questions, and figure extraction on labelled sentences.

Retrieval: the question file is JSON Lines, one object a line with ``id``,
``question`` and ``relevant`` (exact substrings of the report text). A returned passage
is a hit when its text contains any of them (see ``../shared/eval/README.md``); we
report recall@1/3/5, MRR@10 and passage length stats.

Extraction: ``tests/data/figures.jsonl`` holds sentences with hand-labelled figures;
we report precision and recall of the figures found, and the accuracy of their kind,
value and qualifier.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from index.figures.extract import PassageContext, extract_figures
from index.figures.model import Figure
from index.figures.units import normal_unit
from index.library import Library
from index.store.models import Document, Passage, split_section
from index.text.normalize import index_form
from index.text.segmentation import Tokenizer

RECALL_KS = (1, 3, 5)
_SPACES = re.compile(r"\s+")
_QUALIFIER_INSIDE = re.compile(r"[余多]$")  # 550余 in older labels is 550 with qualifier 余
MRR_DEPTH = 10


@dataclass(frozen=True)
class JudgedQuestion:
    """A question and the substrings that make a passage relevant to it."""

    id: str
    question: str
    relevant: tuple[str, ...]


@dataclass(frozen=True)
class QuestionOutcome:
    """Where the first relevant passage ranked for one question (None: not in the top 10)."""

    id: str
    question: str
    first_hit_rank: int | None


@dataclass(frozen=True)
class EvaluationReport:
    """Averages over the questions, and the passage length distribution.

    Attributes:
        recall: k -> share of questions with a hit in the top k.
        mrr: mean of 1/rank of the first hit within the top ``MRR_DEPTH`` (0 if none).
        outcomes: per question.
        passage_chars: mean, median, min, max characters of the indexed passages, and
            the share between 60 and 300 characters (``share_60_300``).
    """

    recall: dict[int, float]
    mrr: float
    outcomes: list[QuestionOutcome]
    passage_chars: dict[str, float]

    def to_dict(self) -> dict:
        """Return JSON-ready values."""
        return {
            "questions": len(self.outcomes),
            **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
            f"mrr@{MRR_DEPTH}": round(self.mrr, 4),
            "passage_chars": self.passage_chars,
            "misses": [
                {"id": o.id, "question": o.question, "first_hit_rank": o.first_hit_rank}
                for o in self.outcomes
                if o.first_hit_rank != 1
            ],
        }


def load_questions(path: Path) -> list[JudgedQuestion]:
    """Read a JSON Lines file of judged questions.

    Raises:
        ValueError: a line is not JSON or lacks ``id``, ``question`` or ``relevant``.
    """
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            questions.append(JudgedQuestion(str(record["id"]), record["question"], tuple(record["relevant"])))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a judged question ({error})") from error
    return questions


def evaluate(library: Library, questions: list[JudgedQuestion]) -> EvaluationReport:
    """Search every question (top ``MRR_DEPTH``) and score the rankings."""
    outcomes = []
    for question in questions:
        hits = library.search(question.question, k=MRR_DEPTH)
        rank = next(
            (hit.rank for hit in hits if any(r in hit.passage.text for r in question.relevant)),
            None,
        )
        outcomes.append(QuestionOutcome(question.id, question.question, rank))
    count = max(len(outcomes), 1)
    recall = {k: sum(1 for o in outcomes if o.first_hit_rank and o.first_hit_rank <= k) / count for k in RECALL_KS}
    mrr = sum(1 / o.first_hit_rank for o in outcomes if o.first_hit_rank) / count
    return EvaluationReport(recall, mrr, outcomes, passage_length_stats(library.passage_lengths()))


def passage_length_stats(lengths: list[int]) -> dict[str, float]:
    """Return the count, mean, median, min, max of passage lengths (characters) and the
    share of passages between 60 and 300 characters."""
    count = len(lengths)
    lengths = lengths or [0]
    return {
        "count": count,
        "mean": round(statistics.mean(lengths), 1),
        "median": statistics.median(lengths),
        "min": min(lengths),
        "max": max(lengths),
        "share_60_300": round(sum(1 for n in lengths if 60 <= n <= 300) / len(lengths), 3),
    }


@dataclass(frozen=True)
class LabelledSentence:
    """A sentence with its hand-labelled figures (see ``tests/data/figures.jsonl``).

    Each figure is a dict with ``value_text``, ``unit``, ``kind``, ``value`` and
    ``qualifier``; ``source`` names the seed report it comes from, or ``new``.
    """

    source: str
    text: str
    figures: tuple[dict, ...]


@dataclass(frozen=True)
class ExtractionReport:
    """Precision and recall of figure extraction against hand labels.

    Conventions of ``../shared/devset/README.md``: a predicted figure matches a labelled
    one of the same sentence with the same number as written, qualifier apart (550 in
    550余万吨), or the same value and unit. Kind, value and qualifier accuracies are over
    the matched figures; year accuracy over the matched figures whose label has a year
    key (null included: a total over several years has none).
    """

    sentences: int
    labelled: int
    predicted: int
    matched: int
    kind_correct: int
    value_correct: int
    qualifier_correct: int
    year_labelled: int
    year_correct: int
    misses: list[str]
    spurious: list[str]
    kind_errors: list[str]
    year_errors: list[str]

    @property
    def precision(self) -> float:
        """Matched / predicted."""
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Matched / labelled."""
        return self.matched / self.labelled if self.labelled else 1.0

    def to_dict(self) -> dict:
        """Return JSON-ready values."""
        matched = max(self.matched, 1)
        return {
            "sentences": self.sentences,
            "labelled_figures": self.labelled,
            "predicted_figures": self.predicted,
            "matched": self.matched,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "kind_accuracy": round(self.kind_correct / matched, 4),
            "year_accuracy": round(self.year_correct / max(self.year_labelled, 1), 4) if self.year_labelled else None,
            "value_accuracy": round(self.value_correct / matched, 4),
            "qualifier_accuracy": round(self.qualifier_correct / matched, 4),
            "misses": self.misses,
            "spurious": self.spurious,
            "kind_errors": self.kind_errors,
            "year_errors": self.year_errors,
        }


def load_labelled_figures(path: Path) -> list[LabelledSentence]:
    """Read the JSON Lines file of labelled sentences.

    Raises:
        ValueError: a line is not JSON or lacks ``text`` or ``figures``.
    """
    sentences = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            sentences.append(LabelledSentence(record.get("source", ""), record["text"], tuple(record["figures"])))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a labelled sentence ({error})") from error
    return sentences


def evaluate_extraction(sentences: list[LabelledSentence], library: Library) -> ExtractionReport:
    """Extract figures from each labelled sentence and compare with the labels.

    A sentence found in an indexed passage (white space ignored: the store keeps the
    display text) is extracted in place, with the passage's section, year and document
    (as ingest does); any other sentence on its own.
    """
    tokenizer = library.tokenizer
    counts = dict.fromkeys(("labelled", "predicted", "matched", "kind", "value", "qualifier", "years", "year"), 0)
    misses: list[str] = []
    spurious: list[str] = []
    kind_errors: list[str] = []
    year_errors: list[str] = []
    for sentence in sentences:
        predicted = _figures_in_context(sentence.text, library, tokenizer)
        gold = list(sentence.figures)
        counts["labelled"] += len(gold)
        counts["predicted"] += len(predicted)
        for figure in predicted:
            candidates = [g for g in gold if _same_figure(figure, g)]
            # Redacted numbers (**) are written alike: prefer the label with the same unit.
            same_unit = [g for g in candidates if normal_unit(g["unit"]) == normal_unit(figure.unit)]
            found = (same_unit or candidates or [None])[0]
            shown = f"{figure.value_text}{figure.unit} in {sentence.text[:60]}"
            if found is None:
                spurious.append(shown)
                continue
            gold.remove(found)
            counts["matched"] += 1
            counts["kind"] += figure.kind == found["kind"]
            if figure.kind != found["kind"]:
                kind_errors.append(f"{figure.kind} (label {found['kind']}): {shown}")
            counts["value"] += figure.value == found["value"]
            counts["qualifier"] += figure.qualifier == found["qualifier"]
            if "year" in found:
                counts["years"] += 1
                counts["year"] += figure.year == found["year"]
                if figure.year != found["year"]:
                    year_errors.append(f"{figure.year} (label {found['year']}): {shown}")
        misses += [f"{g['value_text']}{g['unit']} in {sentence.text[:60]}" for g in gold]
    return ExtractionReport(
        len(sentences),
        counts["labelled"],
        counts["predicted"],
        counts["matched"],
        counts["kind"],
        counts["value"],
        counts["qualifier"],
        counts["years"],
        counts["year"],
        misses,
        spurious,
        kind_errors,
        year_errors,
    )


def _same_figure(figure: Figure, label: dict) -> bool:
    """The devset README's match: the same number as written (qualifier apart), or the
    same value and unit."""
    written = _QUALIFIER_INSIDE.sub("", index_form(label["value_text"]))
    if index_form(figure.value_text) == written:
        return True
    same_value = figure.value is not None and figure.value == label.get("value")
    return same_value and normal_unit(figure.unit) == normal_unit(label["unit"])


def _figures_in_context(text: str, library: Library, tokenizer: Tokenizer) -> list[Figure]:
    bare = _SPACES.sub("", text)
    probe = bare[: min(len(bare), 12)]
    with Session(library.engine) as session:
        candidates = session.exec(
            select(Passage, Document).join(Document, Passage.doc_id == Document.id).where(Passage.text.contains(probe))
        ).all()
    for passage, document in candidates:
        positions = [i for i, ch in enumerate(passage.text) if not ch.isspace()]
        flat = "".join(passage.text[i] for i in positions)
        at = flat.find(bare)
        if at < 0:
            continue
        start, end = positions[at], positions[at + len(bare) - 1] + 1
        years = tuple(document.year_list)
        context = PassageContext(split_section(passage.section), passage.year, document.kind, years, document.year)
        drafts = extract_figures(passage.text, context, tokenizer)
        return [d for d in drafts if start <= d.start and d.end <= end]
    return extract_figures(text, PassageContext(), tokenizer)
