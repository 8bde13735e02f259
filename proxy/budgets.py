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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.db import close_old_connections
from django.db.models import F, Sum
from django.db.models.functions import Coalesce

from asgiref.sync import sync_to_async
from redis.exceptions import RedisError

from accounts.tenancy import tenant_context
from gateway_project.store import RedisStore, store
from keys.auth import KeyContext
from providers.catalogue import MILLION, ModelSpec
from proxy.errors import ProxyError
from proxy.limits import prompt_estimate

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
class Hold:
    """A reservation against a key's budgets, to be settled when the call ends."""

    public_id: str
    keys: tuple[str, str]
    prompt_estimate: int
    output_reserved: int
    reserved_usd: int
    reserved_tokens: int
    price: Price | None


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


def redis_keys(public_id: str, start: datetime | None) -> tuple[str, str]:
    suffix = start.date().isoformat() if start is not None else "life"
    tag = f"bud:{{{public_id}}}"
    return f"{tag}:usd:{suffix}", f"{tag}:tok:{suffix}"


# KEYS: usd counter, token counter. ARGV: usd limit, usd amount, token limit,
# token amount, expiry instant in ms (0: never). A limit of 0 skips its counter.
# Reply: {0} admitted; {1, which, used} refused; {2, which} counter missing.
RESERVE = """
local limits = {tonumber(ARGV[1]), tonumber(ARGV[3])}
local amounts = {tonumber(ARGV[2]), tonumber(ARGV[4])}
local expires = tonumber(ARGV[5])
local used = {0, 0}
for i = 1, 2 do
  if limits[i] > 0 then
    local value = redis.call('GET', KEYS[i])
    if not value then return {2, i} end
    used[i] = tonumber(value)
    if used[i] + amounts[i] > limits[i] then return {1, i, used[i]} end
  end
end
for i = 1, 2 do
  if limits[i] > 0 then
    redis.call('INCRBY', KEYS[i], amounts[i])
    if expires > 0 then redis.call('PEXPIREAT', KEYS[i], expires) end
  end
end
return {0}
"""

# ARGV: usd delta, token delta. A counter gone missing is left to be re-seeded.
SETTLE = """
local deltas = {tonumber(ARGV[1]), tonumber(ARGV[2])}
for i = 1, 2 do
  if deltas[i] ~= 0 and redis.call('EXISTS', KEYS[i]) == 1 then
    if redis.call('INCRBY', KEYS[i], deltas[i]) < 0 then
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
        self, keys: tuple[str, str], limits: tuple[int, int], amounts: tuple[int, int]
    ) -> tuple[int, int]:
        with self._lock:
            for i in (0, 1):
                if limits[i] and keys[i] not in self._counts:
                    return 2, i
            for i in (0, 1):
                if limits[i] and self._counts[keys[i]] + amounts[i] > limits[i]:
                    return 1, i
            for i in (0, 1):
                if limits[i]:
                    self._counts[keys[i]] += amounts[i]
        return 0, 0

    def settle(self, keys: tuple[str, str], deltas: tuple[int, int]) -> None:
        with self._lock:
            for key, delta in zip(keys, deltas, strict=True):
                if key in self._counts:
                    self._counts[key] = max(self._counts[key] + delta, 0)

    def seed(self, key: str, value: int) -> None:
        with self._lock:
            self._counts.setdefault(key, value)


_local = LocalBudgets()


async def reserve(
    key: KeyContext,
    model_id: str,
    body: dict,
    price: Price | None,
    prompt: int | None = None,
    output: int | None = None,
) -> Hold | None:
    """Reserve the request's worst case against the key's budgets, or raise.

    Return None when the key has no budget. ``prompt`` defaults to the
    estimate from the body, made only for keys that have a budget.
    """
    limits = key.limits or {}
    usd = _micro(limits.get("budget_usd"))
    tokens = int(limits.get("budget_tokens") or 0)
    if not usd and not tokens:
        return None
    if usd and price is None:
        raise ProxyError(
            400,
            f"The model '{model_id}' has no known price, so this key's spend budget "
            "cannot be applied. An organisation owner can set a price for it.",
            code="model_price_unknown",
            param="model",
        )
    if prompt is None:
        prompt = prompt_estimate(body)
    if output is None:
        output = _max_output(body, price)
    worst_usd = price.micro_usd(prompt, output) if usd and price else 0
    start, end = period_bounds(limits.get("budget_period", "lifetime"), _now())
    hold = Hold(
        key.public_id,
        redis_keys(key.public_id, start),
        prompt,
        output,
        worst_usd,
        prompt + output,
        price,
    )
    expires = int((end + timedelta(days=1)).timestamp() * 1000) if end else 0
    try:
        refused = await _reserve(key, hold, (usd, tokens), start, expires)
    except (RedisError, OSError) as exc:
        _unavailable(key, exc)
        return None
    if refused is not None:
        raise _exceeded(refused, limits, end)
    return hold


async def settle(hold: Hold, prompt_tokens: int, completion_tokens: int) -> None:
    """Replace the reservation by the tokens really used."""
    spent = hold.price.micro_usd(prompt_tokens, completion_tokens) if hold.price else 0
    deltas = (
        spent - hold.reserved_usd if hold.reserved_usd else 0,
        prompt_tokens + completion_tokens - hold.reserved_tokens,
    )
    shared = store()
    try:
        if isinstance(shared, RedisStore):
            await shared.aeval(SETTLE, SETTLE_SHA, list(hold.keys), list(deltas))
        else:
            _local.settle(hold.keys, deltas)
    except (RedisError, OSError):
        # The counter then over-counts this request until it is re-seeded.
        logger.warning("budget settle failed for key %s", hold.public_id, exc_info=True)


async def _reserve(
    key: KeyContext,
    hold: Hold,
    limits: tuple[int, int],
    start: datetime | None,
    expires: int,
) -> int | None:
    amounts = (hold.reserved_usd, hold.reserved_tokens)
    shared = store()
    for _ in range(3):
        if isinstance(shared, RedisStore):
            reply = await shared.aeval(
                RESERVE,
                RESERVE_SHA,
                list(hold.keys),
                [limits[0], amounts[0], limits[1], amounts[1], expires],
            )
            verdict, which = int(reply[0]), int(reply[1]) - 1 if len(reply) > 1 else 0
        else:
            verdict, which = _local.reserve(hold.keys, limits, amounts)
        if verdict == 0:
            return None
        if verdict == 1:
            return which
        spent = await sync_to_async(spent_since)(key, start)
        value = spent[which]
        if isinstance(shared, RedisStore):
            await shared.aeval(SEED, SEED_SHA, [hold.keys[which]], [value, expires])
        else:
            _local.seed(hold.keys[which], value)
    raise RedisError("budget counter could not be seeded")


def spent_since(key: KeyContext, start: datetime | None) -> tuple[int, int]:
    """Return the key's recorded spend (micro-dollars) and tokens since ``start``."""
    close_old_connections()  # run in a worker thread of the proxy
    return recorded_spend(key.organization_id, key.api_key_id, start)


def recorded_spend(
    organization_id: int, api_key_id: int, start: datetime | None
) -> tuple[int, int]:
    """The usage records' spend (micro-dollars) and tokens since ``start``."""
    from proxy.models import UsageRecord

    with tenant_context(organization_id):
        records = UsageRecord.objects.filter(api_key_id=api_key_id)
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


def _exceeded(which: int, limits: dict, end: datetime | None) -> ProxyError:
    period = limits.get("budget_period", "lifetime")
    if which == 0:
        what = f"spend budget of ${Decimal(limits['budget_usd']).normalize():f}"
    else:
        what = f"token budget of {limits['budget_tokens']}"
    when = "for its lifetime" if end is None else f"for this {period}"
    headers = {}
    if end is not None:
        seconds = math.ceil((end - _now()).total_seconds())
        headers["retry-after"] = str(max(seconds, 1))
    return ProxyError(
        429,
        f"This API key's {what} {when} does not cover this request's worst case "
        "(its prompt plus max_tokens).",
        type="insufficient_quota",
        code="budget_exceeded",
        headers=headers,
    )


def _unavailable(key: KeyContext, exc: Exception) -> None:
    if settings.LIMITS_FAIL_OPEN:
        logger.warning(
            "budget not enforced for key %s: the store failed (%s); "
            "LIMITS_FAIL_OPEN lets the request through",
            key.public_id,
            exc,
        )
        return
    logger.error("budget cannot be checked for key %s", key.public_id, exc_info=exc)
    raise ProxyError(
        503,
        "The gateway cannot check this key's budget; try again shortly.",
        type="server_error",
        code="service_unavailable",
        headers={"retry-after": "5"},
    )
