"""Mail without an SMTP server in production is not sent, and not logged."""

from __future__ import annotations

import logging

from django.core.mail import send_mail


def test_mail_without_smtp_off_debug_is_refused_without_its_content(settings, caplog):
    settings.EMAIL_BACKEND = "gateway_project.mail.UnsentMailBackend"
    caplog.set_level(logging.INFO)

    sent = send_mail(
        "Your sign-up code",
        "Your code is CANARY-123456",
        "warden@example.com",
        ["someone@example.com"],
    )

    assert sent == 0
    assert "mail not sent: EMAIL_HOST is not set" in caplog.text
    assert "CANARY-123456" not in caplog.text
    assert "someone@example.com" not in caplog.text
