"""Data keys wrapped by a HashiCorp Vault or OpenBao Transit key.

With ``MASTER_KEY_BACKEND=vault-transit`` the master key never leaves Vault:
a data key is wrapped by Transit's ``encrypt``, unwrapped by its ``decrypt``
and stored under the key id ``transit:<key name>``. The organisation is bound
twice: as the ``context`` a derived Transit key derives its key from (other
key types ignore it), and at the head of the plaintext, checked after every
decrypt, so a wrapped key moved to another organisation fails to unwrap
whatever the key's type.

Unwrapped data keys stay in this process's memory for
``VAULT_TRANSIT_CACHE_SECONDS``, so the proxy does not ask Vault per request.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from typing import Any

from django.conf import settings

from gateway_project import env
from providers.crypto import TRANSIT_KEY_PREFIX, CryptoError, data_key_aad

_ENDPOINTS = {
    "encrypt": "encrypt_data",
    "decrypt": "decrypt_data",
    "rewrap": "rewrap_data",
}
_clients: dict[tuple[str, str, str], Any] = {}
_unwrapped: dict[tuple[str, bytes, int], tuple[float, bytes]] = {}
_lock = threading.Lock()


class TransitError(CryptoError):
    """Vault could not be asked, or refused; the message names no secret."""


def active_key_id() -> str:
    return TRANSIT_KEY_PREFIX + _config()["key"]


def wrap(data_key: bytes, organization_id: int) -> tuple[str, bytes]:
    """Return (key id, Transit ciphertext) of the data key under the active key."""
    key_id = active_key_id()
    plaintext = _frame(organization_id) + data_key
    answer = _call(
        "encrypt",
        key_id,
        plaintext=base64.b64encode(plaintext).decode(),
        context=_context(organization_id),
    )
    return key_id, answer["ciphertext"].encode()


def unwrap(key_id: str, wrapped: bytes, organization_id: int) -> bytes:
    cache_key = (key_id, wrapped, organization_id)
    with _lock:
        hit = _unwrapped.get(cache_key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    answer = _call(
        "decrypt",
        key_id,
        ciphertext=wrapped.decode("ascii", "replace"),
        context=_context(organization_id),
    )
    try:
        plaintext = base64.b64decode(answer["plaintext"], validate=True)
    except (binascii.Error, TypeError):
        raise CryptoError(f"{_where(key_id)} answered with no plaintext") from None
    frame = _frame(organization_id)
    if not plaintext.startswith(frame):
        raise CryptoError(
            f"the data key wrapped by {key_id} is not organisation {organization_id}'s"
        )
    data_key = plaintext[len(frame) :]
    _remember(cache_key, data_key)
    return data_key


def rewrap(key_id: str, wrapped: bytes, organization_id: int) -> bytes | None:
    """Return ``wrapped`` under the latest version of its key, None if it is already.

    Vault decrypts and encrypts again inside itself: the data key is never
    sent here.
    """
    answer = _call(
        "rewrap",
        key_id,
        ciphertext=wrapped.decode("ascii", "replace"),
        context=_context(organization_id),
    )
    rewrapped = answer["ciphertext"].encode()
    return None if _version(rewrapped) == _version(wrapped) else rewrapped


def forget() -> None:
    """Drop every cached data key."""
    with _lock:
        _unwrapped.clear()


def _frame(organization_id: int) -> bytes:
    return data_key_aad(organization_id) + b":"


def _context(organization_id: int) -> str:
    return base64.b64encode(data_key_aad(organization_id)).decode()


def _version(wrapped: bytes) -> bytes:
    """Return the key version a Transit ciphertext (``vault:v3:...``) names."""
    return wrapped.split(b":", 2)[1] if wrapped.count(b":") >= 2 else b""


def _remember(cache_key: tuple[str, bytes, int], data_key: bytes) -> None:
    ttl = _config()["cache_seconds"]
    if ttl <= 0:
        return
    now = time.monotonic()
    with _lock:
        for stale in [key for key, (until, _) in _unwrapped.items() if until <= now]:
            del _unwrapped[stale]
        _unwrapped[cache_key] = (now + ttl, data_key)


def _config() -> dict[str, Any]:
    return settings.VAULT_TRANSIT


def _where(key_id: str) -> str:
    mount = _config()["mount"]
    return f"Vault Transit key {mount}/{key_id.removeprefix(TRANSIT_KEY_PREFIX)}"


def _call(action: str, key_id: str, **fields: str) -> dict:
    import hvac.exceptions
    import requests

    config = _config()
    where = _where(key_id)
    client = _client(where)
    endpoint = getattr(client.secrets.transit, _ENDPOINTS[action])
    name = key_id.removeprefix(TRANSIT_KEY_PREFIX)
    try:
        answer = endpoint(name, mount_point=config["mount"], **fields)
    except hvac.exceptions.Forbidden:
        raise TransitError(
            f"{where} refused to {action} a data key: permission denied"
        ) from None
    except requests.RequestException as exc:
        raise TransitError(
            f"{where} cannot {action} a data key: Vault at {config['address']} "
            f"is unreachable ({type(exc).__name__})"
        ) from None
    except hvac.exceptions.VaultError as exc:
        raise TransitError(
            f"{where} cannot {action} a data key: {type(exc).__name__}"
        ) from None
    return answer["data"]


def _client(where: str) -> Any:
    import hvac

    config = _config()
    if not config["address"]:
        raise TransitError(f"{where} needs VAULT_ADDR")
    # Read again each time: an agent that renews the token rewrites the file
    # named by VAULT_TOKEN_FILE.
    try:
        token = env.raw("VAULT_TOKEN")
    except env.ConfigError as exc:
        raise TransitError(f"{where}: {exc}") from None
    if not token:
        raise TransitError(f"{where} needs VAULT_TOKEN or VAULT_TOKEN_FILE")
    identity = (config["address"], config["namespace"], config["ca_file"])
    with _lock:
        client = _clients.get(identity)
        if client is None:
            client = _clients[identity] = hvac.Client(
                url=config["address"],
                token=token,
                namespace=config["namespace"] or None,
                verify=config["ca_file"] or True,
                timeout=5,
            )
    client.token = token
    return client
