"""The management API for one organisation's guardrails."""

from django.urls import path

from guardrails import api

urlpatterns = [
    path("guardrails/policy", api.PolicyDetail.as_view(), name="api-guardrail-policy"),
    path(
        "projects/<slug:slug>/guardrails/policy",
        api.PolicyDetail.as_view(),
        name="api-project-guardrail-policy",
    ),
    path("guardrails/rules/", api.RuleList.as_view(), name="api-guardrail-rules"),
    path(
        "guardrails/rules/<int:pk>/",
        api.RuleDetail.as_view(),
        name="api-guardrail-rule",
    ),
    path("guardrails/test", api.TestConsole.as_view(), name="api-guardrail-test"),
    path("guardrails/events", api.EventList.as_view(), name="api-guardrail-events"),
]
