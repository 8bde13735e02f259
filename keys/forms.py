"""Forms of the key pages."""

from __future__ import annotations

from typing import Any

from django import forms

from keys.models import ApiKey
from keys.services import DEFAULT_GRACE_HOURS, MAX_GRACE_HOURS


class KeyForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    project = forms.ChoiceField(label="Project", choices=[])
    environment = forms.ChoiceField(
        label="Environment", choices=ApiKey.Environment.choices
    )

    def __init__(self, *args: Any, projects: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [(p, p) for p in projects]  # type: ignore[attr-defined]


class RotateForm(forms.Form):
    grace_hours = forms.FloatField(
        label="Hours the old key keeps working",
        min_value=0,
        max_value=MAX_GRACE_HOURS,
        initial=DEFAULT_GRACE_HOURS,
    )
