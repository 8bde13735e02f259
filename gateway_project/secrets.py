"""Development secrets, the master keyring, and secrets merged into URLs.

With ``DEBUG`` on and no secret configured, a development secret is generated
once and remembered in the local data folder, so restarts keep working
sessions and decryptable provider keys. With ``DEBUG`` off nothing is
generated: a missing secret stops the process with a one-line reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import overload
from urllib.parse import quote, urlsplit, urlunsplit

from gateway_project import secret_sources
from gateway_project.env import ConfigError

logger = logging.getLogger(__name__)

MASTER_KEY_BYTES = 32
AUTH_SECRET_MIN_LENGTH = 50
# Rotated-out AUTH_SECRETs kept as fallbacks: each one costs an HMAC on every
# signature that fails to verify with the current secret.
AUTH_SECRET_FALLBACKS_KEPT = 3


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
    value = secret_sources.lookup(name)
    if value:
        return value
    if not debug:
        where = secret_sources.store().source.describe(name)
        raise ConfigError(
            f"{name} is not set in {where}; it is required when DEBUG is off"
        )
    return development_secrets(folder)[name]


def follow_auth_secret(*, debug: bool) -> None:
    """Make each rotated ``AUTH_SECRET`` the signing key, without a restart.

    The secret is watched, so it is refreshed every cache time even when
    nothing reads it; the previous value stays first among the fallbacks, so
    sessions and signed values made with it keep working.
    """
    store = secret_sources.store()
    store.watch("AUTH_SECRET", lambda value: use_auth_secret(value, debug=debug))
    store.start_watching()


def use_auth_secret(value: str | None, *, debug: bool) -> None:
    from django.conf import settings

    if not value or (not debug and len(value) < AUTH_SECRET_MIN_LENGTH):
        logger.error(
            "the new AUTH_SECRET is not used: it must be at least %d characters",
            AUTH_SECRET_MIN_LENGTH,
        )
        return
    previous = settings.SECRET_KEY
    if value == previous:
        return
    older = [
        key for key in settings.SECRET_KEY_FALLBACKS if key not in (value, previous)
    ]
    # Fallbacks first: a signature made with either key verifies in between.
    settings.SECRET_KEY_FALLBACKS = [previous, *older][:AUTH_SECRET_FALLBACKS_KEPT]
    settings.SECRET_KEY = value
    logger.info("AUTH_SECRET was rotated; the previous one still verifies")


def url_with_password(url: str, password: str | None) -> str:
    """Return ``url`` with its password replaced by ``password``, if one is given."""
    if not url or not password:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    user = quote(parts.username or "", safe="")
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


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


class MasterKeyring(Sequence[tuple[str, bytes]]):
    """The ``MASTER_KEYS`` keyring, re-read each time through the secret cache.

    A keyring rotated in the secret source is used once the cache refreshes,
    without a restart. One that no longer parses is logged and ignored: the
    last good keyring stays in force.
    """

    def __init__(self, value: str, *, current: Callable[[], str | None]) -> None:
        self._value, self._keys = value, parse_master_keys(value)
        self._current = current

    def keys(self) -> list[tuple[str, bytes]]:
        value = self._current()
        if value and value != self._value:
            try:
                self._keys = parse_master_keys(value)
            except ConfigError as exc:
                logger.error("the new MASTER_KEYS is not used: %s", exc)
            self._value = value
        return self._keys

    @overload
    def __getitem__(self, index: int) -> tuple[str, bytes]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, bytes]]: ...

    def __getitem__(self, index):
        return self.keys()[index]

    def __len__(self) -> int:
        return len(self.keys())

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return iter(self.keys())
