"""The one authentication path for gateway keys on the async proxy.

A malformed key is refused before any store, database or bcrypt work. A key
seen before is checked against the cache with one store read and one HMAC; a
key not cached costs one database read and one bcrypt check, in a thread.
Repeated failures against one key id or from one client address are
throttled before that expensive path. Requests with no key or a malformed one
count against their address too (one store increment), so unauthenticated
traffic from one address is refused with 429 past ``KEY_FAILURE_LIMIT``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from functools import cache, partial

from django.conf import settings
from django.db import close_old_connections

from asgiref.sync import sync_to_async

from gateway_project.store import LocalStore, RedisStore
from keys import tokens
from keys.cache import (
    cached_entry,
    key_mac,
    mac_matches,
    remember_key,
    renew_mac,
    resilient,
    revoked_mac,
    revoked_organization,
)
from keys.models import ApiKey
from keys.services import api_key_by_public_id

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("warden.security.keys")


class KeyRejected(Exception):
    """The key was refused.

    ``organization_id`` is set only when the caller proved to hold a real key
    (revoked or expired), so the refusal can go on that organisation's trail.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 401,
        retry_after: int = 0,
        reason: str = "",
        public_id: str = "",
        organization_id: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.reason = reason
        self.public_id = public_id
        self.organization_id = organization_id


def _revoked(public_id: str, organization_id: int | None) -> KeyRejected:
    return KeyRejected(
        "This API key has been revoked.",
        reason="key_revoked",
        public_id=public_id,
        organization_id=organization_id,
    )


@dataclass(frozen=True)
class KeyContext:
    api_key_id: int
    public_id: str
    organization_id: int
    project_id: int
    limits: dict = field(default_factory=dict)
    # The project's budgets, shared by all its keys.
    project_limits: dict = field(default_factory=dict)
    # The organisation's policy when limits cannot be checked: let through.
    fail_open: bool = False
    # The public id of the first key of its rotation chain, if it was rotated.
    lineage: str = ""

    @property
    def counted_as(self) -> str:
        """The id budgets and rate limits count under: shared by successors."""
        return self.lineage or self.public_id


async def authenticate(candidate: str | None, client_ip: str) -> KeyContext:
    if not candidate:
        await _unauthenticated(client_ip)
        raise KeyRejected("Missing API key. Send it as 'Authorization: Bearer KEY'.")
    parsed = tokens.parse(candidate)
    if parsed is None:
        await _unauthenticated(client_ip)
        raise KeyRejected("Incorrect API key provided.")

    entry = await cached_entry(parsed.public_id)
    tombstone_mac = revoked_mac(entry) if isinstance(entry, bytes) else None
    if isinstance(entry, bytes) and tombstone_mac:
        if mac_matches(tombstone_mac, parsed.full) is not False:
            raise _revoked(parsed.public_id, revoked_organization(entry))
        await _failed(parsed.public_id, client_ip)
        raise KeyRejected("Incorrect API key provided.")
    # A tombstone without a MAC (the key was not cached when it was revoked)
    # cannot tell the real key from a forged one: the check below can, and
    # says "revoked" only to the real key.
    if isinstance(entry, dict):
        matches = mac_matches(entry["mac"], parsed.full)
        if matches is None:
            await renew_mac(parsed.public_id, entry, parsed.full)
        if matches is not False:
            return _context(entry)
        await _failed(parsed.public_id, client_ip)
        raise KeyRejected("Incorrect API key provided.")

    await _check_throttle(parsed.public_id, client_ip)
    entry = await _verify_once(parsed)
    if entry is None:
        await _failed(parsed.public_id, client_ip)
        raise KeyRejected("Incorrect API key provided.")
    await remember_key(parsed.public_id, entry)
    return _context(entry)


def _context(entry: dict) -> KeyContext:
    expires = entry.get("expires")
    if expires is not None and expires <= time.time():
        raise KeyRejected(
            "This API key has expired.",
            reason="key_expired",
            public_id=entry["public_id"],
            organization_id=entry["org"],
        )
    return KeyContext(
        api_key_id=entry["key"],
        public_id=entry["public_id"],
        organization_id=entry["org"],
        project_id=entry["project"],
        limits=entry.get("limits") or {},
        project_limits=entry.get("project_limits") or {},
        fail_open=bool(entry.get("fail_open")),
        lineage=entry.get("lineage", ""),
    )


_in_flight: dict[str, asyncio.Task] = {}


async def _verify_once(parsed: tokens.ParsedKey) -> dict | None:
    """Share one bcrypt check among concurrent requests bearing the same key.

    The check runs in its own task, so a caller that disconnects does not
    cancel it for the others.
    """
    flight_key = key_mac(parsed.full)
    task = _in_flight.get(flight_key)
    if task is None:
        task = asyncio.create_task(_verify_slowly(parsed))
        _in_flight[flight_key] = task
        task.add_done_callback(lambda _: _in_flight.pop(flight_key, None))
    return await asyncio.shield(task)


async def _verify_slowly(parsed: tokens.ParsedKey) -> dict | None:
    row = await sync_to_async(_load_key)(parsed.public_id)
    if row is None:
        # Spend the same bcrypt time as for a known key, so timing does not tell
        # which key ids exist.
        await asyncio.to_thread(tokens.check_secret, parsed.full, _dummy_hash())
        return None
    matches = await asyncio.to_thread(tokens.check_secret, parsed.full, row.secret_hash)
    if not matches:
        return None
    if row.revoked_at is not None:
        # Said only to a caller who holds the real key.
        raise _revoked(row.public_id, row.organization_id)
    if row.environment != parsed.environment:
        return None
    return {
        "mac": key_mac(parsed.full),
        "key": row.pk,
        "public_id": row.public_id,
        "org": row.organization_id,
        "project": row.project_id,
        "expires": row.expires_at.timestamp() if row.expires_at else None,
        "limits": row.limits,
        "project_limits": row.project.limits,
        "fail_open": row.organization.limits_fail_open,
        "lineage": row.lineage,
    }


def _load_key(public_id: str) -> ApiKey | None:
    close_old_connections()
    return api_key_by_public_id(public_id)


def _throttle_keys(public_id: str, client_ip: str) -> tuple[str, str]:
    return f"fail:key:{public_id}", f"fail:ip:{client_ip}"


async def _check_throttle(public_id: str, client_ip: str) -> None:
    for name in _throttle_keys(public_id, client_ip):
        raw = await resilient(partial(_read, name))
        if raw is not None and int(raw) >= settings.KEY_FAILURE_LIMIT:
            raise _throttled()


def _throttled() -> KeyRejected:
    return KeyRejected(
        "Too many failed authentication attempts; try again later.",
        status=429,
        retry_after=settings.KEY_FAILURE_WINDOW_SECONDS,
    )


async def _unauthenticated(client_ip: str) -> None:
    """Count a request without a usable key against its address, in one
    increment, and refuse it once the address is over the limit."""
    _, name = _throttle_keys("", client_ip)
    window = settings.KEY_FAILURE_WINDOW_SECONDS
    if await resilient(partial(_count, name, window)) > settings.KEY_FAILURE_LIMIT:
        raise _throttled()


async def _failed(public_id: str, client_ip: str) -> None:
    security_logger.warning("api key rejected id=%s client=%s", public_id, client_ip)
    window = settings.KEY_FAILURE_WINDOW_SECONDS
    for name in _throttle_keys(public_id, client_ip):
        await resilient(partial(_count, name, window))


async def _read(name: str, shared: RedisStore | LocalStore) -> bytes | None:
    return await shared.aget(name)


async def _count(name: str, window: float, shared: RedisStore | LocalStore) -> int:
    return await shared.aincr(name, window)


@cache
def _dummy_hash() -> str:
    return tokens.hash_secret("warden-dummy-key", settings.BCRYPT_ROUNDS)
