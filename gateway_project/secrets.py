"""Development secrets and the master keyring's parsing.

With ``DEBUG`` on and no secret configured, a development secret is generated
once and remembered in the local data folder, so restarts keep working
sessions and decryptable provider keys. With ``DEBUG`` off nothing is
generated: a missing secret stops the process with a one-line reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import tempfile
from pathlib import Path

from gateway_project.env import ConfigError, raw

MASTER_KEY_BYTES = 32


def development_secrets(folder: Path) -> dict[str, str]:
    """Return the remembered development secrets, creating them on first use."""
    path = folder / "dev-secrets.json"
    if not path.exists():
        _create_development_secrets(folder, path)
    return json.loads(path.read_text())


def _create_development_secrets(folder: Path, path: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    values = {
        "AUTH_SECRET": secrets.token_urlsafe(50),
        "MASTER_KEYS": "dev1:" + base64.b64encode(os.urandom(32)).decode(),
    }
    # Written whole to a private temporary file, then linked into place: two
    # processes starting together agree on one file and never read half of it.
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".dev-secrets-")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(values, handle)
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def required_secret(name: str, *, debug: bool, folder: Path) -> str:
    value = raw(name)
    if value:
        return value
    if not debug:
        raise ConfigError(f"{name} is not set; it is required when DEBUG is off")
    return development_secrets(folder)[name]


def parse_master_keys(value: str) -> list[tuple[str, bytes]]:
    """Return the keyring ``id:base64key,...`` as (id, key) pairs, first one active."""
    keyring: list[tuple[str, bytes]] = []
    for entry in value.split(","):
        key_id, sep, encoded = entry.strip().partition(":")
        if not sep or not key_id or not encoded:
            raise ConfigError("MASTER_KEYS entries must look like id:base64key")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ConfigError(f"MASTER_KEYS key {key_id!r} is not base64") from None
        if len(key) != MASTER_KEY_BYTES:
            raise ConfigError(
                f"MASTER_KEYS key {key_id!r} must be 32 bytes, not {len(key)}"
            )
        if any(key_id == known for known, _ in keyring):
            raise ConfigError(f"MASTER_KEYS lists key id {key_id!r} twice")
        keyring.append((key_id, key))
    return keyring
