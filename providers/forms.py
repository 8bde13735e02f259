"""The provider key form."""

from __future__ import annotations

from typing import Any

from django import forms

from providers.catalogue import catalogue


class ProviderKeyForm(forms.Form):
    provider = forms.ChoiceField(label="Provider", choices=[])
    secret = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted; shown afterwards by its last four characters.",
    )
    base_url = forms.URLField(
        label="Base URL",
        required=False,
        assume_scheme="https",
        help_text="Only for a provider without a fixed address (a custom or "
        "self-hosted server).",
    )
    project = forms.ChoiceField(
        label="For", choices=[], required=False, help_text="One project, or all."
    )

    def __init__(self, *args: Any, projects: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [  # type: ignore[attr-defined]
            (name, name)
            for name, spec in sorted(catalogue().providers.items())
            if spec.adapter != "demo"
        ]
        self.fields["project"].choices = [("", "every project")] + [  # type: ignore[attr-defined]
            (p, p) for p in projects
        ]
