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
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache

security_logger = logging.getLogger("warden.security.auth")


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        keys = self._counters()
        if any(_count(key) >= limit for key, limit in keys):
            security_logger.warning("sign-in refused: too many failures")
            raise forms.ValidationError(
                "Too many failed sign-ins; try again in a quarter of an hour.",
                code="throttled",
            )
        try:
            return super().clean()
        except forms.ValidationError:
            for key, _ in keys:
                cache.add(key, 0, timeout=settings.SIGNIN_FAILURE_WINDOW_SECONDS)
                try:
                    cache.incr(key)
                except ValueError:  # the window ended meanwhile
                    pass
            raise

    def _counters(self) -> list[tuple[str, int]]:
        name = str(self.data.get("username", "")).strip().lower()[:150]
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        return [
            (f"signin-failures:name:{name}", settings.SIGNIN_FAILURES_PER_NAME),
            (f"signin-failures:addr:{address}", settings.SIGNIN_FAILURES_PER_ADDRESS),
        ]


def _count(key: str) -> int:
    return int(cache.get(key) or 0)
