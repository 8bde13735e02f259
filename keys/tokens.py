"""The gateway key format: ``wdn_<env>_<public id>_<secret><checksum>``.

The checksum (CRC32 of everything before it, base62, 6 characters) lets a
mistyped or made-up key be refused before any cache, database or bcrypt work.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import bcrypt

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PUBLIC_ID_LENGTH = 16
SECRET_LENGTH = 40
CHECKSUM_LENGTH = 6
KEY_PATTERN = re.compile(
    rf"wdn_(live|test)_([0-9a-z]{{{PUBLIC_ID_LENGTH}}})_"
    rf"([0-9A-Za-z]{{{SECRET_LENGTH + CHECKSUM_LENGTH}}})"
)


@dataclass(frozen=True)
class ParsedKey:
    environment: str
    public_id: str
    full: str


def generate(environment: str) -> tuple[str, str]:
    """Return (full key, public id) for a new key."""
    public_id = "".join(
        secrets.choice(ALPHABET[:36]).lower() for _ in range(PUBLIC_ID_LENGTH)
    )
    secret = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
    body = f"wdn_{environment}_{public_id}_{secret}"
    return body + _checksum(body), public_id


def parse(candidate: str) -> ParsedKey | None:
    """Return the parsed key if it is well formed and its checksum matches."""
    match = KEY_PATTERN.fullmatch(candidate)
    if match is None:
        return None
    body, checksum = candidate[:-CHECKSUM_LENGTH], candidate[-CHECKSUM_LENGTH:]
    if not hmac.compare_digest(_checksum(body), checksum):
        return None
    return ParsedKey(environment=match[1], public_id=match[2], full=candidate)


def hash_secret(key: str, rounds: int) -> str:
    return bcrypt.hashpw(_prehash(key), bcrypt.gensalt(rounds)).decode()


def check_secret(key: str, stored_hash: str) -> bool:
    """Compare in constant time (bcrypt's own comparison)."""
    return bcrypt.checkpw(_prehash(key), stored_hash.encode())


def _prehash(key: str) -> bytes:
    # bcrypt reads at most 72 bytes; a SHA-256 digest, base64-encoded to stay free
    # of NUL bytes, keeps every character of the key significant.
    return binascii.b2a_base64(hashlib.sha256(key.encode()).digest(), newline=False)


def _checksum(body: str) -> str:
    value = binascii.crc32(body.encode())
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, remainder = divmod(value, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))
