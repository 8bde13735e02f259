"""The usage filters, shared by the usage page and the usage API."""

from __future__ import annotations

from django import forms

from proxy.reports import PERIODS


class UsageFilterForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Period",
        choices=[(d, f"last {d} day{'s' if d > 1 else ''}") for d in PERIODS],
        coerce=int,
        required=False,
        empty_value=7,  # type: ignore[arg-type]  # an int is fine with coerce=int
    )
    project = forms.SlugField(label="Project", required=False)
    key = forms.SlugField(label="Key id", required=False)
    model = forms.CharField(label="Model", required=False, max_length=200)
