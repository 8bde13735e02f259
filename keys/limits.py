"""The limits a gateway key can carry, as stored in ``ApiKey.limits``.

Every limit is optional. ``normalise_limits`` is the one place that checks a
limits object and gives it its stored form; the proxy enforces what it holds.

- ``rpm``, ``tpm``: requests and tokens per minute.
- ``max_concurrency``: requests in flight at once.
- ``allowed_models``: model names (``openai/gpt-4o-mini``) or whole providers
  (``openai/*``).
- ``allowed_ips``: client networks in CIDR form.
- ``allowed_endpoints``: among ``ENDPOINTS``.
- ``budget_usd`` with ``budget_period`` (``day``, ``week``, ``month`` or
  ``lifetime``, the default), and ``budget_tokens`` over the same period.

A project carries the budget limits too; every key of the project counts
against them as well as against its own.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal, InvalidOperation
from typing import Any

ENDPOINTS = ("chat/completions", "embeddings", "models", "messages")
PERIODS = ("day", "week", "month", "lifetime")
_COUNTS = ("rpm", "tpm", "max_concurrency", "budget_tokens")
_KNOWN = frozenset(
    {*_COUNTS, "allowed_models", "allowed_ips", "allowed_endpoints"}
    | {"budget_usd", "budget_period"}
)
MAX_COUNT = 10**12
_BUDGETS = frozenset({"budget_usd", "budget_tokens", "budget_period"})
BUDGETS_ENFORCED = True


class LimitError(ValueError):
    """A limits object that cannot be stored; the message says which part."""


def normalise_limits(limits: Any) -> dict[str, Any]:
    if limits is None:
        return {}
    if not isinstance(limits, dict):
        raise LimitError("limits must be a JSON object")
    unknown = sorted(set(limits) - _KNOWN)
    if unknown:
        raise LimitError(f"unknown limit {unknown[0]!r}")
    # Off only while a proxy that cannot enforce budgets is deployed: a key
    # must not appear to carry a budget nobody applies.
    budgets = sorted(
        _BUDGETS.intersection(k for k, v in limits.items() if v is not None)
    )
    if budgets and not BUDGETS_ENFORCED:
        raise LimitError(f"{budgets[0]}: spend and token budgets are not available yet")
    result: dict[str, Any] = {}
    for name in _COUNTS:
        if limits.get(name) is not None:
            result[name] = _count(name, limits[name])
    if limits.get("allowed_models") is not None:
        result["allowed_models"] = _models(limits["allowed_models"])
    if limits.get("allowed_ips") is not None:
        result["allowed_ips"] = _networks(limits["allowed_ips"])
    if limits.get("allowed_endpoints") is not None:
        result["allowed_endpoints"] = _endpoints(limits["allowed_endpoints"])
    if limits.get("budget_usd") is not None:
        result["budget_usd"] = _usd(limits["budget_usd"])
    period = limits.get("budget_period")
    if period is not None:
        if period not in PERIODS:
            raise LimitError(f"budget_period must be one of {', '.join(PERIODS)}")
        if "budget_usd" not in result and "budget_tokens" not in result:
            raise LimitError("budget_period needs budget_usd or budget_tokens")
        result["budget_period"] = period
    return result


def normalise_project_limits(limits: Any) -> dict[str, Any]:
    """Check a project's limits: the budgets its keys share, nothing else."""
    if isinstance(limits, dict):
        other = sorted(set(limits) - _BUDGETS)
        if other:
            raise LimitError(
                f"{other[0]!r} is not a project limit; a project carries "
                "budget_usd, budget_tokens and budget_period"
            )
    return normalise_limits(limits)


def _count(name: str, value: Any) -> int:
    if type(value) is not int or not 1 <= value <= MAX_COUNT:
        raise LimitError(f"{name} must be a whole number from 1 to {MAX_COUNT}")
    return value


def _strings(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LimitError(f"{name} must be a list of strings")
    if not value:
        raise LimitError(f"{name} must not be empty (leave it out to allow all)")
    return [v.strip() for v in value]


def _models(value: Any) -> list[str]:
    models = _strings("allowed_models", value)
    for model in models:
        provider, _, name = model.partition("/")
        if not provider or not name or " " in model:
            raise LimitError(
                f"allowed_models: {model!r} is not provider/model or provider/*"
            )
    return sorted(set(models))


def _networks(value: Any) -> list[str]:
    networks = []
    for text in _strings("allowed_ips", value):
        try:
            networks.append(str(ipaddress.ip_network(text, strict=False)))
        except ValueError:
            raise LimitError(
                f"allowed_ips: {text!r} is not an address or CIDR"
            ) from None
    return sorted(set(networks))


def _endpoints(value: Any) -> list[str]:
    endpoints = _strings("allowed_endpoints", value)
    for endpoint in endpoints:
        if endpoint.strip("/") not in ENDPOINTS:
            raise LimitError(
                f"allowed_endpoints: {endpoint!r} is not one of {', '.join(ENDPOINTS)}"
            )
    return sorted({e.strip("/") for e in endpoints})


def _usd(value: Any) -> str:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise LimitError("budget_usd must be an amount in dollars") from None
    if not amount.is_finite() or amount <= 0 or amount > Decimal(10**9):
        raise LimitError("budget_usd must be more than 0 and at most 1000000000")
    return str(amount.quantize(Decimal("0.000001")))
