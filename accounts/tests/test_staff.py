"""Staff reach the Django admin only with a second factor."""

from __future__ import annotations

import io
import re
import time

from django.contrib.admin.sites import site
from django.core.management import call_command
from django.core.management.base import CommandError

import pytest
from allauth.account.models import EmailAddress
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.staff import staff_create
from tests.factories import otp_signed_in

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough staff password"


def test_create_staff_prints_the_device_link_and_backup_codes_once(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    out = io.StringIO()

    call_command(
        "create_staff", "sam", "sam@example.test", "--password-stdin", stdout=out
    )

    text = out.getvalue()
    assert re.search(r"otpauth://totp/[^\s]+secret=[A-Z2-7]+", text)
    codes = re.findall(r"^\s+([0-9a-f]{10})$", text, re.MULTILINE)
    assert len(codes) == 10
    device = TOTPDevice.objects.get(user__username="sam")
    assert device.confirmed and device.user.is_staff
    assert EmailAddress.objects.get(email="sam@example.test").verified
    assert PASSWORD not in text


def test_create_staff_refuses_a_weak_password(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))

    with pytest.raises(CommandError, match="too short"):
        call_command("create_staff", "weak", "w@example.test", "--password-stdin")


def test_the_admin_asks_for_the_second_factor(client):
    account = staff_create(
        username="ada", email="ada@example.test", password=PASSWORD, superuser=True
    )
    client.force_login(account.user)

    assert client.get("/admin/").status_code == 302  # signed in, but no code

    client.logout()
    device = TOTPDevice.objects.get(user=account.user)
    wrong = client.post(
        "/admin/login/",
        {"username": "ada", "password": PASSWORD, "otp_device": device.persistent_id,
         "otp_token": "000000"},
    )  # fmt: skip
    assert wrong.status_code == 200 and client.get("/admin/").status_code == 302
    time.sleep(1.1)  # a failed code holds the device back for a second
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    right = client.post(
        "/admin/login/",
        {"username": "ada", "password": PASSWORD, "otp_device": device.persistent_id,
         "otp_token": f"{code:06d}"},
    )  # fmt: skip
    assert right.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_backup_code_works_once(client):
    account = staff_create(
        username="bo", email="bo@example.test", password=PASSWORD, superuser=True
    )
    code = account.backup_codes[0]
    backup = StaticDevice.objects.get(user=account.user)
    form = {
        "username": "bo",
        "password": PASSWORD,
        "otp_device": backup.persistent_id,
        "otp_token": code,
    }

    assert client.post("/admin/login/", form).status_code == 302
    client.logout()
    assert client.post("/admin/login/", form).status_code == 200


def test_second_factor_secrets_have_no_admin_page(client, django_user_model):
    staff = django_user_model.objects.create_superuser("root", "r@example.test", "x")
    otp_signed_in(client, staff)

    index = client.get("/admin/").content.decode()

    assert client.get("/admin/").status_code == 200
    for hidden in ("totpdevice", "staticdevice", "authenticator", "socialapp"):
        assert f"/admin/{hidden}" not in index and hidden not in index.lower()
    assert not any(
        model._meta.model_name in ("totpdevice", "staticdevice")
        for model in site._registry
    )


def test_devices_can_be_replaced(capsys):
    staff_create(username="cy", email="cy@example.test", password=PASSWORD)
    first = TOTPDevice.objects.get(user__username="cy").key

    call_command("create_staff", "cy", "--reset-devices")

    assert TOTPDevice.objects.get(user__username="cy").key != first
    assert "otpauth://" in capsys.readouterr().out
