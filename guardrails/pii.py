"""Personal data in a text: emails, phones, SSNs, payment cards, IPs, API keys.

Every pattern is anchored so that a scan is linear in the text: candidates
start where the previous character cannot extend them, quantifiers are
bounded, and the costly checks (phone parsing) run only on short candidates.
"""

from __future__ import annotations

import ipaddress
import math
import re
from bisect import bisect_left
from collections import Counter
from functools import lru_cache
from itertools import accumulate

import phonenumbers

from guardrails.findings import Finding

DETECTOR = "pii"
CONTEXT_BEFORE = 48
TOKEN_REACH = 128

# Regions tried, after the caller's own, for numbers written in a national
# format without a country code; a match there is reported less confidently.
FALLBACK_REGIONS = ("GB", "DE", "FR", "IT", "ES", "NL", "BE", "CH", "AU", "IN")
# A candidate can cost up to 22 parses; past this many in one text, each costs
# one (valid in the policy's region), so a text full of numbers stays cheap.
THOROUGH_PHONES = 200
# Past this many, a candidate is judged by its shape alone (no parse at all):
# leaning towards reporting, so a flood of numbers costs linear time and
# cannot hide a phone number in its middle.
PARSED_PHONES = 2000

# Digit runs with gaps of up to MERGE_GAP characters, as one stretch.
_DIGIT_CLUSTER = re.compile(r"[0-9]+(?:[^0-9]{1,3}[0-9]+)*")
_NON_DIGITS = re.compile(r"[^0-9]+")
_WHITESPACE = re.compile(r"\s")
# RFC 5322 allows / = ? and & in the part before the @ too; in practice they
# are a URL's ("https://x.test/?email=jane@example.com"), where the address
# starts after them.
_EMAIL_LOCAL = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%'*+^_`{|}~.-"
)
_EMAIL_DOMAIN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9-])"
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}"
    r"(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:])"
)
_VERSION_WORD = re.compile(r"\b(?:version|release|build|ver\.?|v)\s*$", re.IGNORECASE)
_UUID = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)
_DATE = re.compile(
    r"(?<!\d)(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?(?!\d)"
)
_CARD = re.compile(r"(?<![\w.-])\d(?:[ \n/_-]?\d){11,18}(?!\d|\.\d)")
_SSN = re.compile(r"(?<![\w.-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w-]|\.\d)")
_PHONE = re.compile(
    r"(?<![\w.+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,15}"
    r"(?:[ .-]{1,2}\(?\d{1,12}\)?){0,6}(?:[ ]?(?:x|ext\.?)[ ]?\d{1,6})?(?![\w])"
)
_API_KEY = re.compile(
    r"(?<![\w-])(?:"
    r"(?:sk|pk|rk)(?:-proj|-ant-api03|-svcacct|_live|_test)?[-_][A-Za-z0-9_-]{20,200}"
    r"|gh[opusr]_[A-Za-z0-9]{30,80}|github_pat_[A-Za-z0-9_]{40,120}"
    r"|glpat-[A-Za-z0-9_-]{20,60}|xox[abprs]-[A-Za-z0-9-]{10,120}"
    r"|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|hf_[A-Za-z0-9]{30,60}"
    r"|wdn_(?:live|test)_[A-Za-z0-9_]{16,120}"
    r")(?![\w-])"
)
# Context words, matched in lower case at the start of a word (checked after
# matching, since a leading \b would stop the regex engine skipping ahead).
_SSN_CONTEXT = re.compile(
    r"ssn|ss#|ss no|social security|social sec|itin|taxpayer|tax id"
)
_CARD_CONTEXT = re.compile(
    r"card|cc|credit|debit|visa|master ?card|amex|american express|maestro"
    r"|discover|jcb|diners|unionpay|pan|payment|cvv|expir"
)
_PHONE_CONTEXT = re.compile(
    r"phone|tel|telephone|mobile|cell|call|fax|desk|contact|dial"
    r"|sms|text|whatsapp|reach"
)
# Words that name a number as something other than a phone.
_OTHER_NUMBER_CONTEXT = re.compile(
    r"(?:licen[cs]e|passport|account|acct|order|invoice|ticket|tracking"
    r"|reference|ref|zip|postal|post ?code|iban|routing|serial|policy|case|id"
    r"|isbn|issn|doi|sku|part|model|version)"
    r"(?![a-z])"
)

# Issuer prefixes as (lowest, highest, lengths): a number is a card of that
# issuer when its leading digits, as many as ``lowest`` has, fall in range.
_VISA = range(13, 20)
_SIXTEEN_UP = range(16, 20)
_CARD_ISSUERS = (
    ("4", "4", _VISA),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),
    ("300", "305", range(14, 20)),  # Diners Club
    ("3095", "3095", range(14, 20)),
    ("36", "36", range(14, 20)),
    ("38", "39", range(14, 20)),
    ("6011", "6011", _SIXTEEN_UP),  # Discover
    ("644", "649", _SIXTEEN_UP),
    ("65", "65", _SIXTEEN_UP),
    ("3528", "3589", _SIXTEEN_UP),  # JCB
    ("2131", "2131", (15,)),
    ("1800", "1800", (15,)),
    ("62", "62", _SIXTEEN_UP),  # UnionPay
    ("81", "81", _SIXTEEN_UP),
    ("2200", "2204", _SIXTEEN_UP),  # Mir
    ("50", "50", range(12, 20)),  # Maestro
    ("56", "69", range(12, 20)),
    ("1", "1", (15,)),  # UATP
)
MIN_UNPROMPTED_CARD_LENGTH = 14


def detect_pii(text: str, *, region: str = "US") -> list[Finding]:
    """Return the personal data found in ``text``.

    ``region`` is the ISO country whose national phone formats are tried first.
    """
    findings = _emails(text)
    for start, end in number_windows(text):
        findings += _numbers(text, start, end, region.upper())
    return findings


def number_windows(text: str) -> list[tuple[int, int]]:
    """Return the stretches of ``text`` that hold digits, widened to whole tokens.

    Every pattern below except the email one needs a digit, so they run only
    inside these windows; prose without digits costs one scan.
    """
    clusters = _DIGIT_CLUSTER.finditer(text)
    return _merge([_widen(text, *match.span()) for match in clusters])


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    # Lookbehinds still see before the window; lookaheads need one more char.
    low = start
    while low > 0 and start - low < TOKEN_REACH and not text[low - 1].isspace():
        low -= 1
    right = _WHITESPACE.search(text, end, end + TOKEN_REACH)
    high = right.end() if right else min(len(text), end + TOKEN_REACH + 1)
    return low, high


def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in windows:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _numbers(text: str, start: int, end: int, region: str) -> list[Finding]:
    words = _Words(text, start, end)
    found = _ip_addresses(text, start, end)
    found += _cards(text, start, end, words) + _ssns(text, start, end, words)
    blocked = [(f.start, f.end) for f in found]
    blocked += [m.span() for m in _UUID.finditer(text, start, end)]
    blocked += [m.span() for m in _DATE.finditer(text, start, end)]
    found += _phones(text, start, end, region, words, _Spans(blocked))
    return found + _api_keys(text, start, end)


class _Words:
    """Where context words occur in and just before one window of a text.

    Each pattern is searched once per window, on first use, so asking about
    every candidate in a window full of numbers stays linear.
    """

    def __init__(self, text: str, start: int, end: int) -> None:
        self.start = max(0, start - CONTEXT_BEFORE)
        window = text[self.start : end]
        lowered = window.lower()
        # A few letters change length in lower case; keep offsets aligned.
        self.lowered = lowered if len(lowered) == len(window) else window
        self.before_window = text[self.start - 1] if self.start else " "
        self.found: dict[re.Pattern[str], list[int]] = {}

    def before(self, position: int, pattern: re.Pattern[str]) -> bool:
        """Return True if ``pattern`` starts a word within CONTEXT_BEFORE of it."""
        if pattern not in self.found:
            self.found[pattern] = self._word_starts(pattern)
        starts = self.found[pattern]
        index = bisect_left(starts, position)
        return index > 0 and starts[index - 1] >= position - CONTEXT_BEFORE

    def _word_starts(self, pattern: re.Pattern[str]) -> list[int]:
        starts = []
        for match in pattern.finditer(self.lowered):
            at = match.start()
            previous = self.lowered[at - 1] if at else self.before_window
            if not previous.isalnum():
                starts.append(self.start + at)
        return starts


class _Spans:
    """Sorted spans that answer "does this overlap any?" by bisection."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self.starts = [start for start, _ in spans]
        self.reach = list(accumulate((end for _, end in spans), max))

    def overlap(self, start: int, end: int) -> bool:
        index = bisect_left(self.starts, end)
        return index > 0 and self.reach[index - 1] > start


def _finding(type_: str, start: int, end: int, confidence: float, rule: str) -> Finding:
    return Finding(DETECTOR, type_, start, end, confidence, rule)


# Emails ------------------------------------------------------------------


def _emails(text: str) -> list[Finding]:
    found = []
    at = text.find("@")
    while at != -1:
        email = _email_at(text, at)
        if email:
            found.append(_finding("EMAIL_ADDRESS", *email, 0.95, "email"))
        at = text.find("@", at + 1)
    return found


def _email_at(text: str, at: int) -> tuple[int, int] | None:
    start = at
    while start > 0 and at - start < 64 and text[start - 1] in _EMAIL_LOCAL:
        start -= 1
    while start < at and text[start] == ".":
        start += 1
    domain = _EMAIL_DOMAIN.match(text, at + 1)
    if start == at or text[at - 1] == "." or domain is None:
        return None
    return start, domain.end()


# IP addresses ------------------------------------------------------------


def _ip_addresses(text: str, start: int, end: int) -> list[Finding]:
    found = [
        _finding("IP_ADDRESS", *m.span(), 0.9, "ipv4")
        for m in _IPV4.finditer(text, start, end)
        if _valid_ip(m.group()) and not _after_version_word(text, m.start())
    ]
    found += [
        _finding("IP_ADDRESS", *m.span(), 0.9, "ipv6")
        for m in _IPV6.finditer(text, start, end)
        if _plausible_ipv6(m.group())
    ]
    return found


def _valid_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _plausible_ipv6(candidate: str) -> bool:
    # "::" and "a::b" parse as addresses but are far likelier to be code.
    has_digit = _NON_DIGITS.fullmatch(candidate) is None
    return len(candidate) >= 6 and has_digit and _valid_ip(candidate)


def _after_version_word(text: str, start: int) -> bool:
    return _VERSION_WORD.search(text[max(0, start - 12) : start]) is not None


# Payment cards -----------------------------------------------------------


def _cards(text: str, start: int, end: int, words: _Words) -> list[Finding]:
    found = []
    for match in _CARD.finditer(text, start, end):
        digits = _NON_DIGITS.sub("", match.group())
        named = words.before(match.start(), _CARD_CONTEXT)
        confidence = _card_confidence(digits, named)
        if confidence:
            found.append(_finding("CREDIT_CARD", *match.span(), confidence, "card"))
    return found


def _card_confidence(digits: str, named: bool) -> float:
    """Return how sure ``digits`` is a card number; 0 when it is not one.

    A known issuer prefix suffices for 14 digits and more. Shorter numbers, or
    ones with a prefix outside the table, need the text to call them a card.
    """
    if not luhn_valid(digits):
        return 0.0
    known = card_issuer_known(digits)
    if known and len(digits) >= MIN_UNPROMPTED_CARD_LENGTH:
        return 0.95 if named else 0.85
    if named:
        return 0.8 if known else 0.6
    return 0.0


def luhn_valid(digits: str) -> bool:
    """Return True if the string of digits passes the Luhn checksum."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_issuer_known(digits: str) -> bool:
    """Return True if ``digits`` has a known issuer's prefix and length."""
    for lowest, highest, lengths in _CARD_ISSUERS:
        prefix = digits[: len(lowest)]
        if lowest <= prefix <= highest and len(digits) in lengths:
            return True
    return False


# US social security numbers ----------------------------------------------


def _ssns(text: str, start: int, end: int, words: _Words) -> list[Finding]:
    found = []
    for match in _SSN.finditer(text, start, end):
        finding = _ssn_finding(match, words.before(match.start(), _SSN_CONTEXT))
        if finding:
            found.append(finding)
    return found


def _ssn_finding(match: re.Match[str], context: bool) -> Finding | None:
    area, separator, group, serial = match.groups()
    if area in ("000", "666") or group == "00" or serial == "0000":
        return None
    if area.startswith("9"):
        # Never issued as SSNs, but ITINs use the 9xx range; only context tells.
        return _finding("US_ITIN", *match.span(), 0.6, "itin") if context else None
    if not separator and not context:
        return None
    return _finding("US_SSN", *match.span(), 0.95 if context else 0.85, "ssn")


# Phone numbers -----------------------------------------------------------


def _phones(
    text: str, low: int, high: int, region: str, words: _Words, blocked: _Spans
) -> list[Finding]:
    found = []
    tried = 0
    for match in _PHONE.finditer(text, low, high):
        start, end = match.span()
        digits = len(_NON_DIGITS.sub("", match.group()))
        if digits < 7 or blocked.overlap(start, end):
            continue
        context = words.before(start, _PHONE_CONTEXT)
        if not context and words.before(start, _OTHER_NUMBER_CONTEXT):
            continue
        tried += 1
        if tried > PARSED_PHONES:
            spans = _phone_shaped(match.group(), context)
        else:
            thorough = tried <= THOROUGH_PHONES
            spans = _phone_spans(match.group(), region, context, thorough)
        for offset, length, confidence in spans:
            found.append(
                _finding(
                    "PHONE_NUMBER",
                    start + offset,
                    start + offset + length,
                    confidence,
                    "phone",
                )
            )
    return found


@lru_cache(maxsize=4096)
def _phone_spans(
    candidate: str, region: str, context: bool, thorough: bool = True
) -> tuple[tuple[int, int, float], ...]:
    """Return (offset, length, confidence) of each phone number in ``candidate``.

    Numbers valid in ``region`` come first; then ones valid in a fallback
    region; then, when the text names a phone nearby or the digits are grouped
    like one, numbers of a possible length in ``region`` or a fallback region.
    Not ``thorough``: numbers valid in ``region`` only, one parse.
    """
    leniency = phonenumbers.Leniency.VALID
    if not thorough:
        return _match_phones(candidate, region, leniency, 0.85)
    for regions, confidence in (((region,), 0.85), (FALLBACK_REGIONS, 0.7)):
        for each in regions:
            spans = _match_phones(candidate, each, leniency, confidence)
            if spans:
                return spans
    if not (context or _grouped_like_phone(candidate)):
        return ()
    leniency = phonenumbers.Leniency.POSSIBLE
    for each in (region, *FALLBACK_REGIONS):
        spans = _match_phones(candidate, each, leniency, 0.5)
        if spans:
            return spans
    return ()


def _phone_shaped(candidate: str, context: bool) -> tuple[tuple[int, int, float], ...]:
    digits = len(_NON_DIGITS.sub("", candidate))
    if 7 <= digits <= 15 and (context or _grouped_like_phone(candidate)):
        return ((0, len(candidate), 0.4),)
    return ()


def forget_phone_cache() -> None:
    """Empty the cache of parsed phone candidates (for fair benchmarks)."""
    _phone_spans.cache_clear()


def _match_phones(
    candidate: str, region: str, leniency: int, confidence: float
) -> tuple[tuple[int, int, float], ...]:
    matcher = phonenumbers.PhoneNumberMatcher(candidate, region, leniency=leniency)
    return tuple((m.start, m.end - m.start, confidence) for m in matcher)


def _grouped_like_phone(candidate: str) -> bool:
    # Two groups are as often a house number and a postcode as a phone.
    groups = re.findall(r"\d+", candidate)
    return candidate.startswith(("+", "(")) or 3 <= len(groups) <= 6


# API keys ----------------------------------------------------------------


def _api_keys(text: str, start: int, end: int) -> list[Finding]:
    found = []
    for match in _API_KEY.finditer(text, start, end):
        token = match.group()
        if _entropy(token) >= 3.0 and _NON_DIGITS.fullmatch(token) is None:
            found.append(_finding("API_KEY", *match.span(), 0.8, "prefixed-token"))
    return found


def _entropy(token: str) -> float:
    """Return the Shannon entropy of ``token`` in bits per character."""
    counts = Counter(token)
    size = len(token)
    return -sum(n / size * math.log2(n / size) for n in counts.values())
