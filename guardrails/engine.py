"""One request's guardrails: find values, apply the policy, redact, remember.

A ``Guard`` is made per request from the effective policy and the custom
rules. ``check`` scans one text for one direction and returns the text to
forward, or raises ``Blocked``. Every finding becomes a ``Hit`` (rule, type,
action, where, and a keyed hash of the value, never the value) for the
guardrail events. Redaction replaces a value by a typed, numbered placeholder
(``[EMAIL_1]``), the same one each time the value recurs in the request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guardrails import detectors as builtin
from guardrails.findings import Finding
from guardrails.policy import DETECTORS, applies
from guardrails.rules import CompiledRule
from guardrails.scanner import scan

logger = logging.getLogger(__name__)

ACTION_RANK = {"flag": 0, "redact": 1, "block": 2}
PLACEHOLDER_NAMES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "US_SSN": "SSN",
    "US_ITIN": "SSN",
    "CREDIT_CARD": "CARD",
    "IP_ADDRESS": "IP",
    "API_KEY": "API_KEY",
}


class RecentFindings:
    """What was found in recent short texts, for texts sent again and again
    (an application's system prompt, its tool definitions): a bounded,
    least-recently-used map, safe across threads."""

    def __init__(self, size: int) -> None:
        self._size, self._lock = size, threading.Lock()
        self._items: OrderedDict[tuple, tuple[Finding, ...]] = OrderedDict()

    def get(self, key: tuple) -> tuple[Finding, ...] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, key: tuple, found: tuple[Finding, ...]) -> None:
        with self._lock:
            self._items[key] = found
            if len(self._items) > self._size:
                self._items.popitem(last=False)


CACHED_CHARS = 8192
_recent = RecentFindings(4096)


@dataclass(frozen=True)
class Hit:
    detector: str
    type: str
    rule: str
    action: str
    direction: str
    location: str
    value_hash: str
    confidence: float


class Blocked(Exception):
    """The policy blocks this text; ``rule`` names what matched, never the value."""

    def __init__(self, rule: str, direction: str) -> None:
        super().__init__(rule)
        self.rule, self.direction = rule, direction


class GuardFailed(Exception):
    """A detector failed and the policy fails closed."""


def config_key(policy: dict[str, Any], rules: list[CompiledRule]) -> tuple:
    """What decides the findings: the same text under the same configuration
    finds the same values (see _recent)."""
    return (
        repr(sorted((k, repr(v)) for k, v in policy.items())),
        tuple((r.name, r.expression.pattern) for r in rules),
    )


class Guard:
    def __init__(
        self,
        policy: dict[str, Any],
        rules: list[CompiledRule],
        hash_key: bytes,
        *,
        config: tuple | None = None,
    ) -> None:
        """``config`` is ``config_key(policy, rules)``, given when it is known."""
        self.policy, self.rules, self._hash_key = policy, rules, hash_key
        self._config = config if config is not None else config_key(policy, rules)
        self.hits: list[Hit] = []
        self._placeholders: dict[str, str] = {}
        self._counts: Counter[str] = Counter()

    def active(self, direction: str) -> bool:
        """Whether anything in the policy acts on ``direction``."""
        return bool(self._acting(direction))

    def _acting(self, direction: str) -> list[dict[str, Any]]:
        """The detector and rule entries that act on ``direction``."""
        entries = [self.policy[name] for name in DETECTORS]
        entries += [_entry(rule) for rule in self.rules]
        return [entry for entry in entries if applies(entry, direction)]

    def check(self, text: str, *, direction: str, source: str, location: str) -> str:
        """Return ``text`` as it may be forwarded, or raise Blocked."""
        if not text:
            return text
        found = self.find(text, direction, source)
        if not found:
            return text
        decided = [(finding, self._action(finding)) for finding in found]
        for finding, action in decided:
            self.hits.append(self._hit(text, finding, action, direction, location))
        blocking = [f for f, action in decided if action == "block"]
        if blocking:
            raise Blocked(_rule_name(blocking[0]), direction)
        redacting = [f for f, action in decided if action == "redact"]
        return self._redact(text, redacting) if redacting else text

    def check_across(
        self, texts: list[str], *, direction: str, source: str, location: str
    ) -> list[str]:
        """Check values split across ``texts``, pieces a provider joins (the
        text parts of one message); return the pieces as they may be sent.

        Only values that cross from one piece to the next are acted on here:
        each piece was checked on its own. A redacted value's placeholder goes
        to the piece where the value starts.
        """
        ends, at = [], 0
        for text in texts:
            at += len(text)
            ends.append(at)
        joined = "".join(texts)
        crossing = [
            f
            for f in self.find(joined, direction, source)
            if any(f.start < end < f.end for end in ends[:-1])
        ]
        if not crossing:
            return texts
        decided = [(finding, self._action(finding)) for finding in crossing]
        for finding, action in decided:
            self.hits.append(self._hit(joined, finding, action, direction, location))
        blocking = [f for f, action in decided if action == "block"]
        if blocking:
            raise Blocked(_rule_name(blocking[0]), direction)
        redacting = _outermost([f for f, action in decided if action == "redact"])
        return self._split_redacted(joined, redacting, ends) if redacting else texts

    def _split_redacted(
        self, joined: str, findings: list[Finding], ends: list[int]
    ) -> list[str]:
        pieces, start = [], 0
        for end in ends:
            # Skip what a value begun in an earlier piece covers of this one.
            at = max([start] + [f.end for f in findings if f.start < start])
            out = []
            for finding in findings:
                if start <= finding.start < end:
                    out += [
                        joined[at : finding.start],
                        self._placeholder(joined, finding),
                    ]
                    at = finding.end
            out.append(joined[at:end] if at < end else "")
            pieces.append("".join(out))
            start = end
        return pieces

    def restore(self, text: str) -> str:
        """Put back the values the request's placeholders stand for."""
        for value, placeholder in self._placeholders.items():
            if placeholder in text:
                text = text.replace(placeholder, value)
        return text

    def find(self, text: str, direction: str, source: str) -> list[Finding]:
        """What the policy's detectors find, unrecorded and unapplied."""
        wanted = self.detectors(direction, source)
        if not wanted:
            return []
        key = (
            (text, direction, source, self._config)
            if len(text) <= CACHED_CHARS
            else None
        )
        cached = _recent.get(key) if key is not None else None
        if cached is not None:
            return list(cached)
        try:
            found = scan(text, wanted)
        except Exception:
            if self.policy["on_error"] == "open":
                logger.warning("a guardrail detector failed; the text goes unscanned")
                return []
            logger.exception("a guardrail detector failed; the request is refused")
            raise GuardFailed from None
        if key is not None:
            _recent.put(key, tuple(found))
        return found

    def only_flags(self, direction: str) -> bool:
        """Whether everything acting on ``direction`` only flags (never alters)."""
        return all(entry["action"] == "flag" for entry in self._acting(direction))

    @property
    def restores(self) -> bool:
        """Whether the answer gets the redacted values back."""
        return bool(self.policy["restore_placeholders"] and self._placeholders)

    def detectors(self, direction: str, source: str) -> list[Callable]:
        wanted: list[Callable] = []
        if applies(self.policy["pii"], direction):
            wanted.append(builtin.pii(self.policy["phone_region"]))
        if applies(self.policy["secrets"], direction):
            wanted.append(builtin.secrets)
        if applies(self.policy["jailbreak"], direction):
            threshold = self.policy["jailbreak"]["threshold"]
            wanted.append(builtin.jailbreak(source, threshold))
        rules = [r for r in self.rules if applies(_entry(r), direction)]
        if rules:
            wanted.append(lambda text: [f for r in rules for f in r.findings(text)])
        return wanted

    def _action(self, finding: Finding) -> str:
        if finding.detector == "custom":
            return next(r.action for r in self.rules if r.name == finding.rule)
        return self.policy[finding.detector]["action"]

    def _hit(
        self, text: str, finding: Finding, action: str, direction: str, location: str
    ) -> Hit:
        value = text[finding.start : finding.end]
        digest = hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()
        return Hit(
            finding.detector,
            finding.type,
            finding.rule or finding.type,
            action,
            direction,
            f"{location}[{finding.start}:{finding.end}]",
            digest[:32],
            finding.confidence,
        )

    def _redact(self, text: str, findings: list[Finding]) -> str:
        pieces, last = [], 0
        for finding in _outermost(findings):
            pieces += [text[last : finding.start], self._placeholder(text, finding)]
            last = finding.end
        pieces.append(text[last:])
        return "".join(pieces)

    def _placeholder(self, text: str, finding: Finding) -> str:
        value = text[finding.start : finding.end]
        placeholder = self._placeholders.get(value)
        if placeholder is None:
            name = _placeholder_name(finding)
            self._counts[name] += 1
            placeholder = f"[{name}_{self._counts[name]}]"
            self._placeholders[value] = placeholder
        if _json_number(text, finding.start, finding.end):
            # A bare placeholder in place of a JSON number would break the
            # JSON (tool-call arguments, say): it goes in as a string.
            return f'"{placeholder}"'
        return placeholder


def _entry(rule: CompiledRule) -> dict[str, str]:
    return {"action": rule.action, "applies_to": rule.applies_to}


def _outermost(findings: list[Finding]) -> list[Finding]:
    """The findings to replace, left to right, an overlapped one merged in."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if kept and finding.start < kept[-1].end:
            if finding.end > kept[-1].end:
                kept[-1] = kept[-1].shifted(kept[-1].start, finding.end)
            continue
        kept.append(finding)
    return kept


_JSON_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_JSON_BEFORE = re.compile(r'(?:"\s*:|\[|,)\s*$')


def _json_number(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a number in a JSON value's place: after
    a member's colon (``"card": ``), an array's bracket or a comma in an
    array of numbers. Only what comes before is looked at, so a stream's
    piece held back after the value does not matter."""
    if not _JSON_NUMBER.fullmatch(text, start, end):
        return False
    before = text[max(0, start - 40) : start]
    if not _JSON_BEFORE.search(before):
        return False
    if before.rstrip().endswith(","):
        # After a comma: only inside an array, as JSON has it ("[1, 2, ...").
        return "[" in before and "{" not in before[before.rfind("[") :]
    return True


def _placeholder_name(finding: Finding) -> str:
    if finding.detector == "pii":
        return PLACEHOLDER_NAMES.get(finding.type, finding.type)
    if finding.detector == "secrets":
        return "SECRET"
    return "".join(c if c.isalnum() else "_" for c in finding.type.upper())


def _rule_name(finding: Finding) -> str:
    if finding.detector == "custom":
        return finding.rule
    return f"{finding.detector}: {finding.type}"
