"""Custom rules: a tenant's keyword lists and regular expressions.

Patterns run on RE2, whose matching time is linear in the text whatever the
pattern, so a tenant's pattern cannot stall the proxy with backtracking.
A pattern is compiled when the rule is saved; one that RE2 refuses, or that
needs more than ``MAX_PROGRAM_BYTES`` of automaton, is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import re2

from guardrails.findings import Finding

MAX_PATTERN_CHARS = 2000
MAX_KEYWORDS = 500
MAX_KEYWORD_CHARS = 200
MAX_PROGRAM_BYTES = 8 << 20


class RuleError(ValueError):
    """A rule that cannot be saved; the message says why."""


@dataclass(frozen=True)
class CompiledRule:
    name: str
    action: str
    applies_to: str
    expression: Any  # an RE2 pattern

    def findings(self, text: str) -> list[Finding]:
        return [
            Finding("custom", self.name, m.start(), m.end(), 1.0, self.name)
            for m in self.expression.finditer(text)
            if m.end() > m.start()
        ]


def compile_rule(
    *,
    name: str,
    kind: str,
    pattern: str,
    case_sensitive: bool = False,
    action: str = "flag",
    applies_to: str = "input",
) -> CompiledRule:
    """Compile a rule, or raise RuleError naming what is wrong with it."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise RuleError("the pattern must not be empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RuleError(f"the pattern is longer than {MAX_PATTERN_CHARS} characters")
    if "\x00" in pattern:
        raise RuleError("the pattern must not hold a NUL character (write \\x00)")
    if kind == "keywords":
        source = _keywords(pattern)
    elif kind == "regex":
        if _has_byte_escape(pattern):
            raise RuleError(
                "\\C (any single byte) is not allowed: it can split a character"
            )
        source = pattern
    else:
        raise RuleError("kind must be keywords or regex")
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = case_sensitive
    options.max_mem = MAX_PROGRAM_BYTES
    try:
        expression = re2.compile(source, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise RuleError(
            f"the pattern is not a valid RE2 expression: {reason}"
        ) from None
    if expression.search("") is not None and kind == "regex":
        raise RuleError("the pattern matches empty text; it would match everywhere")
    return CompiledRule(name, action, applies_to, expression)


def _has_byte_escape(pattern: str) -> bool:
    """Return True if ``pattern`` uses ``\\C``, which matches one byte of UTF-8
    and so reports spans inside a character."""
    escaped = False
    for char in pattern:
        if escaped and char == "C":
            return True
        escaped = not escaped and char == "\\"
    return False


def _keywords(pattern: str) -> str:
    words = [line.strip() for line in pattern.splitlines() if line.strip()]
    if len(words) > MAX_KEYWORDS:
        raise RuleError(f"at most {MAX_KEYWORDS} keywords")
    too_long = [w for w in words if len(w) > MAX_KEYWORD_CHARS]
    if too_long:
        raise RuleError(f"a keyword is longer than {MAX_KEYWORD_CHARS} characters")
    return "|".join(
        _bounded(word) for word in sorted(set(words), key=len, reverse=True)
    )


def _bounded(word: str) -> str:
    """Match ``word`` as a whole word where it starts or ends with a letter."""
    escaped = re2.escape(word)
    start = r"\b" if word[0].isalnum() else ""
    end = r"\b" if word[-1].isalnum() else ""
    return f"{start}{escaped}{end}"
