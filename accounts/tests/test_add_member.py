"""The add_member command: the way in to an organisation's pages for now."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.core.management.base import CommandError

import pytest

from accounts import policy
from accounts.tests.conftest import join, organization

pytestmark = pytest.mark.django_db


def add(*args: str) -> str:
    out = io.StringIO()
    call_command("add_member", *args, stdout=out)
    return out.getvalue()


def test_a_user_is_added_and_their_role_changed(alice):
    org = organization("acme")
    assert "is member" in add(org.slug, alice.username)
    assert not policy.can(alice, "audit.view", org)

    assert "is admin" in add(org.slug, alice.username, "--role", "admin")
    assert policy.can(alice, "audit.view", org)


def test_the_last_owner_is_not_demoted_and_strangers_are_named(alice):
    org = organization("solo")
    join(org, alice, "owner")
    with pytest.raises(CommandError, match="owner"):
        add(org.slug, alice.username, "--role", "viewer")
    with pytest.raises(CommandError, match="no user"):
        add(org.slug, "nobody-here")
    with pytest.raises(CommandError, match="no organisation"):
        add("no-such-org", alice.username)


def test_a_person_may_be_named_by_email_address(alice):
    org = organization("by-mail")

    assert "is member" in add(org.slug, alice.email.upper())
    assert policy.role_in(alice, org) == "member"
