"""Jailbreak and prompt-injection detection from weighted phrase rules.

``assess`` scores four categories from 0 to 1: ``instruction_hijacking``,
``role_confusion``, ``context_smuggling`` and ``delimiter_injection``.
Strong rules (weight 0.5 or more) count wherever they match; weak ones only
count together, within one window of text, so that a long honest document
that happens to say "fictional" here and "illegal" three pages later does
not add up to an attack.

``source`` says where the text came from. A tool result or a retrieved
document is data: anything in it that speaks to the model is context
smuggling, however politely phrased. The same words typed by the user are
the user's own request; text from ``system`` (the operator's own prompt) is
judged the same way.

An optional local classifier can be named in the
``GUARDRAILS_JAILBREAK_CLASSIFIER`` setting (a dotted path to a class whose
instances follow ``Classifier``); its scores are combined with the rules'.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from guardrails.findings import Finding
from guardrails.jailbreak_rules import (
    ANY_SOURCE,
    CATEGORIES,
    DELIMITER,
    HIJACK,
    ROLE,
    RULES,
    SMUGGLE,
    Rule,
)
from guardrails.normalise import INVISIBLE, views
from guardrails.prefilter import Prefilter

DETECTOR = "jailbreak"
ATTACK = "attack"
DEFAULT_THRESHOLD = 0.5
SOURCES = ("user", "system", "tool", "document")
DATA_SOURCES = frozenset({"tool", "document"})
STRONG = 0.5
# Weak signals must fall within this many characters of each other; the
# longest in-the-wild jailbreak templates run to a few thousand characters.
WINDOW = 3000
# Topic words ("illegal", "fictional") hint at an attack without making one:
# rules this weak add at most TOPIC_CAP together, however many match.
TOPIC = 0.2
TOPIC_CAP = 0.25
# A signal repeated within a window counts up to this many times, a topic
# once; keyed by whether the rule is a topic.
REPEATS = 3
_COUNTED = {False: REPEATS, True: 1}
# Enough evidence per rule; a megabyte of text must not yield a million spans.
MAX_FINDINGS_PER_RULE = 32
# How far after a key a rule's match may end (how far before it may begin is
# each rule's ``behind``).
AHEAD = 300
SKIP = 150
# Texts up to this long are read whole by each rule their keys wake; when
# the prefilter has named the few rules that may match, longer ones too.
SHORT = 2 * (AHEAD + SKIP)
SHORT_PREFILTERED = 4000


Span = tuple[int, int]
_AS_SPACES = "\r\n\t\v\f_\u2028\u2029\x85"
# Four or more words joined by hyphens, dots or slashes, no space between.
# Possessive, and from a word's start only: a megabyte of letters is read once.
_CHAINED = re.compile(r"(?<![^\W\d_])[^\W\d_]++(?:[-./][^\W\d_]++){3,}")
_CHAIN_MARKS = re.compile("[-./]")


@dataclass(frozen=True, slots=True)
class Assessment:
    """Per-category scores from 0 to 1 and the spans that raised them."""

    scores: Mapping[str, float]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def score(self) -> float:
        return max(self.scores.values(), default=0.0)

    def categories(self, threshold: float = DEFAULT_THRESHOLD) -> list[str]:
        return [name for name, value in self.scores.items() if value >= threshold]


class Classifier(Protocol):
    """A local model that scores text per category, from 0 to 1.

    A model that tells attacks from other text but not one kind from another
    answers under the key ``"attack"`` (``ATTACK``).
    """

    def scores(self, text: str, *, source: str) -> Mapping[str, float]: ...


def assess(text: str, *, source: str = "user") -> Assessment:
    """Return the per-category scores of ``text`` coming from ``source``."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    hits = _matches(text, source)
    separated = _separated(text)
    if separated is not None:
        seen = {(hit.rule, hit.start, hit.end) for hit in hits}
        hits += [
            hit
            for hit in _matches(separated, source)
            if (hit.rule, hit.start, hit.end) not in seen
        ]
    scores, findings = _score(hits)
    if source in DATA_SOURCES:
        smuggled = _either(scores[SMUGGLE], scores[HIJACK], scores[ROLE])
        scores[SMUGGLE] = round(smuggled, 4)
    classifier = _classifier(_classifier_path())
    if classifier is not None:
        findings += _combine(scores, classifier.scores(text, source=source), text)
    return Assessment(scores, tuple(sorted(findings, key=lambda f: f.start)))


def _separated(text: str) -> str | None:
    """Return ``text`` with hyphens, dots and slashes that chain words read
    as spaces ("ignore-the-above-and..."), or None if it chains none.

    A second reading, not a change of the first: rules match ``gpt-4``,
    ``role-play`` or ``a.i.`` with their punctuation. Same length, so spans
    stay those of ``text``.
    """
    if not _CHAINED.search(text):
        return None
    return _CHAINED.sub(lambda m: _CHAIN_MARKS.sub(" ", m.group()), text)


def assess_normalised(text: str, *, source: str = "user") -> Assessment:
    """Return ``assess`` over every view of ``text``, in original offsets.

    Views undo zero-width splitting, look-alike letters and base64 or hex
    encoding (see ``guardrails.normalise``); each category keeps its highest
    score over the views.
    """
    scores = dict.fromkeys(CATEGORIES, 0.0)
    findings: list[Finding] = []
    for view in views(text):
        seen = assess(view.text, source=source)
        for category, value in seen.scores.items():
            scores[category] = max(scores[category], value)
        for finding in seen.findings:
            findings.append(
                finding.shifted(*view.original_span(finding.start, finding.end))
            )
    return Assessment(scores, tuple(sorted(findings, key=lambda f: f.start)))


def flagged(assessment: Assessment, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Return True if any category reaches ``threshold``."""
    return assessment.score >= threshold


def is_attack(
    text: str, *, source: str = "user", threshold: float = DEFAULT_THRESHOLD
) -> bool:
    return flagged(assess(text, source=source), threshold)


def _matches(text: str, source: str) -> list[Finding]:
    # Line breaks, tabs and underscores between words read as spaces, so
    # "ignore\nall\nprevious" or "ignore_all_previous" is the phrase itself;
    # one character for one keeps every offset. Delimiter rules look for line
    # structure ("\n### System:"), so they read the text as it came.
    spaced = text
    for char in _AS_SPACES:
        if char in spaced:  # str.replace is far quicker than translate
            spaced = spaced.replace(char, " ")
    # Control and invisible characters between words read as spaces too
    # (inside a word, the normalised view removes them).
    if INVISIBLE.search(spaced):
        spaced = INVISIBLE.sub(" ", spaced)
    lowered, same_length = _lowered(spaced)
    raw_lowered = lowered if spaced is text else _lowered(text)[0]
    possible = _possible(lowered, raw_lowered) if same_length else None
    hits: list[Finding] = []
    for index, spans in _windows(spaced, lowered, source, possible).items():
        rule = RULES[index]
        as_came = rule.category == DELIMITER
        if rule.cased or not same_length:
            subject = text if as_came else spaced
        else:
            subject = raw_lowered if as_came else lowered
        pattern = _compiled(rule, not same_length and not rule.cased)
        if not same_length:
            spans = [(0, len(text))]
        for start, end in spans:
            hits.extend(_find(rule, pattern, subject, start, end))
    return hits


def _lowered(text: str) -> tuple[str, bool]:
    """Return ``text`` lowercased and whether its offsets are the original's."""
    lowered = text.lower()
    if len(lowered) != len(text):
        # The dotted capital I lower-cases to two characters; folded to "i"
        # first, offsets in the lowered text stay those of the original.
        lowered = text.replace("\u0130", "I").lower()
    # Should another character ever do the same, match that text case-blind.
    return lowered, len(lowered) == len(text)


def _possible(lowered: str, raw_lowered: str) -> set[int] | None:
    """Return the rules that may match (see ``guardrails.prefilter``).

    Delimiter rules read the text as it came, the others with line breaks as
    spaces; when the two differ, the delimiter rules get a pass of their own.
    """
    possible = _EVERY_RULE.possible(lowered)
    if possible is None or raw_lowered is lowered:
        return possible
    delimiters = _DELIMITER_RULES.possible(raw_lowered)
    if delimiters is None:
        return None
    return {i for i in possible if i not in _DELIMITER_INDEXES} | delimiters


def _windows(
    text: str, lowered: str, source: str, possible: set[int] | None = None
) -> dict[int, list[Span]]:
    """Return, per rule to run, the stretches of text around its keys.

    One pass of a single pattern built from every key finds where a rule
    could match; the rule's own pattern then only runs near those places.
    Rules outside ``possible`` (when known) cannot match and never run.
    """
    size = len(text)
    windows: dict[int, list[Span]] = {}
    if possible is not None and size <= SHORT_PREFILTERED:
        # A prompt this short is one window: each rule that may match reads
        # it all, once, key or no key (``gpt4`` has no key of its rule, and
        # the key scan reads ``act as an ai`` as ``act as`` alone).
        whole = [(0, size)]
        for index in sorted(possible & _ANCHORED):
            windows[index] = whole
    elif size <= SHORT:
        whole = [(0, size)]
        for match in _ANCHORS.finditer(lowered):
            start, key = match.start(), match.group()
            if len(key) <= 2 and start and lowered[start - 1].isalnum():
                continue
            for index in _KEY_RULES[key]:
                windows[index] = whole
    else:
        _keyed_windows(lowered, windows, possible)
    for index, rule in _WHOLE_TEXT:
        if source not in rule.sources:
            continue
        if possible is not None and index not in possible:
            continue
        haystack = text if rule.cased else lowered
        if not rule.keys or any(key in haystack for key in rule.keys):
            windows[index] = [(0, size)]
    return {i: spans for i, spans in windows.items() if source in RULES[i].sources}


def _keyed_windows(
    lowered: str, windows: dict[int, list[Span]], possible: set[int] | None
) -> None:
    size = len(lowered)
    skip_until: dict[str, int] = {}
    for match in _ANCHORS.finditer(lowered):
        start, key = match.start(), match.group()
        # Two-letter keys ("ai", "ki") must start a word, not end "again".
        if len(key) <= 2 and start and lowered[start - 1].isalnum():
            continue
        # A key repeated close by is already inside the window the first one
        # opened, which reaches SKIP further: text made of nothing but keys
        # costs one lookup per key, not a pass over every rule it wakes.
        if start < skip_until.get(key, -1):
            continue
        skip_until[key] = start + SKIP
        end = min(size, match.end() + AHEAD + SKIP)
        woken = _KEY_RULES[key] if possible is None else _KEY_RULES[key] & possible
        for index in woken:
            span = (max(0, start - RULES[index].behind), end)
            _extend(windows.setdefault(index, []), span)


def _extend(spans: list[Span], span: Span) -> None:
    if spans and span[0] <= spans[-1][1]:
        spans[-1] = (spans[-1][0], max(spans[-1][1], span[1]))
    else:
        spans.append(span)


def _anchored_keys() -> dict[str, set[int]]:
    """Return each key of the rules found by anchors, with the rules it wakes.

    Cased rules and rules that read only tool and document text scan the
    whole text instead. A key also wakes the rules of the keys inside it
    ("prompt" in "systemprompt"): the anchor pattern reports one key a place.
    """
    keys: dict[str, set[int]] = {}
    for index, rule in enumerate(RULES):
        if rule.cased or not rule.keys or rule.sources != ANY_SOURCE:
            continue
        for key in rule.keys:
            keys.setdefault(key.lower(), set()).add(index)
    return {
        key: set().union(*(rules for other, rules in keys.items() if other in key))
        for key in keys
    }


def _trie_pattern(words: Iterable[str]) -> str:
    """Return a pattern matching any of ``words``, longest first, as a trie."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_branch(trie)


def _trie_branch(node: dict[str, Any]) -> str:
    branches = [
        re.escape(char) + _trie_branch(node[char]) for char in sorted(node) if char
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        return f"(?:{body})?"
    return body


_KEY_RULES = _anchored_keys()
_ANCHORED = frozenset().union(*_KEY_RULES.values())
_WHOLE_TEXT = [(i, rule) for i, rule in enumerate(RULES) if i not in _ANCHORED]
_ANCHORS = re.compile(_trie_pattern(_KEY_RULES))
_DELIMITER_INDEXES = frozenset(
    i for i, rule in enumerate(RULES) if rule.category == DELIMITER
)
_EVERY_RULE = Prefilter((i, rule.pattern) for i, rule in enumerate(RULES))
_DELIMITER_RULES = Prefilter((i, RULES[i].pattern) for i in _DELIMITER_INDEXES)


def _find(
    rule: Rule, pattern: re.Pattern[str], text: str, start: int, end: int
) -> Iterable[Finding]:
    found, position = 0, start
    while found < MAX_FINDINGS_PER_RULE:
        match = pattern.search(text, position, end)
        if match is None:
            return
        begin, finish = match.span()
        if _inside_word(text, begin):
            position = begin + 1
            continue
        yield Finding(DETECTOR, rule.category, begin, finish, rule.weight, rule.name)
        found, position = found + 1, max(finish, begin + 1)


def _inside_word(text: str, start: int) -> bool:
    # Patterns carry no leading \b: it would stop the regular expression
    # engine from skipping ahead to the first letter, several times slower.
    return start > 0 and text[start].isalnum() and text[start - 1].isalnum()


@functools.cache
def _compiled(rule: Rule, ignore_case: bool) -> re.Pattern[str]:
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    return re.compile(_without_leading_boundaries(rule.pattern), flags)


def _without_leading_boundaries(pattern: str) -> str:
    """Return ``pattern`` with ``\\b`` removed where a top-level branch starts."""
    branches, depth, start = [], 0, 0
    escaped = in_class = False
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:index])
            start = index + 1
    branches.append(pattern[start:])
    return "|".join(branch.removeprefix(r"\b") for branch in branches)


def _score(hits: list[Finding]) -> tuple[dict[str, float], list[Finding]]:
    scores: dict[str, float] = {}
    kept: list[Finding] = []
    for category in CATEGORIES:
        mine = [hit for hit in hits if hit.type == category]
        strong = [hit for hit in mine if hit.confidence >= STRONG]
        weak_score, weak_kept = _best_window([h for h in mine if h.confidence < STRONG])
        strong_score = _noisy_or(_distinct(strong).values())
        scores[category] = round(_either(strong_score, weak_score), 4)
        kept += strong + weak_kept
    return scores, kept


def _best_window(weak: list[Finding]) -> tuple[float, list[Finding]]:
    """Return the best score of weak findings lying within one window."""
    weak.sort(key=lambda f: f.start)
    weights = _distinct(weak)
    best, best_span = 0.0, (0, 0)
    counts: dict[str, int] = {}
    first = 0
    for last, hit in enumerate(weak):
        before = counts.get(hit.rule, 0)
        counts[hit.rule] = before + 1
        while hit.start - weak[first].start > WINDOW:
            counts[weak[first].rule] -= 1
            first += 1
        if before >= _COUNTED[weights[hit.rule] <= TOPIC]:
            # A rule already counted in full gains nothing from this hit, and
            # hits that fell out of the window can only lower its score: it
            # cannot beat the best one.
            continue
        value = _window_score(weights, counts)
        if value > best:
            best, best_span = value, (first, last + 1)
    return best, weak[best_span[0] : best_span[1]]


def _window_score(weights: dict[str, float], counts: dict[str, int]) -> float:
    signals, topic = [], []
    for rule, count in counts.items():
        if count and weights[rule] <= TOPIC:
            topic.append(weights[rule])
        elif count:
            signals.append(_repeated(weights[rule], count))
    return _noisy_or([*signals, min(_noisy_or(topic), TOPIC_CAP)])


def _repeated(weight: float, count: int) -> float:
    # A signal repeated within the window is more telling than one mention,
    # with quickly diminishing returns.
    return 1 - (1 - weight) ** (1 + 0.5 * (min(count, REPEATS) - 1))


def _distinct(hits: Iterable[Finding]) -> dict[str, float]:
    return {hit.rule: hit.confidence for hit in hits}


def _noisy_or(weights: Iterable[float]) -> float:
    miss = 1.0
    for weight in weights:
        miss *= 1 - weight
    return 1 - miss


def _either(*scores: float) -> float:
    return _noisy_or(scores)


def _combine(
    scores: dict[str, float], extra: Mapping[str, float], text: str
) -> list[Finding]:
    extra = dict(extra)
    attack = extra.pop(ATTACK, None)
    if attack is not None:
        # "An attack, of no stated kind": evidence for the kind the rules
        # rate highest, or role confusion (personas and games, the attacks
        # that need no attack phrase) when they rate none.
        top = max(CATEGORIES, key=lambda c: scores[c]) if any(scores.values()) else ROLE
        extra[top] = _either(float(extra.get(top, 0.0)), float(attack))
    findings = []
    for category in CATEGORIES:
        value = min(max(float(extra.get(category, 0.0)), 0.0), 1.0)
        scores[category] = round(_either(scores[category], value), 4)
        if value >= DEFAULT_THRESHOLD:
            findings.append(
                Finding(DETECTOR, category, 0, len(text), value, "classifier")
            )
    return findings


def prepare() -> None:
    """Load the configured classifier and compile the prefilter now rather
    than on the first prompt (the shipped model takes about 80 ms to read,
    the prefilter about a second to compile)."""
    _classifier(_classifier_path())
    _EVERY_RULE.compile()
    _DELIMITER_RULES.compile()


def _classifier_path() -> str:
    if not settings.configured:
        return ""
    return str(getattr(settings, "GUARDRAILS_JAILBREAK_CLASSIFIER", "") or "")


@functools.cache
def _classifier(path: str) -> Classifier | None:
    if not path:
        return None
    return import_string(path)()  # type: ignore[no-any-return]
