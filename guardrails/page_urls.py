"""The guardrail page of one organisation."""

from django.urls import path

from guardrails import pages

urlpatterns = [
    path("", pages.guardrails_page, name="guardrails"),
    path("rules/", pages.rule_add, name="guardrail_rule_add"),
    path("rules/<int:pk>/remove/", pages.rule_delete, name="guardrail_rule_delete"),
    path("try/", pages.try_text, name="guardrail_try"),
]
