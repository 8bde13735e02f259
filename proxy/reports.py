"""What an organisation's traffic added up to: requests, tokens, cost and
errors per day, and by project, key and model, for the usage page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Organization
from accounts.tenancy import tenant_context
from proxy.models import UsageRecord

PERIODS = (1, 7, 30, 90)


@dataclass(frozen=True)
class Totals:
    requests: int
    tokens: int
    cost: Decimal
    errors: int


@dataclass(frozen=True)
class Report:
    since: datetime
    days: list[tuple[date, Totals]]
    total: Totals
    by_project: list[tuple[str, Totals]]
    by_key: list[tuple[str, Totals]]
    by_model: list[tuple[str, Totals]]


_SUMS: dict[str, Any] = {
    "requests": Count("id"),
    "prompt": Sum("prompt_tokens"),
    "completion": Sum("completion_tokens"),
    "cost": Sum("cost_usd"),
    "errors": Count("id", filter=Q(status_code__gte=400)),
}


def usage_report(
    organization: Organization,
    *,
    days: int,
    project: str = "",
    key: str = "",
    model: str = "",
) -> Report:
    since = timezone.now() - timedelta(days=days)
    with tenant_context(organization):
        records = UsageRecord.objects.for_organization(organization).filter(
            created_at__gte=since
        )
        if project:
            records = records.filter(project__slug=project)
        if key:
            records = records.filter(api_key__public_id=key)
        if model:
            records = records.filter(model=model)
        per_day = {
            row["day"]: _totals(row)
            for row in records.annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(**_SUMS)
        }
        total = _totals(records.aggregate(**_SUMS))
        by_project = _grouped(records, "project__slug", "(no project)")
        by_key = _grouped(records, "api_key__name", "(no key)")
        by_model = _grouped(records, "model", "(no model)")
    first = since.date()
    empty = Totals(0, 0, Decimal(0), 0)
    series = [
        (first + timedelta(days=n), per_day.get(first + timedelta(days=n), empty))
        for n in range(days + 1)
    ]
    return Report(since, series, total, by_project, by_key, by_model)


def _grouped(records: Any, field: str, blank: str) -> list[tuple[str, Totals]]:
    rows = records.values(field).annotate(**_SUMS).order_by("-requests")[:20]
    return [(row[field] or blank, _totals(row)) for row in rows]


def _totals(row: dict[str, Any]) -> Totals:
    return Totals(
        requests=row["requests"] or 0,
        tokens=(row["prompt"] or 0) + (row["completion"] or 0),
        cost=row["cost"] or Decimal(0),
        errors=row["errors"] or 0,
    )


def bars(values: list[float], height: int = 80) -> list[tuple[float, float]]:
    """(y, height) of each bar of a chart ``height`` high, scaled to the largest."""
    top = max(values, default=0) or 1
    return [(height - v / top * height, v / top * height) for v in values]
