"""Staff accounts: the people who reach the Django admin, always with a
second factor (django-otp: a TOTP device and single-use backup codes)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import email_mark_verified
from audit.services import record_for_user

BACKUP_CODES = 10


@dataclass(frozen=True)
class StaffAccount:
    user: Any
    otpauth_uri: str  # for an authenticator app; shown once
    backup_codes: list[str]  # single use; shown once


@transaction.atomic
def staff_create(
    *, username: str, email: str, password: str, superuser: bool = False
) -> StaffAccount:
    """Create a staff account with its TOTP device and backup codes."""
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        raise ValueError(f"a user named {username!r} exists already")
    make = users.objects.create_superuser if superuser else users.objects.create_user
    user = make(username=username, email=email, password=password)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    email_mark_verified(user)
    account = _devices(user)
    record_for_user(user, "auth.staff_created", target=user)
    return account


@transaction.atomic
def staff_reset_devices(user: Any) -> StaffAccount:
    """Replace a staff member's TOTP device and backup codes (a lost phone)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    account = _devices(user)
    record_for_user(user, "auth.staff_devices_reset", target=user)
    return account


def _devices(user: Any) -> StaffAccount:
    totp = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="backup codes")
    codes = [secrets.token_hex(5) for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(
        StaticToken(device=static, token=code) for code in codes
    )
    return StaffAccount(user, totp.config_url, codes)
