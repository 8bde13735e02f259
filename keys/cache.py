"""The verified-key cache, shared by every worker through the store.

An entry maps a key's public id to a keyed HMAC of the full key plus what the
proxy needs (organisation, project, limits). A revoked key leaves a tombstone
that a concurrent cache fill cannot overwrite (fills are SET NX).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from django.conf import settings

import orjson

from gateway_project.store import RedisStore, store

REVOKED = b"revoked"

# Without Redis each process has its own memory, so a key revoked from another
# process (a management command, another worker) is only noticed when the
# local entry expires: keep it short there.
LOCAL_CACHE_SECONDS = 5


def _ttl() -> float:
    if isinstance(store(), RedisStore):
        return settings.KEY_CACHE_SECONDS
    return min(settings.KEY_CACHE_SECONDS, LOCAL_CACHE_SECONDS)


@cache
def _mac_key() -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"warden:key-cache", "sha256"
    ).digest()


def key_mac(full_key: str) -> str:
    return hmac.new(_mac_key(), full_key.encode(), hashlib.sha256).hexdigest()


def cache_key(public_id: str) -> str:
    return f"key:{public_id}"


async def cached_entry(public_id: str) -> dict | bytes | None:
    shared = store()
    if isinstance(shared, RedisStore):
        # A key in use stays verified (sliding expiry): it never goes back to
        # bcrypt, where a flood of forged keys with its public id could throttle
        # it. Every change to a key drops or replaces its entry explicitly.
        raw = await shared.aget_refreshed(cache_key(public_id), _ttl())
    else:
        raw = await shared.aget(cache_key(public_id))
    if raw is None or raw.startswith(REVOKED):
        return raw
    return orjson.loads(raw)


async def remember_key(public_id: str, entry: dict) -> None:
    await store().aset(cache_key(public_id), orjson.dumps(entry), _ttl(), nx=True)


def forget_key(
    public_id: str, *, revoked: bool = False, organization_id: int | None = None
) -> None:
    if not revoked:
        store().delete(cache_key(public_id))
        return
    # The tombstone keeps the key's MAC when it was cached, so "revoked" is said
    # only to a caller presenting the real key, and the organisation, so that
    # caller's attempt is recorded on its audit trail.
    raw = store().get(cache_key(public_id))
    mac = b""
    if raw is not None and not raw.startswith(REVOKED):
        mac = orjson.loads(raw)["mac"].encode()
    owner = str(organization_id or "").encode()
    store().set(cache_key(public_id), REVOKED + b":" + mac + b":" + owner, _ttl())


def revoked_mac(raw: bytes) -> str | None:
    """Return the MAC kept in a tombstone, or None if ``raw`` is no tombstone."""
    if not raw.startswith(REVOKED):
        return None
    return raw[len(REVOKED) + 1 :].decode().split(":")[0]


def revoked_organization(raw: bytes) -> int | None:
    """Return the organisation named in a tombstone, if it names one."""
    fields = raw[len(REVOKED) + 1 :].decode().split(":")
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
