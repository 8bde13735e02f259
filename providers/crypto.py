"""Envelope encryption of provider credentials with AES-256-GCM.

Each organisation has a data key, stored only wrapped by a master key from the
``MASTER_KEYS`` keyring. Every ciphertext is ``nonce (12 bytes) || ciphertext
|| tag`` and is bound by its associated data to the organisation, the row and
the purpose, so a ciphertext copied to another row or tenant fails to decrypt.
With ``MASTER_KEY_BACKEND=vault-transit`` data keys are wrapped by a Vault
Transit key instead (``providers/transit.py``); those wrapped by the keyring
still unwrap while it holds their key.
"""

from __future__ import annotations

import base64
import os

from django.conf import settings

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
TRANSIT_BACKEND = "vault-transit"
TRANSIT_KEY_PREFIX = "transit:"


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


def active_key_id() -> str:
    """Return the id of the master key that wraps new data keys."""
    if settings.MASTER_KEY_BACKEND == TRANSIT_BACKEND:
        from providers import transit  # it builds on this module

        return transit.active_key_id()
    return active_master_key()[0]


def wrap(data_key: bytes, organization_id: int) -> tuple[str, bytes]:
    """Return (master key id, wrapped data key) under the active master key."""
    if settings.MASTER_KEY_BACKEND == TRANSIT_BACKEND:
        from providers import transit

        return transit.wrap(data_key, organization_id)
    key_id, key = active_master_key()
    return key_id, encrypt(key, data_key, data_key_aad(organization_id))


def unwrap(key_id: str, wrapped: bytes, organization_id: int) -> bytes:
    if key_id.startswith(TRANSIT_KEY_PREFIX):
        from providers import transit

        data_key = transit.unwrap(key_id, wrapped, organization_id)
    else:
        aad = data_key_aad(organization_id)
        data_key = decrypt(master_key(key_id), wrapped, aad)
    _check_key(data_key)
    return data_key


def rewrap(
    key_id: str, wrapped: bytes, organization_id: int
) -> tuple[str, bytes] | None:
    """Return the data key wrapped under the active master key, None if it is.

    One under an older version of the active Transit key is rewrapped inside
    Vault by Transit's ``rewrap``; any other is unwrapped and wrapped again.
    """
    if key_id != active_key_id():
        return wrap(unwrap(key_id, wrapped, organization_id), organization_id)
    if not key_id.startswith(TRANSIT_KEY_PREFIX):
        return None
    from providers import transit

    rewrapped = transit.rewrap(key_id, wrapped, organization_id)
    return None if rewrapped is None else (key_id, rewrapped)


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise CryptoError(f"AES-256 keys are {KEY_BYTES} bytes, not {len(key)}")


# Small secrets of the platform itself (a person's TOTP key, say) ----------
SEALED_PREFIX = "sealed1:"


def seal_text(text: str, purpose: str) -> str:
    """Return ``text`` encrypted under the active master key, as printable text.

    The key is derived from the master key for ``purpose``, so a sealed value
    opens only for the purpose it was sealed for. The master key's id is kept
    with it: a value opens while MASTER_KEYS still holds that key.
    """
    ring = keyring()
    if not ring:
        # Shortcut: under MASTER_KEY_BACKEND=vault-transit with no keyring
        # these values have no key; sealing them with Transit is not built.
        raise CryptoError("MASTER_KEYS is empty: nothing to seal this value with")
    key_id, master = ring[0]
    blob = encrypt(_purpose_key(master, purpose), text.encode(), purpose.encode())
    return f"{SEALED_PREFIX}{key_id}:{base64.urlsafe_b64encode(blob).decode()}"


def open_text(value: str, purpose: str) -> str:
    """Return the text ``seal_text`` sealed; a value never sealed as it is."""
    if not value.startswith(SEALED_PREFIX):
        return value
    key_id, _, encoded = value[len(SEALED_PREFIX) :].rpartition(":")
    blob = base64.urlsafe_b64decode(encoded.encode())
    key = _purpose_key(master_key(key_id), purpose)
    return decrypt(key, blob, purpose.encode()).decode()


def _purpose_key(master: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=f"warden:sealed:{purpose}".encode(),
    ).derive(master)
