"""Retrieval evaluation on judged questions: recall@k, MRR@10, passage length stats.

The question file is JSON Lines, one object a line with ``id``, ``question`` and
``relevant`` (exact substrings of the report text). A returned passage is a hit when
its text contains any of them (see ``../shared/eval/README.md``).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from index.search import SearchIndex

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


def evaluate(index: SearchIndex, questions: list[JudgedQuestion]) -> EvaluationReport:
    """Search every question (top ``MRR_DEPTH``) and score the rankings."""
    outcomes = []
    for question in questions:
        hits = index.search(question.question, k=MRR_DEPTH)
        rank = next(
            (hit.rank for hit in hits if any(r in hit.passage.text for r in question.relevant)),
            None,
        )
        outcomes.append(QuestionOutcome(question.id, question.question, rank))
    count = max(len(outcomes), 1)
    recall = {k: sum(1 for o in outcomes if o.first_hit_rank and o.first_hit_rank <= k) / count for k in RECALL_KS}
    mrr = sum(1 / o.first_hit_rank for o in outcomes if o.first_hit_rank) / count
    return EvaluationReport(recall, mrr, outcomes, passage_length_stats(index))


def passage_length_stats(index: SearchIndex) -> dict[str, float]:
    """Return mean, median, min, max passage length in characters and the share of
    passages between 60 and 300 characters."""
    lengths = [len(p.text) for p in index.passages] or [0]
    return {
        "count": len(index.passages),
        "mean": round(statistics.mean(lengths), 1),
        "median": statistics.median(lengths),
        "min": min(lengths),
        "max": max(lengths),
        "share_60_300": round(sum(1 for n in lengths if 60 <= n <= 300) / len(lengths), 3),
    }
