"""The speed of whole policies, as the proxy applies them to one prompt.

Not a labelled suite: it times ``Guard.check`` with every detector of the
default policy (and of the strict demo policy) on prose, from 1 KB to 1 MB,
and on the labelled prompts, so the figure is the proxy's real cost.
"""

from __future__ import annotations

import time
from pathlib import Path

from guardrails.engine import Blocked, Guard, _recent
from guardrails.evaluation import SuiteResult, read_rows
from guardrails.evaluation.pii import PROSE
from guardrails.policy import DEMO_POLICY, effective_policy

ROUNDS = 3
EVERYTHING = {
    "pii": {"action": "flag", "applies_to": "both"},
    "secrets": {"action": "flag", "applies_to": "both"},
    "jailbreak": {"action": "flag", "applies_to": "both"},
}


def run(data_dir: Path, part: str) -> SuiteResult:
    prompts = [
        row["text"] for row in read_rows(data_dir / "prompts" / "prompts.jsonl", part)
    ]
    result = SuiteResult(("policy and input", "size", "ms per text", "MB/s"))
    for name, layer in (("every detector", EVERYTHING), ("demo (strict)", DEMO_POLICY)):
        policy = effective_policy(layer)
        for label, texts in _inputs(prompts):
            size = sum(len(text.encode()) for text in texts)
            seconds = _best(policy, texts)
            result.rows.append(
                (
                    f"{name}: {label}",
                    _size(size / len(texts)),
                    f"{seconds * 1000 / len(texts):.3f}",
                    f"{size / seconds / 2**20:.2f}",
                )
            )
    result.notes.append(
        f"one core, best of {ROUNDS} rounds; input direction, as a prompt is checked"
    )
    return result


def _inputs(prompts: list[str]) -> list[tuple[str, list[str]]]:
    kilobyte = PROSE[:1024]
    megabyte = (PROSE * (2**20 // len(PROSE) + 1))[: 2**20]
    return [
        ("1 KB prose x 500", [kilobyte] * 500),
        ("1 MB prose", [megabyte]),
        (f"labelled prompts ({len(prompts)})", prompts),
    ]


def _best(policy: dict, texts: list[str]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        guard = Guard(policy, [], b"k" * 32)
        started = time.perf_counter()
        for text in texts:
            _recent.clear()  # measure the detectors, not the memory of them
            try:
                guard.check(text, direction="input", source="user", location="t")
            except Blocked:
                pass
        best = min(best, time.perf_counter() - started)
    return best


def _size(size: float) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.1f} KB"
