"""A key's use of its limits right now, for the admin and the API.

Rate limits are read from the shared counters the proxy keeps in Redis (without
Redis each worker counts for itself and there is no shared figure to show).
Budgets are read from the usage records: settled spend, not the reservations
of requests still in flight.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Project
from gateway_project.store import RedisStore, store
from keys.models import ApiKey
from proxy.budgets import period_bounds, recorded_spend
from proxy.counters import redis_keys


@dataclass(frozen=True)
class LimitUse:
    name: str
    used: int
    limit: int


def usage_now(counted_as: str, limits: dict) -> list[LimitUse] | None:
    """Use of each rate limit the key has; None when it cannot be known."""
    wanted = [name for name in ("rpm", "tpm", "max_concurrency") if limits.get(name)]
    shared = store()
    if not wanted or not isinstance(shared, RedisStore):
        return None if wanted else []
    slots, rpm, tpm = redis_keys(counted_as)
    now_ms = time.time() * 1000
    used = {
        "rpm": int(shared.get(rpm) or 0),
        "tpm": max(int(shared.get(tpm) or 0), 0),
        "max_concurrency": shared.zcount(slots, now_ms),
    }
    return [LimitUse(name, used[name], limits[name]) for name in wanted]


def budget_usage(api_key: ApiKey) -> dict[str, dict[str, str | int]]:
    """Spend and tokens settled in the key's current budget period."""
    return _budgets(api_key.limits, api_key.organization_id, lineage=api_key.lineage_id)


def project_budget_usage(project: Project) -> dict[str, dict[str, str | int]]:
    """Spend and tokens settled by all the project's keys in its budget period."""
    return _budgets(project.limits, project.organization_id, project=project.pk)


def _budgets(
    limits: dict | None, organization_id: int, **owner: Any
) -> dict[str, dict[str, str | int]]:
    limits = limits or {}
    if not (limits.get("budget_usd") or limits.get("budget_tokens")):
        return {}
    period = limits.get("budget_period", "lifetime")
    start, end = period_bounds(period, timezone.now())
    micro_usd, tokens = recorded_spend(organization_id, start, **owner)
    usage: dict[str, dict[str, str | int]] = {}
    if limits.get("budget_usd"):
        spent = (Decimal(micro_usd) / 1_000_000).quantize(Decimal("0.000001"))
        usage["budget_usd"] = {"used": str(spent), "limit": limits["budget_usd"]}
    if limits.get("budget_tokens"):
        usage["budget_tokens"] = {"used": tokens, "limit": limits["budget_tokens"]}
    for entry in usage.values():
        entry["period"] = period
        entry["resets_at"] = end.isoformat() if end else ""
    return usage


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


def describe_budgets(usage: dict[str, dict[str, str | int]]) -> str:
    if not usage:
        return "no budgets"
    parts = []
    for name, use in usage.items():
        unit = "$" if name == "budget_usd" else ""
        parts.append(
            f"{name}: {unit}{use['used']} of {unit}{use['limit']} ({use['period']})"
        )
    return " · ".join(parts)
