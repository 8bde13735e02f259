"""Secret-bearing links leave no secret in the logs, and refusals no traceback."""

from __future__ import annotations

import logging

import pytest

from accounts.invitations import invitation_create
from accounts.tests.conftest import join, organization, person
from gateway_project.logfilters import SecretPathFilter

pytestmark = pytest.mark.django_db


def test_an_invitation_link_refused_is_logged_without_its_token(
    client, caplog, django_capture_on_commit_callbacks
):
    from django.core import mail

    org = organization("acme")
    owner, stranger = person("olivia"), person("sam")
    join(org, owner, "owner")
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            organization=org,
            email="right@example.test",
            role="viewer",
            invited_by=owner,
            link=f"http://testserver/invitations/{org.slug}/{{token}}/",
        )
    path = mail.outbox[-1].body.split("http://testserver", 1)[1].split()[0]
    token = path.rstrip("/").rsplit("/", 1)[1]
    client.force_login(stranger)

    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, SecretPathFilter) for f in h.filters)
    )
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(path).status_code == 400
    formatted = " ".join(
        handler.format(r) for r in caplog.records if handler.filter(r)
    )

    assert "Bad Request" in formatted
    assert token not in formatted
    assert "Traceback" not in formatted
