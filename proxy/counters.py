"""Per-key request, token and concurrency counters, checked atomically.

Windows are fixed 60-second windows aligned on the clock's minute: one counter
per key and window, so an admission is O(1) in time and memory, the count is
exact across workers, and ``reset`` is a single instant to report. The price is
that a key may spend up to twice its limit across a window boundary.

On Redis every admission is one Lua script (concurrency, then requests, then
tokens: nothing is consumed unless all three pass) and every release another,
both timed by Redis's own clock so gateways on different hosts agree. Keys, all
hash-tagged by the key's public id so they share a cluster slot:

- ``lim:{id}:slots``: sorted set of in-flight requests scored by the instant
  their slot lapses (``LIMITS_SLOT_SECONDS`` after admission or the last
  renewal: a live request renews its slot), so a crashed worker's slots stop
  counting; the set itself expires after that long idle.
- ``lim:{id}:rpm``, ``lim:{id}:tpm``: counters expiring at their window's end.

Without Redis the same rules hold per process, in memory.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

WINDOW_MS = 60_000

# Whichever refused: "" when admitted.
CONCURRENCY, REQUESTS, TOKENS = "concurrency", "requests", "tokens"
_KINDS = ("", CONCURRENCY, REQUESTS, TOKENS)


@dataclass(frozen=True)
class Quota:
    max_concurrency: int
    rpm: int
    tpm: int
    estimate: int  # tokens charged now, corrected by ``settle``


@dataclass(frozen=True)
class Verdict:
    refused: str
    reset_ms: int
    remaining_requests: int
    remaining_tokens: int
    window: int


ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = math.floor(now / 60000)
local reset = (window + 1) * 60000 - now
local maxc, rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local estimate, slot_ms = tonumber(ARGV[4]), tonumber(ARGV[6])
if maxc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= maxc then return {1, reset, 0, 0, window} end
end
local requests = tonumber(redis.call('GET', KEYS[2]) or '0')
if rpm > 0 and requests >= rpm then return {2, reset, 0, 0, window} end
local tokens = tonumber(redis.call('GET', KEYS[3]) or '0')
if tpm > 0 and tokens + estimate > tpm then
  return {3, reset, rpm - requests, 0, window}
end
if maxc > 0 then
  redis.call('ZADD', KEYS[1], now + slot_ms, ARGV[5])
  redis.call('PEXPIRE', KEYS[1], slot_ms)
end
local ends = (window + 1) * 60000 - 1
if rpm > 0 then
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIREAT', KEYS[2], ends)
end
if tpm > 0 then
  redis.call('INCRBY', KEYS[3], estimate)
  redis.call('PEXPIREAT', KEYS[3], ends)
end
return {0, reset, rpm - requests - 1, tpm - tokens - estimate, window}
"""

SETTLE = """
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local delta = tonumber(ARGV[3])
if delta ~= 0 and math.floor(now / 60000) == tonumber(ARGV[2]) then
  if redis.call('EXISTS', KEYS[2]) == 1 then
    if redis.call('INCRBY', KEYS[2], delta) < 0 then
      redis.call('SET', KEYS[2], 0, 'KEEPTTL')
    end
  end
end
return 0
"""

# ARGV: slot, slot length in ms. Push a live slot's lapse back; a slot already
# released or lapsed stays gone.
RENEW = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 0
"""

ADMIT_SHA = hashlib.sha1(ADMIT.encode(), usedforsecurity=False).hexdigest()
SETTLE_SHA = hashlib.sha1(SETTLE.encode(), usedforsecurity=False).hexdigest()
RENEW_SHA = hashlib.sha1(RENEW.encode(), usedforsecurity=False).hexdigest()


def redis_keys(public_id: str) -> list[str]:
    tag = f"lim:{{{public_id}}}"
    return [f"{tag}:slots", f"{tag}:rpm", f"{tag}:tpm"]


def verdict(reply: list) -> Verdict:
    kind, reset, requests, tokens, window = (int(value) for value in reply)
    return Verdict(_KINDS[kind], reset, max(requests, 0), max(tokens, 0), window)


class LocalCounters:
    """The Lua scripts' rules for one process, without Redis."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, dict[str, float]] = {}
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}

    def admit(self, public_id: str, quota: Quota, slot: str, slot_ms: int) -> Verdict:
        now = int(time.time() * 1000)
        window, reset = divmod(now, WINDOW_MS)
        reset = WINDOW_MS - reset
        with self._lock:
            slots = self._slots.setdefault(public_id, {})
            for held in [s for s, lapses in slots.items() if lapses <= now]:
                del slots[held]
            if quota.max_concurrency and len(slots) >= quota.max_concurrency:
                return Verdict(CONCURRENCY, reset, 0, 0, window)
            requests = self._count(public_id, "rpm", window)
            if quota.rpm and requests >= quota.rpm:
                return Verdict(REQUESTS, reset, 0, 0, window)
            tokens = self._count(public_id, "tpm", window)
            if quota.tpm and tokens + quota.estimate > quota.tpm:
                return Verdict(TOKENS, reset, quota.rpm - requests, 0, window)
            if quota.max_concurrency:
                slots[slot] = now + slot_ms
            self._counts[(public_id, "rpm")] = (window, requests + 1)
            self._counts[(public_id, "tpm")] = (window, tokens + quota.estimate)
        return Verdict(
            "",
            reset,
            max(quota.rpm - requests - 1, 0),
            max(quota.tpm - tokens - quota.estimate, 0),
            window,
        )

    def settle(self, public_id: str, slot: str, window: int, delta: int) -> None:
        now_window = int(time.time() * 1000) // WINDOW_MS
        with self._lock:
            self._slots.get(public_id, {}).pop(slot, None)
            if delta and now_window == window:
                tokens = self._count(public_id, "tpm", window)
                self._counts[(public_id, "tpm")] = (window, max(tokens + delta, 0))

    def renew(self, public_id: str, slot: str, slot_ms: int) -> None:
        with self._lock:
            slots = self._slots.get(public_id, {})
            if slot in slots:
                slots[slot] = int(time.time() * 1000) + slot_ms

    def _count(self, public_id: str, name: str, window: int) -> int:
        counted_in, count = self._counts.get((public_id, name), (window, 0))
        return count if counted_in == window else 0
