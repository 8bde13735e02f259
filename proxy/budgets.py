"""Spend and token budgets on a key (``budget_usd``, ``budget_tokens``).

A request reserves its worst case at admission: the prompt estimate plus its
``max_tokens`` (or the model's output limit), priced with the catalogue's or
the organisation's prices, in integer micro-dollars and tokens. Settlement
replaces the reservation by what was really used, so concurrent requests can
never together commit more than the budget.

On Redis one counter per key, budget and period holds settled spend plus
outstanding reservations, changed only by the Lua scripts below; keys are
hash-tagged by the key's public id:

- ``bud:{id}:usd:<start>``, ``bud:{id}:tok:<start>``, where ``<start>`` is the
  period's first day in UTC (``life`` for lifetime). Period counters expire a
  day after their period ends, so a late settlement still finds its counter;
  lifetime counters never expire.

A missing counter (a new period, or Redis restarted empty) is seeded from the
key's usage records in PostgreSQL before the request is admitted, so settled
spend survives a Redis loss. Records still queued in a worker (up to
``USAGE_FLUSH_SECONDS``) and reservations in flight at that moment are not in
the seed.

Without Redis the same rules hold per process, in memory.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from django.db import close_old_connections
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from asgiref.sync import sync_to_async
from redis.exceptions import RedisError

from accounts.tenancy import tenant_context
from gateway_project.store import RedisStore, store
from keys.auth import KeyContext
from keys.limits import PERIODS
from providers.catalogue import MILLION, ModelSpec
from proxy.errors import ProxyError
from proxy.limits import prompt_estimate, store_unavailable

logger = logging.getLogger(__name__)

# Reserved for output when neither the request nor the catalogue gives a limit;
# a stream producing more is ended (see ``proxy.metering``).
DEFAULT_MAX_OUTPUT = 4096
MICRO = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    max_output: int = 0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        total = prompt_tokens * self.input_per_mtok
        total += completion_tokens * self.output_per_mtok
        return total / MILLION

    def micro_usd(self, prompt_tokens: int, completion_tokens: int) -> int:
        cost = self.cost(prompt_tokens, completion_tokens) * MICRO
        return int(cost.to_integral_value(rounding=ROUND_CEILING))


def price_for(model_id: str, spec: ModelSpec | None, org_prices: dict) -> Price | None:
    """Return the organisation's price for ``model_id``, else the catalogue's."""
    custom = org_prices.get(model_id) if org_prices else None
    if isinstance(custom, dict):
        try:
            return Price(
                Decimal(str(custom["input_per_mtok"])),
                Decimal(str(custom["output_per_mtok"])),
                int(custom.get("max_output") or (spec.max_output if spec else 0)),
            )
        except (KeyError, ArithmeticError, TypeError, ValueError):
            pass  # refused when saved; an unreadable price counts as unknown
    if spec is None:
        return None
    return Price(spec.input_per_mtok, spec.output_per_mtok, spec.max_output)


@dataclass(frozen=True)
class Counter:
    """One budget a request is held against: its key's or its project's."""

    name: str  # the Redis counter
    owner: str  # "key" or "project"
    kind: str  # "usd" (micro-dollars) or "tok"
    limit: int
    period: str
    start: datetime | None
    end: datetime | None

    @property
    def expires_ms(self) -> int:
        """When the counter may go: a day after its period ends (0: never)."""
        if self.end is None:
            return 0
        return int((self.end + timedelta(days=1)).timestamp() * 1000)


@dataclass(frozen=True)
class Hold:
    """A reservation against a request's budgets, settled when the call ends."""

    public_id: str
    counters: tuple[Counter, ...]
    prompt_estimate: int
    output_reserved: int
    reserved_usd: int
    reserved_tokens: int
    price: Price | None

    @property
    def keys(self) -> list[str]:
        return [counter.name for counter in self.counters]

    def amount(self, counter: Counter) -> int:
        return self.reserved_usd if counter.kind == "usd" else self.reserved_tokens


def period_bounds(
    period: str, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """Return the UTC start and end of the period holding ``now``."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return start, following
    return None, None


def counter_name(
    project_id: int, key_id: str | None, kind: str, start: datetime | None
) -> str:
    """Name a budget counter: a key's (``key_id``, the id it is counted as) or
    its project's (None). All of a project's share one hash tag (one slot)."""
    suffix = start.date().isoformat() if start is not None else "life"
    who = f"k:{key_id}" if key_id is not None else "p"
    return f"bud:{{p{project_id}}}:{who}:{kind}:{suffix}"


def forget_counters(project_id: int, key_id: str | None) -> None:
    """Drop the current counters of a key's or project's budgets, so that the
    next request seeds them again from the usage records.

    Called when budgets change: spend while a budget was off was not counted.
    """
    now = _now()
    for period in PERIODS:
        start, _ = period_bounds(period, now)
        for kind in ("usd", "tok"):
            name = counter_name(project_id, key_id, kind, start)
            try:
                store().delete(name)
            except (RedisError, OSError):
                logger.warning("budget counter %s not dropped", name, exc_info=True)
            _local.forget(name)


# KEYS: the counters. ARGV: limit, amount and expiry instant in ms (0: never)
# for each counter in turn. Nothing is reserved unless every counter has room.
# Reply: {0} admitted; {1, i, used} counter i refused; {2, i} counter i missing.
RESERVE = """
for i = 1, #KEYS do
  local value = redis.call('GET', KEYS[i])
  if not value then return {2, i} end
  if tonumber(value) + tonumber(ARGV[3 * i - 1]) > tonumber(ARGV[3 * i - 2]) then
    return {1, i, tonumber(value)}
  end
end
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], tonumber(ARGV[3 * i - 1]))
  if tonumber(ARGV[3 * i]) > 0 then
    redis.call('PEXPIREAT', KEYS[i], tonumber(ARGV[3 * i]))
  end
end
return {0}
"""

# ARGV: one delta per counter. A counter gone missing is left to be re-seeded.
SETTLE = """
for i = 1, #KEYS do
  local delta = tonumber(ARGV[i])
  if delta ~= 0 and redis.call('EXISTS', KEYS[i]) == 1 then
    if redis.call('INCRBY', KEYS[i], delta) < 0 then
      redis.call('SET', KEYS[i], 0, 'KEEPTTL')
    end
  end
end
return 0
"""

# ARGV: value, expiry instant in ms (0: never).
SEED = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[2]))
end
return 0
"""

RESERVE_SHA = hashlib.sha1(RESERVE.encode(), usedforsecurity=False).hexdigest()
SETTLE_SHA = hashlib.sha1(SETTLE.encode(), usedforsecurity=False).hexdigest()
SEED_SHA = hashlib.sha1(SEED.encode(), usedforsecurity=False).hexdigest()


class LocalBudgets:
    """The scripts' rules for one process, without Redis."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def reserve(
        self, keys: Sequence[str], limits: Sequence[int], amounts: Sequence[int]
    ) -> tuple[int, int]:
        """Return (0, 0) admitted, (1, i) counter i refused, (2, i) i missing."""
        with self._lock:
            for i, key in enumerate(keys):
                if key not in self._counts:
                    return 2, i
                if self._counts[key] + amounts[i] > limits[i]:
                    return 1, i
            for key, amount in zip(keys, amounts, strict=True):
                self._counts[key] += amount
        return 0, 0

    def settle(self, keys: Sequence[str], deltas: Sequence[int]) -> None:
        with self._lock:
            for key, delta in zip(keys, deltas, strict=True):
                if key in self._counts:
                    self._counts[key] = max(self._counts[key] + delta, 0)

    def seed(self, key: str, value: int) -> None:
        with self._lock:
            self._counts.setdefault(key, value)

    def forget(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


_local = LocalBudgets()
# Counters that missed spend let through while Redis was unreachable, and the
# moment until which they are seeded afresh (see _drop_stale).
_stale: dict[str, float] = {}
STALE_SECONDS = 10.0


def budgets_of(key: KeyContext, now: datetime) -> list[Counter]:
    """The budgets a request with ``key`` counts against: its key's, its project's."""
    counters = []
    for owner, limits in (("key", key.limits), ("project", key.project_limits)):
        if not limits:
            continue
        period = limits.get("budget_period", "lifetime")
        start, end = period_bounds(period, now)
        for kind, limit in (
            ("usd", _micro(limits.get("budget_usd"))),
            ("tok", int(limits.get("budget_tokens") or 0)),
        ):
            if limit:
                key_id = key.counted_as if owner == "key" else None
                name = counter_name(key.project_id, key_id, kind, start)
                counters.append(Counter(name, owner, kind, limit, period, start, end))
    return counters


async def reserve(
    key: KeyContext,
    model_id: str,
    body: dict,
    price: Price | None,
    prompt: int | None = None,
    output: int | None = None,
) -> Hold | None:
    """Reserve the request's worst case against its budgets, or raise.

    Return None when neither the key nor its project has a budget. ``prompt``
    defaults to the estimate from the body, made only when there is a budget.
    """
    counters = budgets_of(key, _now())
    if not counters:
        return None
    spend = [counter for counter in counters if counter.kind == "usd"]
    if spend and price is None:
        whose = "this key's" if spend[0].owner == "key" else "this project's"
        raise ProxyError(
            400,
            f"The model '{model_id}' has no known price, so {whose} spend budget "
            "cannot be applied. An organisation owner can set a price for it.",
            code="model_price_unknown",
            param="model",
        )
    if prompt is None:
        prompt = prompt_estimate(body)
    if output is None:
        output = _max_output(body, price)
    worst_usd = price.micro_usd(prompt, output) if spend and price else 0
    hold = Hold(
        key.public_id,
        tuple(counters),
        prompt,
        output,
        worst_usd,
        prompt + output,
        price,
    )
    try:
        refused = await _reserve(key, hold)
    except (RedisError, OSError) as exc:
        _unavailable(key, exc)
        # Let through unreserved: once Redis answers again, this process
        # seeds these counters afresh for a while, so the spend is counted.
        _stale.update(dict.fromkeys(hold.keys, math.inf))
        return None
    if refused is not None:
        raise _exceeded(refused)
    return hold


async def settle(hold: Hold, prompt_tokens: int, completion_tokens: int) -> None:
    """Replace the reservation by the tokens really used."""
    spent = hold.price.micro_usd(prompt_tokens, completion_tokens) if hold.price else 0
    used = {"usd": spent, "tok": prompt_tokens + completion_tokens}
    deltas = [used[c.kind] - hold.amount(c) for c in hold.counters]
    shared = store()
    try:
        if isinstance(shared, RedisStore):
            await shared.aeval(SETTLE, SETTLE_SHA, hold.keys, deltas)
        else:
            _local.settle(hold.keys, deltas)
    except (RedisError, OSError):
        # The counter then over-counts this request until it is re-seeded.
        logger.warning("budget settle failed for key %s", hold.public_id, exc_info=True)


async def _reserve(key: KeyContext, hold: Hold) -> Counter | None:
    """Reserve on every counter at once; return the one that refused, if any."""
    limits = [counter.limit for counter in hold.counters]
    amounts = [hold.amount(counter) for counter in hold.counters]
    shared = store()
    if _stale and isinstance(shared, RedisStore):
        await _drop_stale(shared, hold.keys)
    # Each pass seeds at most one missing counter: a request may meet all four.
    for _ in range(len(hold.counters) + 2):
        if isinstance(shared, RedisStore):
            args = []
            for counter, amount in zip(hold.counters, amounts, strict=True):
                args += [counter.limit, amount, counter.expires_ms]
            reply = await shared.aeval(RESERVE, RESERVE_SHA, hold.keys, args)
            verdict = int(reply[0])
            which = int(reply[1]) - 1 if len(reply) > 1 else 0
        else:
            verdict, which = _local.reserve(hold.keys, limits, amounts)
        if verdict == 0:
            return None
        counter = hold.counters[which]
        if verdict == 1:
            return counter
        value = await sync_to_async(_seed_value)(key, counter)
        if isinstance(shared, RedisStore):
            await shared.aeval(
                SEED, SEED_SHA, [counter.name], [value, counter.expires_ms]
            )
        else:
            _local.seed(counter.name, value)
    raise RedisError("budget counter could not be seeded")


async def _drop_stale(shared: RedisStore, names: list[str]) -> None:
    """Drop counters that missed spend let through during an outage.

    Dropped again on every admission for STALE_SECONDS after Redis first
    answers, by when the usage records of the outage are written and in the
    seed. Reservations in flight
    then are lost from the counter: the price of the fail-open policy.
    """
    for name in names:
        until = _stale.get(name)
        if until is None:
            continue
        await shared.adelete(name)
        if until == math.inf:  # the first contact since the outage
            _stale[name] = time.monotonic() + STALE_SECONDS
        elif time.monotonic() > until:
            _stale.pop(name, None)


def _seed_value(key: KeyContext, counter: Counter) -> int:
    """What the usage records say was spent against ``counter`` so far."""
    close_old_connections()  # run in a worker thread of the proxy
    if counter.owner == "key":
        spent = recorded_spend(
            key.organization_id, counter.start, lineage=key.counted_as
        )
    else:
        spent = recorded_spend(
            key.organization_id, counter.start, project=key.project_id
        )
    return spent[0] if counter.kind == "usd" else spent[1]


def recorded_spend(
    organization_id: int,
    start: datetime | None,
    *,
    lineage: str | None = None,
    project: int | None = None,
) -> tuple[int, int]:
    """The usage records' spend (micro-dollars) and tokens since ``start``,
    for one key with its rotated predecessors and successors, or one project."""
    from proxy.models import UsageRecord

    with tenant_context(organization_id):
        if lineage is not None:
            records = UsageRecord.objects.filter(
                Q(api_key__public_id=lineage) | Q(api_key__lineage=lineage)
            )
        else:
            records = UsageRecord.objects.filter(project_id=project)
        if start is not None:
            records = records.filter(created_at__gte=start)
        totals = records.aggregate(
            usd=Coalesce(Sum("cost_usd"), Decimal(0)),
            tokens=Coalesce(Sum(F("prompt_tokens") + F("completion_tokens")), 0),
        )
    usd = (totals["usd"] * MICRO).to_integral_value(rounding=ROUND_CEILING)
    return int(usd), int(totals["tokens"])


def _max_output(body: dict, price: Price | None) -> int:
    most = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(most, int) and not isinstance(most, bool) and most > 0:
        return most
    if price is not None and price.max_output:
        return price.max_output
    return DEFAULT_MAX_OUTPUT


def _micro(amount: str | None) -> int:
    if not amount:
        return 0
    return int(Decimal(amount) * MICRO)


def _now() -> datetime:
    return datetime.now(UTC)


def _exceeded(counter: Counter) -> ProxyError:
    whose = "This API key's" if counter.owner == "key" else "This project's"
    if counter.kind == "usd":
        limit = (Decimal(counter.limit) / MICRO).normalize()
        what = f"spend budget of ${limit:f}"
    else:
        what = f"token budget of {counter.limit}"
    when = "for its lifetime" if counter.end is None else f"for this {counter.period}"
    headers = {}
    if counter.end is not None:
        seconds = math.ceil((counter.end - _now()).total_seconds())
        headers["retry-after"] = str(max(seconds, 1))
    return ProxyError(
        429,
        f"{whose} {what} {when} does not cover this request's worst case "
        "(its prompt plus max_tokens).",
        type="insufficient_quota",
        code="budget_exceeded",
        headers=headers,
        limit="budget",
    )


def _unavailable(key: KeyContext, exc: Exception) -> None:
    store_unavailable(key, exc, "budget")
