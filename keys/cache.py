"""The verified-key cache, shared by every worker through the store.

An entry maps a key's public id to a keyed HMAC of the full key plus what the
proxy needs (organisation, project, limits). A revoked key leaves a tombstone
that a concurrent cache fill cannot overwrite (fills are SET NX).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TypeVar

from django.conf import settings

import orjson
from redis.exceptions import RedisError

from gateway_project.store import LocalStore, RedisStore, store

logger = logging.getLogger(__name__)
T = TypeVar("T")

REVOKED = b"revoked"

# Without Redis each process has its own memory, so a key revoked from another
# process (a management command, another worker) is only noticed when the
# local entry expires: keep it short there.
LOCAL_CACHE_SECONDS = 5


# While Redis cannot be reached, keys are verified against the database and
# kept here, in this process, for LOCAL_CACHE_SECONDS. The store itself stops
# asking a Redis that failed for REDIS_RETRY_SECONDS (gateway_project.store).
_outage = LocalStore()


def _ttl(shared: RedisStore | LocalStore | None = None) -> float:
    if isinstance(shared or store(), RedisStore):
        return settings.KEY_CACHE_SECONDS
    return min(settings.KEY_CACHE_SECONDS, LOCAL_CACHE_SECONDS)


async def resilient(call: Callable[[RedisStore | LocalStore], Awaitable[T]]) -> T:
    """Run ``call`` on the shared store, or on this process's memory while
    Redis is unreachable, so keys still authenticate during an outage."""
    shared = store()
    if not isinstance(shared, RedisStore):
        return await call(shared)
    try:
        return await call(shared)
    except (RedisError, OSError):
        return await call(_outage)


@lru_cache(maxsize=8)
def _mac_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"warden:key-cache", "sha256").digest()


def key_mac(full_key: str, secret: str | None = None) -> str:
    """The entry's MAC of ``full_key``, under ``AUTH_SECRET`` unless told."""
    key = _mac_key(secret or settings.SECRET_KEY)
    return hmac.new(key, full_key.encode(), hashlib.sha256).hexdigest()


def mac_matches(mac: str, full_key: str) -> bool | None:
    """Whether ``mac`` is the MAC of ``full_key``: True under the current
    ``AUTH_SECRET``; None under a previous one still in
    ``SECRET_KEY_FALLBACKS`` (the entry should be written again); else False.
    """
    if hmac.compare_digest(mac, key_mac(full_key)):
        return True
    for secret in settings.SECRET_KEY_FALLBACKS:
        if hmac.compare_digest(mac, key_mac(full_key, secret)):
            return None
    return False


def cache_key(public_id: str) -> str:
    return f"key:{public_id}"


async def cached_entry(public_id: str) -> dict | bytes | None:
    async def read(shared: RedisStore | LocalStore) -> bytes | None:
        if isinstance(shared, RedisStore):
            # A key in use stays verified (sliding expiry): it never goes back
            # to bcrypt, where a flood of forged keys with its public id could
            # throttle it. Every change to a key drops or replaces its entry.
            return await shared.aget_refreshed(cache_key(public_id), _ttl(shared))
        return await shared.aget(cache_key(public_id))

    raw = await resilient(read)
    if raw is None or raw.startswith(REVOKED):
        return raw
    return orjson.loads(raw)


async def remember_key(public_id: str, entry: dict) -> None:
    value = orjson.dumps(entry)
    await resilient(
        lambda shared: shared.aset(cache_key(public_id), value, _ttl(shared), nx=True)
    )


# KEYS: the entry. ARGV: its old MAC, the new entry, time to live in ms.
# Replaces only a verified entry still holding the old MAC, never a tombstone.
RENEW_MAC = """
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, 1) == '{'
    and string.find(value, ARGV[1], 1, true) then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 0
"""
RENEW_MAC_SHA = hashlib.sha1(RENEW_MAC.encode(), usedforsecurity=False).hexdigest()


async def renew_mac(public_id: str, entry: dict, full_key: str) -> None:
    """Give an entry cached under the previous ``AUTH_SECRET`` the current MAC,
    so it keeps working once the old secret is dropped. Entries in this
    process's memory need not: they live 5 seconds."""
    shared = store()
    if not isinstance(shared, RedisStore):
        return
    old = entry["mac"]
    renewed = orjson.dumps({**entry, "mac": key_mac(full_key)})
    ttl_ms = int(_ttl(shared) * 1000)
    try:
        await shared.aeval(
            RENEW_MAC, RENEW_MAC_SHA, [cache_key(public_id)], [old, renewed, ttl_ms]
        )
    except (RedisError, OSError):
        logger.warning("key cache entry %s not renewed", public_id, exc_info=True)


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
