"""People and organisations for the account tests, and the shared gateway."""

from __future__ import annotations

import itertools

import pytest

from accounts.models import Membership, Organization, User
from accounts.services import (
    email_mark_verified,
    membership_add,
    organization_create,
)

# The gateway process lives with the proxy tests.
from tests.conftest import _settle_gateway_usage, fake_upstream, gateway  # noqa: F401

PASSWORD = "a long enough test password"
_numbers = itertools.count(1)


def person(name: str) -> User:
    number = next(_numbers)
    user = User.objects.create_user(
        username=f"{name}-{number}",
        email=f"{name}-{number}@example.test",
        password=PASSWORD,
        first_name=name.title(),
    )
    email_mark_verified(user)
    return user


def organization(name: str) -> Organization:
    return organization_create(slug=f"{name}-{next(_numbers)}")


def join(org: Organization, user: User, role: str = "member") -> Membership:
    return membership_add(organization=org, user=user, role=role)


@pytest.fixture
def alice() -> User:
    return person("alice")


@pytest.fixture
def bob() -> User:
    return person("bob")


def reauthenticated(client, user):
    """``client`` signed in as ``user``, with a fresh password check just done
    (sensitive actions ask for one)."""
    client.force_login(user)
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def mailed_invitation(org, owner, email: str, capture) -> str:
    """Invite ``email`` and return the path of the link in the mail sent.

    ``capture`` is pytest-django's django_capture_on_commit_callbacks: the
    mail goes out when the invitation commits.
    """
    import re

    from django.core import mail

    from accounts.invitations import invitation_create

    with capture(execute=True):
        invitation_create(
            organization=org,
            email=email,
            role="viewer",
            invited_by=owner,
            link=f"http://testserver/invitations/{org.slug}/{{token}}/",
        )
    return re.search(r"testserver(/invitations/\S+/)", mail.outbox[-1].body).group(1)
