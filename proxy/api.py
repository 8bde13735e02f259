"""The management API for usage: what the organisation's traffic added up to."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from proxy.forms import UsageFilterForm
from proxy.reports import PERIODS, Totals, usage_report


class UsageReport(APIView):
    """GET ``?days=1|7|30|90&project=&key=&model=``: totals per day, and by
    project, key and model."""

    @extend_schema(
        parameters=[
            OpenApiParameter("days", int, enum=PERIODS),
            OpenApiParameter("project", str, description="A project's slug."),
            OpenApiParameter("key", str, description="A key's id."),
            OpenApiParameter("model", str),
        ]
    )
    def get(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "usage.view")
        form = UsageFilterForm(request.query_params)
        if not form.is_valid():
            return Response(form.errors, status=400)
        data = form.cleaned_data
        report = usage_report(
            organization,
            days=data.get("days") or 7,
            project=data.get("project") or "",
            key=data.get("key") or "",
            model=data.get("model") or "",
        )
        return Response(
            {
                "since": report.since,
                "total": _totals(report.total),
                "days": [{"day": d, **_totals(t)} for d, t in report.days],
                "by_project": [
                    {"project": n, **_totals(t)} for n, t in report.by_project
                ],
                "by_key": [{"key": n, **_totals(t)} for n, t in report.by_key],
                "by_model": [{"model": n, **_totals(t)} for n, t in report.by_model],
            }
        )


def _totals(totals: Totals) -> dict:
    return {
        "requests": totals.requests,
        "tokens": totals.tokens,
        "cost_usd": str(totals.cost),
        "errors": totals.errors,
    }
