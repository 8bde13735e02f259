"""What a jailbreak rule is, the categories and the helpers rule files share."""

from __future__ import annotations

from dataclasses import dataclass

HIJACK = "instruction_hijacking"
ROLE = "role_confusion"
SMUGGLE = "context_smuggling"
DELIMITER = "delimiter_injection"
CATEGORIES = (HIJACK, ROLE, SMUGGLE, DELIMITER)

ANY_SOURCE = frozenset({"user", "system", "tool", "document"})
DATA_SOURCE = frozenset({"tool", "document"})

# Up to five words inside one sentence ("all of the"), then a separator. It
# steps a word at a time, so a pattern tries at most six places after it.
GAP = r"(?:[^\w.!?\n]+\w+){0,5}?[^\w.!?\n]+"


@dataclass(frozen=True, slots=True)
class Rule:
    """A phrase pattern, the category it signals and how strongly."""

    name: str
    category: str
    weight: float
    keys: tuple[str, ...]
    pattern: str
    cased: bool = False
    sources: frozenset[str] = ANY_SOURCE
    # How far before a key the match may begin: a rule whose keys open its
    # phrase needs only a few characters ("pay no attention" for "no
    # attention"), others a sentence.
    behind: int = 120


def words(*alternatives: str) -> str:
    """Return a non-capturing group of ``alternatives``."""
    return "(?:" + "|".join(alternatives) + ")"
