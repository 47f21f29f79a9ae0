"""Pair plans with their achievements: the same place, indicator, unit and year."""

from __future__ import annotations

from index.figures.model import Figure, FigurePair
from index.figures.units import base_quantity

PAIR_MIN_OVERLAP = 0.5


def pair_plans(records: list[Figure]) -> list[FigurePair]:
    """Pair each plan with an achievement of the same place, year, unit and indicator.

    Only a plan and an achievement pair (never two plans); one place's plan never meets
    another place's result (a figure without a place pairs only with one without).

    Indicators match when at least half of the smaller token set is shared (the
    unit's token included), so "新开工老旧小区改造项目" (plan) pairs with "老旧小区改造
    项目" (achieved). Each target is used once; the best overlap pairs first.
    """
    plans = [r for r in records if r.kind == "plan" and r.year is not None]
    done = [r for r in records if r.kind == "achieved" and r.year is not None]
    candidates = []
    for plan in plans:
        for achieved in done:
            if plan.year != achieved.year or plan.id == achieved.id or plan.place != achieved.place:
                continue
            if base_quantity(None, plan.unit)[1] != base_quantity(None, achieved.unit)[1]:
                continue
            left, right = set(plan.indicator_tokens), set(achieved.indicator_tokens)
            overlap = len(left & right) / max(1, min(len(left), len(right)))
            if overlap >= PAIR_MIN_OVERLAP:
                candidates.append((overlap, plan.doc_id != achieved.doc_id, plan, achieved))
    candidates.sort(key=lambda c: (-c[0], not c[1], c[2].id, c[3].id))
    used: set[int] = set()
    pairs = []
    for _, _, plan, achieved in candidates:
        if plan.id in used or achieved.id in used:
            continue
        used.update((plan.id, achieved.id))
        pairs.append(FigurePair(plan, achieved, _met(plan, achieved)))
    return pairs


def _met(plan: Figure, achieved: Figure) -> bool | None:
    planned, _ = base_quantity(plan.value, plan.unit)
    reached, _ = base_quantity(achieved.value, achieved.unit)
    if planned is None or reached is None:
        return None
    return reached >= planned
