"""Forms of the guardrail page: the policy, a custom rule, the test box."""

from __future__ import annotations

from typing import Any

from django import forms

from guardrails.policy import ACTIONS, DETECTORS, DIRECTIONS, FAILURE_MODES

LABELS = {"pii": "Personal data", "secrets": "Secrets", "jailbreak": "Jailbreaks"}


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class PolicyForm(forms.Form):
    on_error = forms.ChoiceField(
        label="When a detector fails", choices=_choices(FAILURE_MODES)
    )
    restore_placeholders = forms.BooleanField(
        label="Put redacted values back in answers", required=False
    )
    phone_region = forms.CharField(
        label="Region of phone numbers without a country code", max_length=2
    )
    jailbreak_threshold = forms.FloatField(
        label="Jailbreak score that counts (0 to 1)", min_value=0.01, max_value=1
    )

    def __init__(self, *args: Any, policy: dict[str, Any], **kwargs: Any) -> None:
        initial = {
            "on_error": policy["on_error"],
            "restore_placeholders": policy["restore_placeholders"],
            "phone_region": policy["phone_region"],
            "jailbreak_threshold": policy["jailbreak"]["threshold"],
        }
        for name in DETECTORS:
            initial[f"{name}_action"] = policy[name]["action"]
            initial[f"{name}_applies_to"] = policy[name]["applies_to"]
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for name in reversed(DETECTORS):
            actions = [
                a for a in ACTIONS if not (name == "jailbreak" and a == "redact")
            ]
            self.fields = {
                f"{name}_action": forms.ChoiceField(
                    label=f"{LABELS[name]}: action", choices=_choices(tuple(actions))
                ),
                f"{name}_applies_to": forms.ChoiceField(
                    label=f"{LABELS[name]}: checks", choices=_choices(DIRECTIONS)
                ),
                **self.fields,
            }

    def settings(self) -> dict[str, Any]:
        data = self.cleaned_data
        settings: dict[str, Any] = {
            name: {
                "action": data[f"{name}_action"],
                "applies_to": data[f"{name}_applies_to"],
            }
            for name in DETECTORS
        }
        settings["jailbreak"]["threshold"] = data["jailbreak_threshold"]
        settings["on_error"] = data["on_error"]
        settings["restore_placeholders"] = data["restore_placeholders"]
        settings["phone_region"] = data["phone_region"].upper()
        return settings


class RuleForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80)
    kind = forms.ChoiceField(
        label="Kind",
        choices=[("keywords", "keywords, one a line"), ("regex", "regular expression")],
    )
    pattern = forms.CharField(label="Keywords or pattern", widget=forms.Textarea)
    action = forms.ChoiceField(label="Action", choices=_choices(ACTIONS))
    applies_to = forms.ChoiceField(label="Checks", choices=_choices(DIRECTIONS))
    case_sensitive = forms.BooleanField(label="Case matters", required=False)


class TestForm(forms.Form):
    text = forms.CharField(
        label="Text to try", widget=forms.Textarea, max_length=100_000
    )
    direction = forms.ChoiceField(
        label="As", choices=[("input", "a prompt"), ("output", "an answer")]
    )
