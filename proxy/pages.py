"""The usage page of an organisation: requests, tokens, cost and errors
over time, per project, key and model. Charts are drawn in SVG on the
server, so the page needs no script."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import policy
from proxy.forms import UsageFilterForm
from proxy.reports import bars, usage_report

CHART_HEIGHT = 80


@login_required
def usage(request: HttpRequest, org: str) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "usage.view")
    form = UsageFilterForm(request.GET)
    valid = form.is_valid()
    filters = form.cleaned_data if valid else {}
    report = usage_report(
        organization,
        days=filters.get("days") or 7,
        project=filters.get("project") or "",
        key=filters.get("key") or "",
        model=filters.get("model") or "",
    )
    charts = []
    for name, label in (
        ("requests", "Requests"),
        ("tokens", "Tokens"),
        ("cost", "Cost (USD)"),
        ("errors", "Errors"),
    ):
        values = [float(getattr(totals, name)) for _, totals in report.days]
        width = 100 / max(len(values), 1)
        charts.append(
            {
                "label": label,
                "bars": [
                    {
                        "x": i * width,
                        "y": y,
                        "h": h,
                        "w": width * 0.8,
                        "day": day,
                        "value": getattr(totals, name),
                    }
                    for i, ((day, totals), (y, h)) in enumerate(
                        zip(report.days, bars(values, CHART_HEIGHT), strict=True)
                    )
                ],  # fmt: skip
            }
        )
    return render(
        request,
        "usage/page.html",
        {
            "organization": organization,
            "form": form,
            "report": report,
            "charts": charts,
            "height": CHART_HEIGHT,
        },
        status=200 if valid else 400,
    )
