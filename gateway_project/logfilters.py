"""Log filters: links that carry a secret (an invitation's token, a
password reset key) are logged without it, and anything shaped like a key is
masked."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass

# /invitations/<org>/<token>/ and allauth's /password/reset/key/<uid>-<key>/.
SECRET_PATHS = re.compile(
    r"(/invitations/[\w-]+/)[^/\s\"']+|(/password/reset/key/)[^/\s\"']+"
)


def _masked(text: str) -> str:
    return SECRET_PATHS.sub(lambda m: (m.group(1) or m.group(2)) + "…", text)


class SecretPathFilter(logging.Filter):
    """Mask secret path segments in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _masked(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _masked(a) if isinstance(a, str) else a for a in record.args
            )
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            record.request = _MaskedRequest(request)
        return True


class _MaskedRequest:
    """The request as a log record shows it, with its path masked."""

    def __init__(self, request: object) -> None:
        self._request = request

    def __getattr__(self, name: str) -> object:
        value = getattr(self._request, name)
        return (
            _masked(value)
            if name in ("path", "path_info") and isinstance(value, str)
            else value
        )

    def __str__(self) -> str:
        return _masked(str(self._request))

    def __repr__(self) -> str:
        return _masked(repr(self._request))


class QuietRefusals(logging.Filter):
    """A refused request (403, 404) is one line, not a traceback: only
    errors (500s) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.request" and record.levelno < logging.ERROR:
            record.exc_info = None
            record.exc_text = None
        return True


# Anything shaped like a credential, masked in every log line as a last line
# of defence: code that logs a key by mistake still writes none. The formats
# follow keys/tokens.py (gateway keys), accounts/tokens.py (management tokens)
# and the commonest of guardrails/secret_rules.py, whose full table is too
# slow to run on every line. Each rule runs only when one of its literal
# triggers occurs in the lowercased line, all found by one scan, so a line
# without a key costs that scan and one for long runs of token characters.
MASK = "[masked]"
_EDGE = r"(?<![A-Za-z0-9_-])"


@dataclass(frozen=True)
class _Shape:
    triggers: frozenset[str]
    pattern: re.Pattern[str]


def _shape(triggers: str, regex: str, *, folded: bool = False) -> _Shape:
    flags = re.ASCII | re.DOTALL | (re.IGNORECASE if folded else 0)
    return _Shape(frozenset(triggers.lower().split()), re.compile(regex, flags))


# Group "keep", when a rule has it, is written out before the mask: a gateway
# key's public id, the name a value was assigned to.
_SHAPES = (
    _shape(
        "wdn_ wmt_",
        r"(?P<keep>wdn_(?:live|test)_[0-9a-z]{16}_|wmt_[0-9a-f]{16}_)[\w-]{4,}"
        rf"|{_EDGE}(?:wdn|wmt)_[\w-]{{8,}}",
    ),
    _shape(
        "sk- sk_ rk_ pk_", rf"{_EDGE}(?:sk-[\w-]{{12,}}|[srp]k_(?:live|test)_\w{{12,}})"
    ),
    _shape("AKIA ASIA ABIA ACCA", rf"{_EDGE}(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{{16}}"),
    _shape("gh github_pat_", rf"{_EDGE}(?:gh[pousr]_\w{{20,}}|github_pat_\w{{20,}})"),
    _shape("xox", rf"{_EDGE}xox[a-z]-[\w-]{{8,}}"),
    _shape(
        "AIza glpat- hvs. hvb. hvr.",
        rf"{_EDGE}(?:AIza[\w-]{{30,}}|glpat-[\w-]{{16,}}|hv[sbr]\.[\w-]{{20,}})",
    ),
    _shape("eyJ", rf"{_EDGE}ey[\w-]{{10,}}\.ey[\w-]{{10,}}\.[\w-]*"),
    _shape(
        "PRIVATE",
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.{0,20000}?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|.{0,20000})",
    ),
    _shape("bearer", r"(?P<keep>\bbearer\s+)[\w.~+/=-]{8,}+(?!\[masked)", folded=True),
    _shape(
        "pass secret key authorization",
        r"(?P<keep>(?:password|passwd|secret|api[_-]?key|access[_-]?key|private[_-]?key"
        r"|authorization)[\"']?\s{0,3}[:=]\s{0,3}[\"']?)(?!\[masked\]|bearer\s)"
        r"[^\s\"',;&]{6,}",
        folded=True,
    ),
    # A password inside a URL: scheme://user:password@host.
    _shape("://", r"(?P<keep>://[^\s:/@'\"]{1,64}:)[^\s/@'\"]{1,128}(?=@)"),
)
# Long runs of token characters, judged by _random(): a generated secret in a
# URL path is masked too (ordinary paths are lowercase, or short).
_TRIGGERS = re.compile(
    "|".join(re.escape(t) for shape in _SHAPES for t in sorted(shape.triggers))
)
_RUN = re.compile(r"(?<![A-Za-z0-9+=_-])[A-Za-z0-9+_=-][A-Za-z0-9+/=_-]{31,}")
_HEX = re.compile(r"[0-9a-fA-F]{40,}")


def _random(run: str) -> bool:
    """Whether a long run of token characters looks like a generated secret.

    Mixed case with digits and varied enough, or 40 and more hex digits (a
    UUID, or a request id in hex, is shorter); paths and identifiers are
    neither.
    """
    if _HEX.fullmatch(run):
        return True
    if run.isalpha() or run.lower() == run or run.upper() == run:
        return False
    if not any(c.isdigit() for c in run):
        return False
    size = len(run)
    counts = Counter(run).values()
    return -sum(n / size * math.log2(n / size) for n in counts) >= 3.5


def _masked_shape(match: re.Match[str]) -> str:
    return (match.groupdict().get("keep") or "") + MASK


def _masked_run(match: re.Match[str]) -> str:
    run = match[0]
    in_path = match.start() > 0 and match.string[match.start() - 1] == "/"
    if not in_path:
        return MASK if _random(run) else run
    # A path: judge each segment long enough to be a secret on its own.
    return "/".join(
        MASK if len(part) >= 32 and _random(part) else part for part in run.split("/")
    )


def mask_secrets(text: str) -> str:
    """Return ``text`` with everything shaped like a credential masked."""
    found = set(_TRIGGERS.findall(text.lower()))
    if found:
        for shape in _SHAPES:
            if not found.isdisjoint(shape.triggers):
                text = shape.pattern.sub(_masked_shape, text)
    return _RUN.sub(_masked_run, text)


def looks_secret(text: str) -> bool:
    return mask_secrets(text) != text


class KeyMaskFilter(logging.Filter):
    """Mask key-shaped values in a record's message, exception and stack.

    The message is formatted here, once, so a key passed as an argument is
    masked like one written into the message itself.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A malformed logging call: the handler reports it when it
            # formats the record; the message is masked as it stands.
            message, record.args = str(record.msg), None
        masked = mask_secrets(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


_FORMATTER = logging.Formatter()
