"""The built-in detectors as the scanner calls them: text in, findings out."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from guardrails.findings import Finding

Detector = Callable[[str], list[Finding]]

# Whose words a slot holds, as the jailbreak detector knows sources. Earlier
# assistant turns are sent by the caller, who may have written them.
JAILBREAK_SOURCES = {"assistant": "user"}


@lru_cache(maxsize=64)
def pii(region: str) -> Detector:
    from guardrails.pii import detect_pii

    return lambda text: detect_pii(text, region=region)


def secrets(text: str) -> list[Finding]:
    from guardrails.secrets import detect_secrets

    return detect_secrets(text)


@lru_cache(maxsize=64)
def jailbreak(source: str, threshold: float) -> Detector:
    """One finding for each category scoring ``threshold`` or more, spanning
    the evidence for it (the whole text when a model alone gave it)."""
    from guardrails.jailbreak import assess

    as_source = JAILBREAK_SOURCES.get(source, source)

    def detect(text: str) -> list[Finding]:
        assessment = assess(text, source=as_source)
        found = []
        for category in assessment.categories(threshold):
            spans = [f for f in assessment.findings if f.type == category]
            start = min((f.start for f in spans), default=0)
            end = max((f.end for f in spans), default=len(text))
            score = assessment.scores[category]
            found.append(Finding("jailbreak", category, start, end, score))
        return found

    return detect
