"""Score the secrets detector: recall, false alarms, regressions and speed.

Rows of ``secrets/gitleaks_rule_fixtures.jsonl`` and
``secrets/synthetic_probes.jsonl`` carry a label: 1 for a text holding a
secret, 0 for one that does not. A label-1 row counts as found when the
detector reports any secret in it; a label-0 row is a false alarm when it
reports any. A gitleaks label-0 row is a false positive for one rule only,
so some of them hold a token of another format; the notes list every false
alarm so those can be told apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrails.evaluation import SuiteResult, read_rows, throughput
from guardrails.findings import Finding
from guardrails.secrets import detect_secrets

SOURCES = (
    ("gitleaks fixtures", Path("secrets") / "gitleaks_rule_fixtures.jsonl"),
    ("synthetic probes", Path("secrets") / "synthetic_probes.jsonl"),
)
REGRESSIONS = Path("regressions") / "bug_cases.jsonl"
COLUMNS = ("measure", "rows", "hits", "rate")

# Ordinary writing with the words a secret scanner keys on (key, token,
# password, secret, auth) used in their everyday sense, repeated to size.
PROSE = (
    "Our team spent most of the week moving the billing service to the new "
    "cluster. The key question was whether the old queue could be drained before "
    "the cut-over, and it could, although two workers needed a restart on "
    "Tuesday. Please pass the release notes to support before Friday; they will "
    "want to know that login tokens now expire after eight hours and that the "
    "password reset page has a new layout. Nobody has found a regression yet, "
    "but the authentication logs deserve a careful look next week. The secret "
    "to a calm launch, as always, is a short list of changes and a clear way "
    "back. "
)
# Source code that names secrets without holding any.
CODE = (
    "def load(path: str) -> dict:\n"
    "    with open(path) as handle:\n"
    "        data = json.load(handle)\n"
    '    token_count = len(data.get("items", []))\n'
    "    api_key = os.environ['API_KEY']  # read at start-up\n"
    '    password_field = form.cleaned_data["password"]\n'
    "    for key, value in data.items():\n"
    '        logger.info("loaded %s=%s", key, value)\n'
    '    return {"count": token_count, "key": api_key}\n'
)


@dataclass(frozen=True)
class Expectation:
    """What a regression row needs: ``value`` found (with a type in ``types``,
    any type when empty) or, when ``present`` is False, no finding at all."""

    value: str
    present: bool = True
    types: frozenset[str] = frozenset()


EXPECTATIONS = {
    "sec-slack-webhook": Expectation(
        "https://hooks.slack.com/services/T0FAKE123/B0FAKE456/abcdEFGHijklMNOPqrstUVWX",
        types=frozenset({"slack-webhook-url"}),
    ),
    "sec-keyword-uuid": Expectation("0a1b2c3d-4e5f-4789-abcd-ef0123456789"),
    "sec-letters-only": Expectation("SomeTokenQwertyab"),
    "sec-base64-chars": Expectation("Zx9fakeK744sG54VgABW/+p4NXFr"),
    "sec-prose-fp": Expectation("", present=False),
}


def run(data_dir: Path, part: str) -> SuiteResult:
    """Return recall and false alarms per source, regressions and speed."""
    result = SuiteResult(COLUMNS)
    for name, path in SOURCES:
        rows = list(read_rows(data_dir / path, part))
        result.rows.extend(_score(name, rows, result.notes))
    result.rows.append(_regressions(data_dir, result.notes))
    result.rows.extend(benchmark())
    return result


def _score(name: str, rows: list[dict[str, Any]], notes: list[str]) -> list[tuple]:
    found = {1: 0, 0: 0}
    total = {1: 0, 0: 0}
    for row in rows:
        findings = detect_secrets(row["text"])
        total[row["label"]] += 1
        found[row["label"]] += bool(findings)
        if row["label"] == 1 and not findings:
            notes.append(f"missed {row['id']} ({_row_kind(row)})")
        if row["label"] == 0 and findings:
            notes.append(
                f"false alarm {row['id']} ({_row_kind(row)}): "
                + ", ".join(_describe(row["text"], f) for f in findings)
            )
    return [
        (f"{name}: recall", total[1], found[1], _ratio(found[1], total[1])),
        (f"{name}: false alarms", total[0], found[0], _ratio(found[0], total[0])),
    ]


def _row_kind(row: dict[str, Any]) -> str:
    return str(row.get("rule_id") or row.get("service") or "")


def _describe(text: str, finding: Finding) -> str:
    value = text[finding.start : finding.end]
    shown = value if len(value) <= 24 else value[:20] + "..."
    return f"{finding.type} {shown!r}"


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "-"


def check_regression(row: dict[str, Any]) -> tuple[bool, str]:
    """Return whether the detector meets the row's expectation, and what it found."""
    expectation = EXPECTATIONS.get(row["id"])
    if expectation is None:
        return False, "no expectation written for this row"
    text = row["text"]
    findings = detect_secrets(text)
    found = "found " + (", ".join(_describe(text, f) for f in findings) or "nothing")
    if not expectation.present:
        return not findings, found
    start = text.find(expectation.value)
    if start < 0:
        return False, "expected value not in the text"
    span = (start, start + len(expectation.value))
    passed = any(
        (f.start, f.end) == span
        and (not expectation.types or f.type in expectation.types)
        for f in findings
    )
    return passed, found


def _regressions(data_dir: Path, notes: list[str]) -> tuple:
    passed = total = 0
    # Every case runs in both parts: there are few, and all must pass.
    for row in read_rows(data_dir / REGRESSIONS, "all"):
        if row["kind"] != "secret":
            continue
        ok, found = check_regression(row)
        passed += ok
        total += 1
        if not ok:
            notes.append(f"regression FAIL {row['id']}: {row['expected']}; {found}")
    return ("regressions (kind secret): passed", total, passed, _ratio(passed, total))


def benchmark() -> list[tuple[str, int, str, str]]:
    """Return KB/s rows for 1 KB and 1 MB of prose and 1 MB of source code."""
    kilobyte = _sized(PROSE, 1024)
    cases = (
        ("speed: 1 KB prose x 500", [kilobyte] * 500),
        ("speed: 1 MB prose", [_sized(PROSE, 2**20)]),
        ("speed: 1 MB code", [_sized(CODE, 2**20)]),
    )
    return [
        (name, len(texts), "", f"{throughput(detect_secrets, texts):,.0f} KB/s")
        for name, texts in cases
    ]


def _sized(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]
