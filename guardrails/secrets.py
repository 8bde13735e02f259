"""Find credentials in text: service tokens, private keys, passwords.

One pass over the lowercased text finds which rule keywords occur; only the
rules of those keywords run (see ``secret_rules``). The same pass yields the
places where a secret-like name (``password``, ``api_key``, ``token`` ...)
may be assigned a value, which the generic check reads without another scan.
Placeholders (``<your-key>``, ``${VAR}``, ``xxxx``, documented examples) are
never findings.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Iterator

from guardrails.findings import Finding
from guardrails.prefilter import Literals
from guardrails.secret_rules import PUBLISHED_SHA256, RULES, Rule

DETECTOR = "secrets"
GENERIC = "generic-password"
GENERIC_CONFIDENCE = 0.6
PROSE_CONFIDENCE = 0.5
# Parts of an assigned name that make it secret-like, and, for ``key``, the
# word before it that does (``api_key`` yes, ``bucket_key`` no).
# The word for password in the other major European languages, written
# without accents as they are in configuration: German, Dutch, Portuguese,
# Polish, Spanish (and "passe" of the French "mot de passe").
FOREIGN_PASSWORDS = "passwort kennwort wachtwoord senha haslo contrasena passe"
SECRET_WORDS = frozenset(
    "password passwd pwd pass passphrase passcode secret token apikey apitoken "
    "accesstoken authtoken secretkey accesskey privatekey credential credentials "
    f"creds auth authorization {FOREIGN_PASSWORDS}".split()
)
KEY_QUALIFIERS = frozenset(
    "api access secret private auth client app master encryption signing account "
    "service shared session subscription storage admin consumer webhook license "
    "sas".split()
)
# Names that contain a secret word but hold public or non-secret values.
NOT_SECRET_PARTS = frozenset(
    "csrf xsrf public pub publishable page next continuation cursor".split()
)
PASSWORD_WORDS = frozenset(
    f"password passwd pwd passphrase passcode {FOREIGN_PASSWORDS}".split()
)
GENERIC_KEYWORDS = (
    "pass", "pwd", "secret", "token", "key", "auth", "cred",
    "kennwort", "wachtwoord", "senha", "haslo", "contrasena",
)  # fmt: skip
# Only a password is said in prose ("my password is ..."); other names must
# be assigned with an operator.
PROSE_KEYWORDS = frozenset({"pass", "pwd"})
# For the rare text whose lowercase form is longer than itself.
GENERIC_SCAN = re.compile("(?i)" + "|".join(GENERIC_KEYWORDS), re.ASCII)
TRIVIAL_VALUES = frozenset(
    "password passwd pass pwd secret token key apikey api_key changeme change_me "
    "admin root user username guest test testing demo default example sample "
    "null none nil true false undefined required optional string str int bool "
    "empty value redacted hidden masked unset todo tbd".split()
)
QUOTES = "'\"`"
NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")
PRIVATE_KEY = "private-key"
PEM_END = re.compile(r"-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----", re.ASCII)
PEM_BODY = re.compile(r"[A-Za-z0-9+/=\s\\:,.-]*", re.ASCII)
PEM_MAX_BODY = 20_000

PLACEHOLDER = re.compile(
    r"(?i)x{4,}|\*{3,}|#{4,}|\.\.\.|example|placeholder|redacted|change_?me|"
    r"replace_?me|insert_?your|your[_-]?(?:own[_-]?)?(?:api[_-]?|access[_-]?)?"
    r"(?:key|token|secret|password|pass)|[<>]|\$\{|\{\{|%\(|\$\(|"
    r"^\$(?:[A-Z_]|\d)|^\[.*\]$",
    re.ASCII,
)
NAME_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", re.ASCII)
ASSIGNMENT = re.compile(
    r"([\w.-]{0,60})(\\?[\"'`]?)[ \t]{0,3}(=>|:{1,3}=|\?=|=|:|,)[ \t]{0,3}"
    r"(?:(?:bearer|basic|token|digest|api-token)[ \t]{1,3})?",
    re.ASCII | re.IGNORECASE,
)
PROSE_ASSIGNMENT = re.compile(r"([\w.-]{0,60})[ \t]{1,3}(?:is|was)[ \t]{1,3}", re.ASCII)
UNQUOTED = re.compile(r"[^\s'\"`;,)\]}&]{1,300}")
WORD = re.compile(r"\S{1,300}")
NAME_RUN = re.compile(r"[\w.-]*", re.ASCII)
MAX_NAME = 60
# Capitalised or camel-case words (``Authorization``, ``getAccessToken``).
WORDS_VALUE = re.compile(r"[A-Za-z][a-z]+(?:[A-Z][a-z]+)*", re.ASCII)
ATTRIBUTE_CHAIN = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+", re.ASCII)
TOKEN_LIKE_PART = re.compile(r"(?=[^.]*\d)(?=[^.]*[A-Za-z])[^.]{10,}", re.ASCII)
CODE_VALUE = re.compile(
    r"[A-Z][A-Z0-9_]*|[A-Za-z]+(?:_[A-Za-z]+)+|[$%@:\[{(/].*|.*[(\[].*|"
    r"https?:.*|.*\.(?:pem|key|json|txt|crt|p12|pfx|ya?ml|env|cer|jks)",
    re.ASCII | re.DOTALL,
)


def _trie_regex(words: Iterable[str]) -> str:
    """Return a regex matching any of ``words``, shaped as a prefix tree.

    A flat alternation makes ``re`` try every word at every position; a tree
    tries one branch per character, so the cost does not grow with the count.
    """
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _branch(tree)


def _branch(node: dict[str, dict]) -> str:
    arms = [re.escape(char) + _branch(child) for char, child in node.items() if char]
    if not arms:
        return ""
    body = arms[0] if len(arms) == 1 else "(?:" + "|".join(arms) + ")"
    return f"(?:{body})?" if "" in node else body


def _index(rules: Iterable[Rule]) -> dict[str, tuple[Rule, ...]]:
    by_keyword: dict[str, list[Rule]] = {}
    for rule in rules:
        for keyword in rule.keywords:
            by_keyword.setdefault(keyword, []).append(rule)
    return {keyword: tuple(found) for keyword, found in by_keyword.items()}


RULES_BY_KEYWORD = _index(RULES)
KEYWORDS = frozenset(RULES_BY_KEYWORD) | frozenset(GENERIC_KEYWORDS)
# A lookahead at every position also reports a keyword that starts inside
# the one before (``eyj`` in ``keyj``), still in one pass. The longest keyword
# starting at a position is reported; the keywords inside it are implied.
KEYWORD_SCAN = re.compile(f"(?=({_trie_regex(sorted(KEYWORDS))}))")
KEYWORD_LITERALS = Literals(KEYWORDS)
IMPLIED = {
    found: frozenset(word for word in KEYWORDS if word in found) for found in KEYWORDS
}
# The generic keyword a longer keyword starts with (``key-`` starts ``key``).
GENERIC_PREFIX = {
    found: next((word for word in GENERIC_KEYWORDS if found.startswith(word)), "")
    for found in KEYWORDS
}


def detect_secrets(text: str) -> list[Finding]:
    """Return a finding for every secret value in ``text``, in text order."""
    hits = keyword_hits(text)
    present: set[str] = set()
    for keyword in {word for _, word in hits}:
        present |= IMPLIED[keyword]
    findings = [f for rule in candidate_rules(present) for f in _apply(rule, text)]
    findings.extend(_generic(text, hits, present))
    return _resolve(findings)


def keyword_hits(text: str) -> list[tuple[int, str]]:
    """Return (position, keyword) for the keywords found in ``text``.

    Positions index ``text`` itself unless lowercasing changed its length
    (a few non-ASCII letters do); then they are -1 and only presence counts.
    ASCII text is read by Hyperscan, other text by ``KEYWORD_SCAN``.
    """
    lowered = text.lower()
    found = KEYWORD_LITERALS.starts(lowered)
    if found is not None:
        return found
    aligned = len(lowered) == len(text)
    return [
        (match.start() if aligned else -1, match.group(1))
        for match in KEYWORD_SCAN.finditer(lowered)
    ]


def candidate_rules(present: Iterable[str]) -> list[Rule]:
    """Return the rules, each once, whose keywords are among ``present``."""
    chosen: dict[int, Rule] = {}
    for keyword in present:
        for rule in RULES_BY_KEYWORD.get(keyword, ()):
            chosen.setdefault(id(rule), rule)
    return list(chosen.values())


def _apply(rule: Rule, text: str) -> Iterator[Finding]:
    # A PEM block spans lines up to its END line; one regex would rescan the
    # rest of the text from every BEGIN line that has no END.
    if rule.id == PRIVATE_KEY:
        yield from _private_keys(rule, text)
        return
    for match in rule.pattern.finditer(text):
        value = match.group(1)
        if rule.entropy and entropy(value) < rule.entropy:
            continue
        if rule.needs_digit and not any(char.isdigit() for char in value):
            continue
        if is_placeholder(value) or is_published(value):
            continue
        yield Finding(
            DETECTOR, rule.id, match.start(1), match.end(1), rule.confidence, rule.id
        )


def _private_keys(rule: Rule, text: str) -> Iterator[Finding]:
    """Yield each PEM private key block, from its BEGIN line to its END line.

    The END line is searched once per block, not once per BEGIN line, so a
    text of many BEGIN lines and no END stays linear.
    """
    covered = next_end = -1
    end_match: re.Match[str] | None = None
    for match in rule.pattern.finditer(text):
        if match.start() < covered:
            continue
        if next_end < match.end():
            end_match = PEM_END.search(text, match.end())
            next_end = end_match.start() if end_match else len(text) + 1
        if end_match is None or next_end - match.end() > PEM_MAX_BODY:
            continue
        body = PEM_BODY.match(text, match.end(), next_end)
        if body is None or body.end() != next_end or _is_thin(body.group()):
            continue
        covered = end_match.end()
        yield Finding(
            DETECTOR, rule.id, match.start(), covered, rule.confidence, rule.id
        )


def _is_thin(body: str) -> bool:
    """Return True for a PEM body too short or too uniform to hold a key."""
    letters = [char for char in body if char.isalnum()]
    return len(letters) < 20 or is_placeholder("".join(letters))


def entropy(value: str) -> float:
    """Return the Shannon entropy of ``value`` in bits per character."""
    if not value:
        return 0.0
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values())


def is_placeholder(value: str) -> bool:
    """Return True if ``value`` is a template, a mask or a documented example."""
    if value.strip(QUOTES).lower() in TRIVIAL_VALUES:
        return True
    return bool(PLACEHOLDER.search(value)) or len(set(value)) <= 2


def is_published(value: str) -> bool:
    """Return True for a key its owner published on purpose (see
    ``secret_rules.PUBLISHED_SHA256``)."""
    return hashlib.sha256(value.encode()).hexdigest() in PUBLISHED_SHA256


# Generic assignments ------------------------------------------------------


def _generic(
    text: str, hits: list[tuple[int, str]], present: set[str]
) -> list[Finding]:
    if present.isdisjoint(GENERIC_KEYWORDS):
        return []
    if hits and hits[0][0] < 0:
        hits = [(m.start(), m.group().lower()) for m in GENERIC_SCAN.finditer(text)]
    findings = []
    done_until = -1
    for position, keyword in hits:
        generic = GENERIC_PREFIX.get(keyword, "")
        if not generic or position < done_until:
            continue
        finding, done_until = _assignment(text, position, generic in PROSE_KEYWORDS)
        if finding is not None:
            findings.append(finding)
    return findings


def _name_start(text: str, position: int) -> int:
    """Return where the name holding the keyword at ``position`` begins."""
    start = position
    while start > 0 and position - start < MAX_NAME and text[start - 1] in NAME_CHARS:
        start -= 1
    return start


def _assignment(
    text: str, position: int, may_be_prose: bool
) -> tuple[Finding | None, int]:
    """Return the finding for a secret assigned to the name around ``position``.

    Also return where the next keyword is worth reading from.
    """
    match = ASSIGNMENT.match(text, position)
    prose = False
    if match is None or (match.group(3) == "," and not match.group(2)):
        if not may_be_prose:
            return None, _skip_name(text, position)
        match = PROSE_ASSIGNMENT.match(text, position)
        prose = True
    if match is None:
        return None, _skip_name(text, position)
    name = text[_name_start(text, position) : match.end(1)]
    if not _secret_name(name, prose):
        return None, match.end(1)
    span = _value_span(text, match.end(), prose)
    if span is None:
        return None, match.end()
    begin, end, quoted = span
    if not _secret_value(text[begin:end], quoted, prose):
        return None, match.end()
    confidence = PROSE_CONFIDENCE if prose else GENERIC_CONFIDENCE
    return Finding(DETECTOR, GENERIC, begin, end, confidence, GENERIC), end


def _skip_name(text: str, position: int) -> int:
    """Return where to read the next keyword after a name with no assignment.

    Keywords further inside the same name end at the same place, so they fail
    the same way; only the last ``MAX_NAME`` characters are worth reading
    again. Skipping them keeps a long run of keywords (``keykeykey...``) linear.
    """
    end = NAME_RUN.match(text, position)
    return max(position + 1, (end.end() if end else position) - MAX_NAME)


def _secret_name(name: str, prose: bool) -> bool:
    """Return True if the last word of ``name`` says it holds a secret."""
    parts = [part.lower() for part in NAME_PARTS.findall(name)]
    if not parts or NOT_SECRET_PARTS.intersection(parts):
        return False
    last = parts[-1]
    if prose:
        return last in PASSWORD_WORDS
    if last == "key":
        return len(parts) > 1 and parts[-2] in KEY_QUALIFIERS
    return last in SECRET_WORDS


def _value_span(text: str, index: int, prose: bool) -> tuple[int, int, bool] | None:
    if text.startswith("\\", index) and text[index + 1 : index + 2] in QUOTES:
        index += 1
    quote = text[index : index + 1]
    if quote and quote in QUOTES:
        end = text.find(quote, index + 1, index + 302)
        if end < 0:
            return None
        if text[end - 1] == "\\":
            end -= 1
        return index + 1, end, True
    match = (WORD if prose else UNQUOTED).match(text, index)
    if match is None:
        return None
    value = match.group()
    if not value.endswith(".."):
        value = value.rstrip(".:!?")
    return index, index + len(value), False


def _secret_value(value: str, quoted: bool, prose: bool) -> bool:
    """Return True if ``value`` looks like a real credential, not code or prose."""
    if not 8 <= len(value) <= 500 or any(char.isspace() for char in value):
        return False
    if is_placeholder(value) or entropy(value) < 2.5 or is_published(value):
        return False
    kinds = _char_kinds(value)
    if prose:
        return len(kinds) >= 3
    if quoted:
        return len(kinds) >= 2 or entropy(value) >= 3.0
    if CODE_VALUE.fullmatch(value) or _is_attribute_chain(value):
        return False
    if kinds == {"lower", "upper"}:
        return len(value) >= 12 and not WORDS_VALUE.fullmatch(value)
    return len(kinds) >= 2


def _is_attribute_chain(value: str) -> bool:
    """Return True for ``settings.SECRET_KEY``, not for ``s.Zc9Ecf4M5g9o34``."""
    if not ATTRIBUTE_CHAIN.fullmatch(value):
        return False
    return not any(TOKEN_LIKE_PART.fullmatch(part) for part in value.split("."))


def _char_kinds(value: str) -> set[str]:
    kinds = set()
    for char in value:
        if char.islower():
            kinds.add("lower")
        elif char.isupper():
            kinds.add("upper")
        elif char.isdigit():
            kinds.add("digit")
        else:
            kinds.add("symbol")
    return kinds


def _resolve(findings: list[Finding]) -> list[Finding]:
    """Return findings without overlaps, preferring the surer and longer one."""
    ranked = sorted(findings, key=lambda f: (-f.confidence, f.start - f.end, f.start))
    starts: list[int] = []
    kept: list[Finding] = []
    for finding in ranked:
        at = bisect.bisect_right(starts, finding.start)
        if at and kept[at - 1].end > finding.start:
            continue
        if at < len(kept) and kept[at].start < finding.end:
            continue
        starts.insert(at, finding.start)
        kept.insert(at, finding)
    return kept
