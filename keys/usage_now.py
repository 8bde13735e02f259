"""A key's use of its rate limits right now, for the admin and the API.

Read from the shared counters the proxy keeps in Redis; without Redis each
worker counts for itself and there is no shared figure to show.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from gateway_project.store import RedisStore, store
from proxy.counters import redis_keys


@dataclass(frozen=True)
class LimitUse:
    name: str
    used: int
    limit: int


def usage_now(public_id: str, limits: dict) -> list[LimitUse] | None:
    """Use of each rate limit the key has; None when it cannot be known."""
    wanted = [name for name in ("rpm", "tpm", "max_concurrency") if limits.get(name)]
    shared = store()
    if not wanted or not isinstance(shared, RedisStore):
        return None if wanted else []
    slots, rpm, tpm = redis_keys(public_id)
    now_ms = time.time() * 1000
    used = {
        "rpm": int(shared.get(rpm) or 0),
        "tpm": max(int(shared.get(tpm) or 0), 0),
        "max_concurrency": shared.zcount(slots, now_ms),
    }
    return [LimitUse(name, used[name], limits[name]) for name in wanted]


LABELS = {
    "rpm": "requests this minute",
    "tpm": "tokens this minute",
    "max_concurrency": "in flight",
}


def describe(uses: list[LimitUse] | None) -> str:
    if uses is None:
        return "counted by each worker on its own (no Redis): not shown"
    if not uses:
        return "no rate limits"
    return " · ".join(f"{LABELS[u.name]}: {u.used:,} of {u.limit:,}" for u in uses)
