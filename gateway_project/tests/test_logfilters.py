"""Secret-bearing links leave no secret in the logs, and refusals no traceback."""

from __future__ import annotations

import logging

import pytest

from accounts.tests.conftest import join, mailed_invitation, organization, person
from gateway_project.logfilters import SecretPathFilter

pytestmark = pytest.mark.django_db


def test_an_invitation_link_refused_is_logged_without_its_token(
    client, caplog, django_capture_on_commit_callbacks
):
    org = organization("acme")
    owner, stranger = person("olivia"), person("sam")
    join(org, owner, "owner")
    path = mailed_invitation(
        org, owner, "right@example.test", django_capture_on_commit_callbacks
    )
    token = path.rstrip("/").rsplit("/", 1)[1]
    client.force_login(stranger)

    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, SecretPathFilter) for f in h.filters)
    )
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(path).status_code == 400
    formatted = " ".join(handler.format(r) for r in caplog.records if handler.filter(r))

    assert "Bad Request" in formatted
    assert token not in formatted
    assert "Traceback" not in formatted
