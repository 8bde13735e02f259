"""Secrets never enter the audit trail: values are masked before they are written."""

from __future__ import annotations

import re
from typing import Any

MASK = "[masked]"

# Field names whose values are secret whatever they look like, matched as whole
# words of the name ("otp" masks "otp_secret", not "footprint").
_SECRET_WORDS = frozenset(
    {
        "secret", "password", "passwd", "pwd", "passphrase", "token", "apikey",
        "authorization", "credential", "credentials", "ciphertext", "wrapped",
        "cookie", "otp", "totp", "recovery", "signature", "datakey", "privatekey",
        "sessionid",
    }
)  # fmt: skip
_SECRET_PAIRS = (
    "api_key", "data_key", "private_key", "access_key", "session_key", "session_id",
)  # fmt: skip
# Names that match the above but hold no secret.
_SAFE_NAMES = frozenset({"hint", "key_hint", "api_key_id", "public_id", "token_count"})

# Values that are secrets wherever they appear, even inside free text.
_SECRET_VALUE = re.compile(
    r"wdn_(?:live|test)_[0-9a-z]{16}_[0-9A-Za-z]{20,}"  # gateway keys
    r"|sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"  # OpenAI, Anthropic
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"
    r"|glpat-[A-Za-z0-9_\-]{20,}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API keys
    r"|hf_[A-Za-z0-9]{30,}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"  # JWTs
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/\-]{16,}=*"
)
# user:password@ in URLs and connection strings.
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^/\s:@]*:)[^@\s/]+(?=@)")


def is_secret_name(name: str) -> bool:
    words = re.findall(
        r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    )
    joined = "_".join(words)
    if joined in _SAFE_NAMES:
        return False
    stems = {word.rstrip("0123456789") for word in words}  # password1, password2
    return bool(_SECRET_WORDS.intersection(stems)) or any(
        pair in joined for pair in _SECRET_PAIRS
    )


def mask_text(text: str) -> str:
    text = _SECRET_VALUE.sub(MASK, text)
    return _URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)


def mask(value: Any, *, name: str = "") -> Any:
    """Return ``value`` with every secret in it replaced by ``[masked]``."""
    if name and is_secret_name(name) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, dict):
        return {str(k): mask(v, name=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return MASK  # raw bytes in an audit record are key material or worse
    return value
