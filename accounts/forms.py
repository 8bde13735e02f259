"""Password sign-in with a limit on guessing.

Failed attempts are counted per account name and per client address in the
shared cache; past the limit, sign-in is refused for the rest of the window
before any password is checked.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from allauth.account.forms import LoginForm

from gateway_project.clientaddr import request_address

security_logger = logging.getLogger("warden.security.auth")


class ThrottledLoginForm(LoginForm):
    """allauth's sign-in form, with a count of failures per name and address
    on top of allauth's own limits."""

    def clean(self) -> dict[str, Any]:
        # Every attempt is counted before its password is checked, so parallel
        # guesses cannot all pass under the limit; a success gives it back.
        keys = self._counters()
        counts = [(key, _increment(key), limit) for key, limit in keys]
        if any(count > limit for _, count, limit in counts):
            security_logger.warning("sign-in refused: too many failures")
            raise forms.ValidationError(
                "Too many failed sign-ins; try again in a quarter of an hour.",
                code="throttled",
            )
        cleaned = super().clean()
        for key, _, _ in counts:
            _decrement(key)
        return cleaned

    def _counters(self) -> list[tuple[str, int]]:
        # As Django compares it (NFKC), so look-alike spellings share a count.
        typed = str(self.data.get("login", "")).strip()[:254]
        name = get_user_model().normalize_username(typed).casefold()
        address = request_address(self.request) if self.request else ""
        return [
            (f"signin-failures:name:{name}", settings.SIGNIN_FAILURES_PER_NAME),
            (f"signin-failures:addr:{address}", settings.SIGNIN_FAILURES_PER_ADDRESS),
        ]


def _increment(key: str) -> int:
    cache.add(key, 0, timeout=settings.SIGNIN_FAILURE_WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between the two calls
        return 1


def _decrement(key: str) -> None:
    try:
        cache.decr(key)
    except ValueError:
        pass


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    slug = forms.SlugField(
        max_length=60,
        label="Short name (in addresses)",
        help_text="Lowercase letters, digits and hyphens.",
    )

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug != slug.lower() or slug.startswith("-"):
            raise forms.ValidationError("Use lowercase letters, digits and hyphens.")
        return slug


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(label="Role", choices=[])

    def __init__(self, *args: Any, roles: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles  # type: ignore[attr-defined]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=[])

    def __init__(self, *args: Any, roles: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles  # type: ignore[attr-defined]


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200, label="Project name")
    slug = forms.SlugField(max_length=60, label="Short name (in addresses)")
