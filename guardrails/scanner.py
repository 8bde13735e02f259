"""Run detectors over every view of a text and report spans of the original."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from guardrails.findings import Finding
from guardrails.normalise import views

Detector = Callable[[str], list[Finding]]


def scan(text: str, detectors: Iterable[Detector]) -> list[Finding]:
    """Return what ``detectors`` find in any view of ``text``, in original offsets.

    Overlapping findings of the same detector and type merge into one that
    covers both spans and keeps the higher confidence, so a value seen in the
    original and again in the normalised view is reported once.
    """
    detectors = list(detectors)
    found: list[Finding] = []
    for view in views(text):
        for detector in detectors:
            for finding in detector(view.text):
                start, end = view.original_span(finding.start, finding.end)
                found.append(finding.shifted(start, end))
    return merge_overlaps(found)


def merge_overlaps(findings: list[Finding]) -> list[Finding]:
    """Return ``findings`` with overlapping ones of the same kind merged."""
    merged: list[Finding] = []
    open_by_kind: dict[tuple[str, str], int] = {}
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        kind = (finding.detector, finding.type)
        index = open_by_kind.get(kind)
        if index is not None and finding.start < merged[index].end:
            merged[index] = _union(merged[index], finding)
            continue
        open_by_kind[kind] = len(merged)
        merged.append(finding)
    return merged


def _union(kept: Finding, other: Finding) -> Finding:
    best = other if other.confidence > kept.confidence else kept
    return best.shifted(min(kept.start, other.start), max(kept.end, other.end))
