"""A guardrail policy: what each detector and custom rule does, and where.

A stored policy is a JSON object; ``normalise_policy`` is the one place that
checks it and gives it its stored form. An organisation's policy applies to
all its projects; a project's policy overrides single entries of it. What the
proxy applies is ``effective_policy``: the defaults, then the organisation's
entries, then the project's.

Entries:

- ``pii``, ``secrets``, ``jailbreak``: ``{"action": ..., "applies_to": ...}``
  where ``action`` is ``block``, ``redact``, ``flag`` (record and let
  through) or ``off`` and ``applies_to`` is ``input``, ``output`` or
  ``both``. Jailbreak detection only blocks or flags: there is no value to
  redact. ``jailbreak`` also takes a ``threshold`` from 0 to 1.
- ``on_error``: ``closed`` (the default: a detector that fails blocks the
  request; unscanned text is never forwarded) or ``open``.
- ``restore_placeholders``: put the original values back where the model's
  answer repeats a redaction placeholder.
- ``phone_region``: the region phone numbers without a country code are read
  in (``US``, ``GB``, ``DE`` ...).
"""

from __future__ import annotations

import copy
from typing import Any

DETECTORS = ("pii", "secrets", "jailbreak")
ACTIONS = ("block", "redact", "flag", "off")
DIRECTIONS = ("input", "output", "both")
FAILURE_MODES = ("closed", "open")
JAILBREAK_THRESHOLD = 0.5

DEFAULT_POLICY: dict[str, Any] = {
    "pii": {"action": "flag", "applies_to": "both"},
    # Secrets leave the company in prompts; redacting them in answers as well
    # (applies_to "both") holds streamed answers back by a few characters.
    "secrets": {"action": "redact", "applies_to": "input"},
    "jailbreak": {
        "action": "flag",
        "applies_to": "input",
        "threshold": JAILBREAK_THRESHOLD,
    },
    "on_error": "closed",
    "restore_placeholders": False,
    "phone_region": "US",
}

# The demo organisation shows the strict end of the range.
DEMO_POLICY: dict[str, Any] = {
    "pii": {"action": "redact", "applies_to": "both"},
    "secrets": {"action": "redact", "applies_to": "both"},
    "jailbreak": {"action": "block", "applies_to": "input"},
}


class PolicyError(ValueError):
    """A policy that cannot be stored; the message says which part."""


def normalise_policy(policy: Any) -> dict[str, Any]:
    """Return the stored form of a (partial) policy, or raise PolicyError."""
    if policy is None:
        return {}
    if not isinstance(policy, dict):
        raise PolicyError("the policy must be a JSON object")
    known = {*DETECTORS, "on_error", "restore_placeholders", "phone_region"}
    unknown = sorted(set(policy) - known)
    if unknown:
        raise PolicyError(f"unknown policy entry {unknown[0]!r}")
    result: dict[str, Any] = {}
    for name in DETECTORS:
        if policy.get(name) is not None:
            result[name] = _detector(name, policy[name])
    if policy.get("on_error") is not None:
        result["on_error"] = _choice("on_error", policy["on_error"], FAILURE_MODES)
    if policy.get("restore_placeholders") is not None:
        if type(policy["restore_placeholders"]) is not bool:
            raise PolicyError("restore_placeholders must be true or false")
        result["restore_placeholders"] = policy["restore_placeholders"]
    if policy.get("phone_region") is not None:
        result["phone_region"] = _region(policy["phone_region"])
    return result


def effective_policy(*layers: dict[str, Any] | None) -> dict[str, Any]:
    """The defaults overridden by each stored layer in turn."""
    policy = copy.deepcopy(DEFAULT_POLICY)
    for layer in layers:
        for name, value in (layer or {}).items():
            if name in DETECTORS:
                policy[name] = {**policy[name], **value}
            else:
                policy[name] = value
    return policy


def applies(entry: dict[str, Any], direction: str) -> bool:
    """Whether a detector or rule entry acts on ``direction`` (input/output)."""
    return entry["action"] != "off" and entry["applies_to"] in (direction, "both")


def check_rule_action(action: Any, applies_to: Any) -> tuple[str, str]:
    """Check a custom rule's action and direction; return them."""
    return (
        _choice("action", action, ACTIONS),
        _choice("applies_to", applies_to, DIRECTIONS),
    )


def _detector(name: str, entry: Any) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise PolicyError(f"{name} must be an object with action and applies_to")
    allowed = {"action", "applies_to"}
    if name == "jailbreak":
        allowed.add("threshold")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise PolicyError(f"{name}: unknown setting {unknown[0]!r}")
    result: dict[str, Any] = {}
    if "action" in entry:
        result["action"] = _choice(f"{name}.action", entry["action"], ACTIONS)
        if name == "jailbreak" and result["action"] == "redact":
            raise PolicyError("jailbreak.action must be block, flag or off")
    if "applies_to" in entry:
        result["applies_to"] = _choice(
            f"{name}.applies_to", entry["applies_to"], DIRECTIONS
        )
    if "threshold" in entry:
        threshold = entry["threshold"]
        if type(threshold) not in (int, float) or not 0 < threshold <= 1:
            raise PolicyError("jailbreak.threshold must be a number above 0, up to 1")
        result["threshold"] = float(threshold)
    return result


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise PolicyError(f"{name} must be one of {', '.join(choices)}")
    return value


def _region(value: Any) -> str:
    import phonenumbers

    region = value.upper() if isinstance(value, str) else ""
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise PolicyError(f"phone_region {value!r} is not a known region code")
    return region
