"""Hyperscan passes for the detectors: which jailbreak rules can match a
text (``Prefilter``), and where the secrets keywords occur (``Literals``).

A dense prompt wakes a dozen rules by their keys, and most of them then find
nothing: each still reads the text with ``re``. Hyperscan runs every rule at
once, in compiled code, and says which could match; only those run in ``re``,
which still decides every finding.

Hyperscan is told to look for a loosened form of each rule, one that matches
everything the rule matches and maybe more:

- ``\\b`` and ``\\B`` are dropped (Hyperscan reads word boundaries in ASCII,
  Python in Unicode);
- ``\\w``, ``\\d`` and ``\\s`` also take every non-ASCII character, for the same
  reason, and ``\\s`` the separators ``\\x1c`` to ``\\x1f``, which Python counts
  as space (a negated class already takes them all);
- a bounded repeat ``{m,n}`` becomes ``*`` or ``+``: bounded repeats make
  Hyperscan's automata grow fast (the exact patterns take a minute to
  compile, these about a second);
- whatever else Hyperscan cannot do, its prefilter mode widens.

The database is compiled on first use, once per process (``jailbreak.prepare``
does it at a worker's start). A text that is not valid UTF-8 (lone
surrogates) is not prefiltered: every rule runs.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable

import hyperscan

_NON_ASCII = r"\x{80}-\x{10FFFF}"
# What Python's \w, \d and \s match beyond Hyperscan's: every non-ASCII
# character, and for \s the four ASCII separators \x1c to \x1f as well.
_WIDER = {
    r"\w": _NON_ASCII,
    r"\d": _NON_ASCII,
    r"\s": r"\x1c-\x1f" + _NON_ASCII,
}
_BOUNDARIES = frozenset({r"\b", r"\B"})
_BOUNDED = re.compile(r"(?<!\\)\{(\d*),?(\d*)\}\??")
# (pattern id, start, end, flags, context) -> True to stop the scan
OnMatch = Callable[[int, int, int, int, object], bool | None]
_FLAGS = (
    hyperscan.HS_FLAG_SINGLEMATCH
    | hyperscan.HS_FLAG_MULTILINE
    | hyperscan.HS_FLAG_UTF8
    | hyperscan.HS_FLAG_PREFILTER
    | hyperscan.HS_FLAG_ALLOWEMPTY
    | hyperscan.HS_FLAG_CASELESS
)


class _Database:
    """Expressions compiled once, on first use, with a scratch per thread."""

    def __init__(self, expressions: list[bytes], ids: list[int], flags: int) -> None:
        self._expressions = expressions
        self._ids = ids
        self._flags = flags
        self._local = threading.local()
        self._lock = threading.Lock()
        self._database: hyperscan.Database | None = None

    def compile(self) -> hyperscan.Database:
        """Return the database, compiling it on the first call."""
        if self._database is None:
            with self._lock:
                if self._database is None:
                    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                    database.compile(
                        expressions=self._expressions,
                        ids=self._ids,
                        elements=len(self._ids),
                        flags=[self._flags] * len(self._ids),
                    )
                    self._database = database
        return self._database

    def _scan(self, data: bytes, on_match: OnMatch) -> None:
        database = self.compile()
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(database)
        database.scan(data, match_event_handler=on_match, scratch=scratch)


class Prefilter(_Database):
    """A compiled set of patterns; ``possible(text)`` names those that may match.

    Matching is case-blind: callers that match case-sensitively get a wider
    answer, never a narrower one.
    """

    def __init__(self, patterns: Iterable[tuple[int, str]]) -> None:
        chosen = list(patterns)
        super().__init__(
            [loosened(pattern).encode() for _, pattern in chosen],
            [index for index, _ in chosen],
            _FLAGS,
        )

    def possible(self, text: str) -> set[int] | None:
        """Return the ids whose pattern may match ``text``, or None if unknown."""
        try:
            data = text.encode()
        except UnicodeEncodeError:
            return None
        found: set[int] = set()
        self._scan(data, lambda index, *_: found.add(index))
        return found


class Literals(_Database):
    """Where words occur in ASCII text: ``starts(text)`` gives, for each place
    a word starts, the longest word starting there."""

    def __init__(self, words: Iterable[str]) -> None:
        self._words = sorted(set(words))
        super().__init__(
            [_literal(word).encode() for word in self._words],
            list(range(len(self._words))),
            0,
        )

    def starts(self, text: str) -> list[tuple[int, str]] | None:
        """Return (position, word) in text order, or None for non-ASCII text
        (Hyperscan counts bytes; the caller then reads the text itself)."""
        if not text.isascii():
            return None
        longest: dict[int, str] = {}
        words = self._words

        def on_match(index: int, _from: int, end: int, _flags: int, _: object) -> None:
            word = words[index]
            start = end - len(word)
            if len(word) > len(longest.get(start, "")):
                longest[start] = word

        self._scan(text.encode(), on_match)
        return sorted(longest.items())


def _literal(word: str) -> str:
    return "".join(f"\\x{{{ord(char):x}}}" for char in word)


@functools.cache
def loosened(pattern: str) -> str:
    """Return a Hyperscan pattern matching at least what ``pattern`` matches."""
    pattern = _BOUNDED.sub(_unbounded, pattern)
    out: list[str] = []
    index, size = 0, len(pattern)
    in_class = negated = False
    while index < size:
        char = pattern[index]
        if char == "\\":
            escape = pattern[index : index + 2]
            index += 2
            if escape in _BOUNDARIES and not in_class:
                continue
            if escape in _WIDER:
                if not in_class:
                    escape = f"[{escape}{_WIDER[escape]}]"
                elif not negated:
                    escape += _WIDER[escape]
            out.append(escape)
            continue
        index += 1
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            negated = pattern.startswith("^", index)
            if negated:
                out.append("[^")
                index += 1
                char = ""
            if pattern.startswith("]", index):
                # A "]" first in a class is a literal.
                out.append(char + "]")
                index += 1
                continue
        out.append(char)
    return "".join(out)


def _unbounded(match: re.Match[str]) -> str:
    return "+" if int(match.group(1) or 0) else "*"
