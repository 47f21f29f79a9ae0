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
import statistics
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from index.figures.extract import PassageContext, extract_figures, normal_unit
from index.figures.model import Figure
from index.library import Library
from index.store.models import Document, Passage, split_section
from index.text.normalize import index_form
from index.text.segmentation import Tokenizer

RECALL_KS = (1, 3, 5)
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

    A predicted figure matches a labelled one with the same number as written and the
    same unit (after simplified/half-width normalisation). Kind, value and qualifier
    accuracies are over the matched figures.
    """

    sentences: int
    labelled: int
    predicted: int
    matched: int
    kind_correct: int
    value_correct: int
    qualifier_correct: int
    misses: list[str]
    spurious: list[str]

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
            "value_accuracy": round(self.value_correct / matched, 4),
            "qualifier_accuracy": round(self.qualifier_correct / matched, 4),
            "misses": self.misses,
            "spurious": self.spurious,
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

    A sentence found in an indexed passage is extracted in place, with the passage's
    section, year and document (as ingest does); any other sentence on its own.
    """
    tokenizer = library.tokenizer
    counts = {"labelled": 0, "predicted": 0, "matched": 0, "kind": 0, "value": 0, "qualifier": 0}
    misses: list[str] = []
    spurious: list[str] = []
    for sentence in sentences:
        drafts = _figures_in_context(sentence.text, library, tokenizer)
        gold = list(sentence.figures)
        counts["labelled"] += len(gold)
        counts["predicted"] += len(drafts)
        for draft in drafts:
            key = (index_form(draft.value_text), normal_unit(draft.unit))
            found = next((g for g in gold if (index_form(g["value_text"]), normal_unit(g["unit"])) == key), None)
            if found is None:
                spurious.append(f"{draft.value_text}{draft.unit} in {sentence.text}")
                continue
            gold.remove(found)
            counts["matched"] += 1
            counts["kind"] += draft.kind == found["kind"]
            counts["value"] += draft.value == found["value"]
            counts["qualifier"] += draft.qualifier == found["qualifier"]
        misses += [f"{g['value_text']}{g['unit']} in {sentence.text}" for g in gold]
    return ExtractionReport(
        len(sentences),
        counts["labelled"],
        counts["predicted"],
        counts["matched"],
        counts["kind"],
        counts["value"],
        counts["qualifier"],
        misses,
        spurious,
    )


def _figures_in_context(text: str, library: Library, tokenizer: Tokenizer) -> list[Figure]:
    with Session(library.engine) as session:
        found = session.exec(
            select(Passage, Document).join(Document, Passage.doc_id == Document.id).where(Passage.text.contains(text))
        ).first()
    if found is None:
        return extract_figures(text, PassageContext(), tokenizer)
    passage, document = found
    context = PassageContext(split_section(passage.section), passage.year, document.kind, tuple(document.year_list))
    start = passage.text.index(text)
    drafts = extract_figures(passage.text, context, tokenizer)
    return [d for d in drafts if start <= d.start and d.end <= start + len(text)]
