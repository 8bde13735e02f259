"""The audit review pages: the filtered trail, one event, and its exports."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from accounts import policy
from accounts.models import Organization
from audit import export, selectors
from audit.context import Actor
from audit.forms import EventFilterForm, EventPageForm


@login_required
def event_list(request: HttpRequest, org: str) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "audit.view")
    form = EventPageForm(request.GET)
    if not form.is_valid():
        return _invalid(request, organization, form)

    page = selectors.event_page(organization, form.filters(), **form.paging())
    return render(
        request,
        "audit/event_list.html",
        {
            "organization": organization,
            "form": form,
            "page": page,
            "links": _page_links(form, page),
            "filter_query": urlencode(form.params()),
        },
    )


@login_required
def event_detail(request: HttpRequest, org: str, event_id: int) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "audit.view")
    detail = selectors.event_detail(organization, event_id)
    return render(
        request,
        "audit/event_detail.html",
        {"organization": organization, "item": detail, "event": detail.event},
    )


@login_required
def event_export(request: HttpRequest, org: str, format: str) -> HttpResponseBase:
    organization = policy.organization_for(request.user, org, "audit.export")
    form = EventFilterForm(request.GET)
    if not form.is_valid():
        return _invalid(request, organization, form)

    started = export.export_start(
        organization=organization,
        format=format,
        filters=form.filters(),
        params=form.params(),
        actor=Actor.user(request.user),
    )
    return export.export_response(started)


def _page_links(form: EventPageForm, page: selectors.EventPage) -> dict[str, str]:
    """Query strings of the newest, newer and older pages, filters kept."""
    query = form.params()
    if form.cleaned_data.get("page_size"):
        query["page_size"] = str(form.cleaned_data["page_size"])
    links = {}
    if page.newer_than is not None:
        links["newest"] = "?" + urlencode(query)
        links["newer"] = "?" + urlencode({**query, "after": page.newer_than})
    if page.older_than is not None:
        links["older"] = "?" + urlencode({**query, "before": page.older_than})
    return links


def _invalid(
    request: HttpRequest, organization: Organization, form: EventFilterForm
) -> HttpResponse:
    context = {"organization": organization, "form": form, "page": None}
    return render(request, "audit/event_list.html", context, status=400)
