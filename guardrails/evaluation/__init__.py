"""Measure the detectors against labelled data, one suite per detector.

Every suite reads the evaluation data folder the caller names and scores one
part of it. A fixed hash of each row's id splits the rows: about 30% form a
hold-out part that no pattern is tuned on, the rest the tune part.

A suite is a function ``(data_dir, part) -> SuiteResult``. ``SUITES`` names
each one by module and function, imported only when run, so a suite whose
module is not there yet fails alone with a clear message.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARTS = ("tune", "holdout", "all")
HOLDOUT_TENTHS = 3


def part(row_id: str) -> str:
    """Return "holdout" for about 30% of row ids, chosen by hash, else "tune"."""
    digest = int(hashlib.sha256(row_id.encode()).hexdigest(), 16)
    return "holdout" if digest % 10 < HOLDOUT_TENTHS else "tune"


def in_part(row_id: str, wanted: str) -> bool:
    """Return True if the row belongs to ``wanted`` ("tune", "holdout" or "all")."""
    return wanted == "all" or part(row_id) == wanted


def read_rows(path: Path, wanted: str = "all") -> Iterator[dict[str, Any]]:
    """Yield the JSON rows of ``path`` that belong to part ``wanted``."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                if in_part(row["id"], wanted):
                    yield row


@dataclass
class SuiteResult:
    """A table (the first column names the row) and lines of free text."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


Suite = Callable[[Path, str], SuiteResult]


class SuiteUnavailable(Exception):
    """The suite's module or function cannot be imported."""


def lazy_suite(module: str, function: str = "run") -> Suite:
    """Return a suite that imports ``module.function`` only when it is run."""

    def run(data_dir: Path, wanted: str) -> SuiteResult:
        try:
            suite = getattr(importlib.import_module(module), function)
        except (ImportError, AttributeError) as error:
            raise SuiteUnavailable(f"{module}.{function}: {error}") from error
        return suite(data_dir, wanted)

    return run


SUITES: dict[str, Suite] = {
    "pii": lazy_suite("guardrails.evaluation.pii"),
    "secrets": lazy_suite("guardrails.evaluation.secrets"),
    "jailbreak": lazy_suite("guardrails.evaluation.jailbreak"),
    "regressions": lazy_suite("guardrails.evaluation.regressions"),
    "policy-speed": lazy_suite("guardrails.evaluation.policy"),
}

# Regression rows name their detector in "kind"; each kind's checker takes a
# row and returns (passed, what was found).
RegressionCheck = Callable[[dict[str, Any]], tuple[bool, str]]
REGRESSION_CHECKS: dict[str, tuple[str, str]] = {
    "pii": ("guardrails.evaluation.pii", "check_regression"),
    "secret": ("guardrails.evaluation.secrets", "check_regression"),
    "injection": ("guardrails.evaluation.jailbreak", "check_regression"),
    "benign": ("guardrails.evaluation.jailbreak", "check_regression"),
}


def regression_check(kind: str) -> RegressionCheck | None:
    """Return the checker for regression rows of ``kind``, or None if missing."""
    if kind not in REGRESSION_CHECKS:
        return None
    module, function = REGRESSION_CHECKS[kind]
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError):
        return None


def throughput(
    detect: Callable[[str], object],
    texts: list[str],
    reset: Callable[[], None] | None = None,
) -> float:
    """Return how many KB of ``texts`` per second ``detect`` gets through.

    Best of three rounds, so a stray pause on the machine does not count;
    ``reset`` runs before each round to empty caches a round would warm.
    """
    size = sum(len(text.encode()) for text in texts) / 1024
    best = float("inf")
    for _ in range(3):
        if reset:
            reset()
        began = time.perf_counter()
        for text in texts:
            detect(text)
        best = min(best, time.perf_counter() - began)
    return size / best if best else float("inf")
