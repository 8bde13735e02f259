"""Fit the shipped jailbreak model on the tune part of the labelled prompts.

Attack rows (``jailbreak``, ``jailbreak_template``, ``injection``) are the
positives; ordinary, hard, harmful-but-direct and "act as" rows the negatives.
``indirect_payload`` rows are left out: alone they are ordinary requests, and
they matter only inside documents, which the rules judge.

The decision point is chosen by cross-validation on the tune part, never on
the hold-out part: each fold's rows are scored by a model fitted on the other
folds, combined with the rules' scores as the detector combines them, and the
lowest point that keeps false positives within the limits wins. The model
written is then fitted on the whole tune part.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.test.utils import override_settings

from guardrails import jailbreak_model as lm
from guardrails.evaluation import read_rows
from guardrails.evaluation.jailbreak import ATTACKS, BENIGN, PATH, ROLEPLAY
from guardrails.jailbreak import DEFAULT_THRESHOLD, assess_normalised

FOLDS = 5
MAX_BENIGN = 0.01
MAX_ROLEPLAY = 0.025


@dataclass(frozen=True)
class Row:
    id: str
    text: str
    label: int
    category: str
    rules: float  # the rules' highest category score


@dataclass(frozen=True)
class Fitted:
    model: lm.Model
    threshold: float
    recall: float
    benign_rate: float
    roleplay_rate: float
    rows: int


def training_rows(data_dir: Path) -> list[Row]:
    rows = []
    with override_settings(GUARDRAILS_JAILBREAK_CLASSIFIER=""):
        for row in read_rows(data_dir / PATH, "tune"):
            if row["category"] not in (*ATTACKS, *BENIGN, ROLEPLAY):
                continue
            score = assess_normalised(row["text"]).score
            rows.append(
                Row(row["id"], row["text"], row["label"], row["category"], score)
            )
    return rows


def train(
    data_dir: Path,
    *,
    folds: int = FOLDS,
    max_benign: float = MAX_BENIGN,
    max_roleplay: float = MAX_ROLEPLAY,
) -> Fitted:
    rows = training_rows(data_dir)
    found = lm.examples([row.text for row in rows])
    labels = [row.label for row in rows]
    fold_of = [_fold(row.id, folds) for row in rows]
    held_out = [0.0] * len(rows)
    for fold in range(folds):
        inside = [i for i in range(len(rows)) if fold_of[i] != fold]
        model = lm.fit([found[i] for i in inside], [labels[i] for i in inside])
        for i in range(len(rows)):
            if fold_of[i] == fold:
                held_out[i] = model.probability(rows[i].text)
    threshold, rates = _decision_point(rows, held_out, max_benign, max_roleplay)
    model = lm.fit(found, labels)
    shifted = lm.Model(model.bias, model.weights, lm.logit(threshold))
    return Fitted(shifted, threshold, *rates, len(rows))


def _fold(row_id: str, folds: int) -> int:
    # Not the digit the hold-out split uses (the last decimal digit).
    return int(hashlib.sha256(row_id.encode()).hexdigest(), 16) // 10 % folds


def _decision_point(
    rows: Sequence[Row], held_out: Sequence[float], max_benign: float, max_roleplay
) -> tuple[float, tuple[float, float, float]]:
    """Return the lowest score that keeps false positives within the limits.

    The point returned lies halfway (in log-odds) between the last score that
    passes and the first that does not, so it flags what the first flags
    while leaving a margin on both sides.
    """
    candidates = sorted({_clip(p) for p in held_out}, reverse=True)
    chosen, rates = candidates[0], _rates(rows, held_out, candidates[0])
    for threshold in candidates[1:]:
        seen = _rates(rows, held_out, threshold)
        if seen[1] > max_benign or seen[2] > max_roleplay:
            middle = (lm.logit(chosen) + lm.logit(threshold)) / 2
            return lm._sigmoid(middle), rates
        chosen, rates = threshold, seen
    return chosen, rates


def _rates(
    rows: Sequence[Row], held_out: Sequence[float], threshold: float
) -> tuple[float, float, float]:
    shift = lm.logit(threshold)
    flagged = [
        _combined(row.rules, lm._sigmoid(lm.logit(_clip(p)) - shift))
        >= DEFAULT_THRESHOLD
        for row, p in zip(rows, held_out, strict=True)
    ]

    def rate(categories: tuple[str, ...]) -> float:
        chosen = [
            f
            for f, row in zip(flagged, rows, strict=True)
            if row.category in categories
        ]
        return sum(chosen) / len(chosen) if chosen else 0.0

    return rate(ATTACKS), rate(BENIGN), rate((ROLEPLAY,))


def _combined(rules: float, model: float) -> float:
    return 1 - (1 - rules) * (1 - model)


def _clip(p: float) -> float:
    return min(max(p, 1e-9), 1 - 1e-9)
