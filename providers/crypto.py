"""Envelope encryption of provider credentials with AES-256-GCM.

Each organisation has a data key, stored only wrapped by a master key from the
``MASTER_KEYS`` keyring. Every ciphertext is ``nonce (12 bytes) || ciphertext
|| tag`` and is bound by its associated data to the organisation, the row and
the purpose, so a ciphertext copied to another row or tenant fails to decrypt.
"""

from __future__ import annotations

import os

from django.conf import settings

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


class CryptoError(Exception):
    """A key is missing or wrong, or a ciphertext was tampered with."""


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encrypt(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    _check_key(key)
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def decrypt(key: bytes, blob: bytes, associated_data: bytes) -> bytes:
    _check_key(key)
    if len(blob) < NONCE_BYTES + 16:
        raise CryptoError("ciphertext is truncated")
    try:
        return AESGCM(key).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data
        )
    except InvalidTag:
        raise CryptoError("ciphertext failed authentication") from None


def keyring() -> list[tuple[str, bytes]]:
    """Return the keyring in force now.

    ``settings.MASTER_KEYS`` re-reads the secret through its cache, so a
    rotated keyring is used within ``SECRETS_CACHE_SECONDS``. One snapshot per
    operation keeps a rotation from landing halfway through it.
    """
    return list(settings.MASTER_KEYS)


def active_master_key() -> tuple[str, bytes]:
    return keyring()[0]


def master_key(key_id: str) -> bytes:
    for known_id, key in keyring():
        if known_id == key_id:
            return key
    raise CryptoError(f"master key {key_id!r} is not in MASTER_KEYS")


def data_key_aad(organization_id: int) -> bytes:
    return f"warden:data-key:org={organization_id}".encode()


def credential_aad(organization_id: int, row_id: object, purpose: str) -> bytes:
    return f"warden:{purpose}:org={organization_id}:row={row_id}".encode()


def wrap(data_key: bytes, organization_id: int) -> tuple[str, bytes]:
    """Return (master key id, wrapped data key) under the active master key."""
    key_id, key = active_master_key()
    return key_id, encrypt(key, data_key, data_key_aad(organization_id))


def unwrap(key_id: str, wrapped: bytes, organization_id: int) -> bytes:
    data_key = decrypt(master_key(key_id), wrapped, data_key_aad(organization_id))
    _check_key(data_key)
    return data_key


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise CryptoError(f"AES-256 keys are {KEY_BYTES} bytes, not {len(key)}")
