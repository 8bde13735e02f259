"""Pass or fail for each row of regressions/bug_cases.jsonl, by kind."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from guardrails.evaluation import SuiteResult, read_rows, regression_check

PATH = Path("regressions") / "bug_cases.jsonl"


def run(data_dir: Path, part: str) -> SuiteResult:
    """Return passed/total per kind, with a line for every row not passing."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    notes = []
    for row in read_rows(data_dir / PATH, part):
        check = regression_check(row["kind"])
        if check is None:
            notes.append(f"{row['id']}: no checker for kind {row['kind']!r}")
            continue
        passed, found = check(row)
        counts[row["kind"]][0] += passed
        counts[row["kind"]][1] += 1
        if not passed:
            notes.append(f"FAIL {row['id']}: expected {row['expected']}; {found}")
    rows = [(kind, passed, total) for kind, (passed, total) in sorted(counts.items())]
    return SuiteResult(("kind", "passed", "total"), rows, notes)
