"""Score the PII detector on pii/presidio_synth_v2.jsonl and its regression rows.

A prediction is right when it overlaps a gold span of the same entity; a gold
span is found when some prediction of its entity overlaps it. Entities the
detector does not report (names, addresses) are not scored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrails.evaluation import SuiteResult, in_part, read_rows, throughput
from guardrails.findings import Finding
from guardrails.pii import detect_pii, forget_phone_cache
from guardrails.scanner import scan

PATH = Path("pii") / "presidio_synth_v2.jsonl"
REGRESSIONS = Path("regressions") / "bug_cases.jsonl"
SCORED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IP_ADDRESS")

# Plain prose with no personal data, for throughput; repeated to size. It has
# a few numbers and typographic punctuation, as ordinary writing does.
PROSE = (
    "The committee met on a grey morning in March 2025 to review the harbour "
    "plans \u2014 all 14 members came. Most of "
    "the members had read the report, although a few admitted they had only "
    "skimmed the summary. The chair opened with a reminder that the budget was "
    "fixed for the year, and that any new work would have to replace something "
    "already promised. A long discussion followed about the old warehouse by the "
    "east pier, which leaks whenever the wind turns north. Some wanted it pulled "
    "down and replaced with a small park; others argued that the \u2018fishing "
    "cooperative\u2019 still relies on it for storage during the winter months. "
    "Nobody disputed that the roof needs attention before the storms arrive. In "
    "the end the members agreed to ask the engineers for a cheaper repair, to "
    "speak with the cooperative about its needs, and to return to the question "
    "at the next meeting. The secretary will circulate notes by Friday, and "
    "anyone with corrections should send them before the weekend so that the "
    "minutes can be approved without delay. The meeting closed a little after "
    "noon, and most of the members walked down to the quay for lunch together. "
)


def detect(text: str) -> list[Finding]:
    """Return what the production path reports: every view, spans merged."""
    return scan(text, [detect_pii])


def run(data_dir: Path, part: str) -> SuiteResult:
    """Return precision, recall and F1 per entity, then speed and regressions."""
    rows = list(read_rows(data_dir / PATH, part))
    counts = _count(rows)
    result = SuiteResult(("entity", "gold", "predicted", "precision", "recall", "f1"))
    for entity in SCORED:
        result.rows.append((entity, *_scores(counts[entity])))
    result.rows.append(_regression_row(data_dir, part, result.notes))
    result.notes.extend(speed_lines([row["text"] for row in rows]))
    return result


def _count(rows: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Return per entity [gold, gold found, predicted, predictions right]."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in rows:
        gold = [(s["entity"], s["start"], s["end"]) for s in row["spans"]]
        found = [(f.type, f.start, f.end) for f in detect(row["text"])]
        for entity, start, end in gold:
            if entity in SCORED:
                counts[entity][0] += 1
                counts[entity][1] += any(_hit(g, (entity, start, end)) for g in found)
        for entity, start, end in found:
            if entity in SCORED:
                counts[entity][2] += 1
                counts[entity][3] += any(_hit(g, (entity, start, end)) for g in gold)
    return counts


def _hit(one: tuple[str, int, int], other: tuple[str, int, int]) -> bool:
    return one[0] == other[0] and one[1] < other[2] and other[1] < one[2]


def _scores(count: list[int]) -> tuple[int, int, str, str, str]:
    gold, found, predicted, right = count
    precision = right / predicted if predicted else 1.0
    recall = found / gold if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return gold, predicted, f"{precision:.3f}", f"{recall:.3f}", f"{f1:.3f}"


# Regression rows ----------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What a regression row's prose ``expected`` means, checkable.

    With ``present`` some finding of one of ``types`` must cover exactly
    ``value`` as it stands in the text; without it no such finding may
    overlap ``value``.
    """

    types: tuple[str, ...]
    value: str
    present: bool = True


EXPECTATIONS = {
    "pii-mc2series": Expectation(("CREDIT_CARD",), "2221 0000 0000 0009"),
    "pii-19digit": Expectation(("CREDIT_CARD",), "4000123412341234008"),
    "pii-ssn-9xx-context": Expectation(("US_SSN", "US_ITIN"), "987-65-4321"),
    "pii-ssn-9xx-nocontext": Expectation(("US_SSN",), "900-12-3456", present=False),
    "pii-guid-not-phone": Expectation(
        ("PHONE_NUMBER",), "3f2a9c10-b7d4-4e21-8046-1297901ea002", present=False
    ),
    "pii-zero-width-email": Expectation(
        ("EMAIL_ADDRESS",), "jane\u200b.doe@exa\u200bmple.com"
    ),
}


def check_regression(row: dict[str, Any]) -> tuple[bool, str]:
    """Return whether the detector meets the row's expectation, and what it found."""
    expectation = EXPECTATIONS.get(row["id"])
    if expectation is None:
        return False, "no expectation written for this row"
    text = row["text"]
    start = text.find(expectation.value)
    if start < 0:
        return False, "expected value not in the text"
    span = (start, start + len(expectation.value))
    found = detect(text)
    wanted = [f for f in found if f.type in expectation.types]
    if expectation.present:
        passed = any((f.start, f.end) == span for f in wanted)
    else:
        passed = not any(f.start < span[1] and span[0] < f.end for f in wanted)
    return passed, "found " + ", ".join(_describe(text, f) for f in found)


def _describe(text: str, finding: Finding) -> str:
    return f"{finding.type} {text[finding.start : finding.end]!r}"


def _regression_row(data_dir: Path, part: str, notes: list[str]) -> tuple[Any, ...]:
    passed = total = 0
    for row in read_rows(data_dir / REGRESSIONS, "all"):
        if row["kind"] != "pii" or not in_part(row["id"], part):
            continue
        ok, found = check_regression(row)
        passed += ok
        total += 1
        if not ok:
            notes.append(f"regression FAIL {row['id']}: {found}")
    return ("regressions (cases, passed)", total, passed, "", "", "")


# Speed --------------------------------------------------------------------


def speed_lines(texts: list[str]) -> list[str]:
    """Return lines giving KB/s on the dataset texts and on 1 KB and 1 MB prose."""
    joined = "\n".join(texts)
    kilobyte = PROSE[:1024]
    megabyte = (PROSE * (2**20 // len(PROSE) + 1))[: 2**20]
    rates = (
        (f"dataset texts concatenated ({len(joined) // 1024} KB)", [joined]),
        ("1 KB prose x 200", [kilobyte] * 200),
        ("1 MB prose", [megabyte]),
    )
    return [
        f"speed, {name}: {throughput(detect, texts, forget_phone_cache):,.0f} KB/s"
        for name, texts in rates
    ]
