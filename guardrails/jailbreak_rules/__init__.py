"""Phrase rules for the jailbreak detector, by category.

Patterns are written in lower case: they run over ``text.lower()`` unless
marked ``cased``. Each rule names ``keys``: one pass of a pattern built from
every key finds where a rule could match, and the rule's own pattern runs only
around those places (see ``jailbreak._windows``); most prose wakes few rules.

Weights are the confidence one match carries. Rules of 0.5 or more decide on
their own at the default threshold; weaker ones only count together with
others close by (see ``jailbreak._score``). Gaps between words are bounded
(``{0,40}``) so that no pattern can backtrack beyond a fixed window.
"""

from __future__ import annotations

from guardrails.jailbreak_rules.base import (
    ANY_SOURCE,
    CATEGORIES,
    DATA_SOURCE,
    DELIMITER,
    HIJACK,
    ROLE,
    SMUGGLE,
    Rule,
)
from guardrails.jailbreak_rules.delimiters import DELIMITER_RULES
from guardrails.jailbreak_rules.hijacking import HIJACK_RULES
from guardrails.jailbreak_rules.role import ROLE_RULES
from guardrails.jailbreak_rules.role_signals import ROLE_SIGNALS
from guardrails.jailbreak_rules.smuggling import SMUGGLE_RULES

RULES = [*HIJACK_RULES, *ROLE_RULES, *ROLE_SIGNALS, *SMUGGLE_RULES, *DELIMITER_RULES]

__all__ = [
    "ANY_SOURCE",
    "CATEGORIES",
    "DATA_SOURCE",
    "DELIMITER",
    "HIJACK",
    "ROLE",
    "RULES",
    "SMUGGLE",
    "Rule",
]
