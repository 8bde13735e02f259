"""The admin revokes keys and never deletes them."""

from django.contrib.admin.sites import site
from django.test import RequestFactory

import pytest

from accounts.services import organization_create, project_create
from accounts.tenancy import platform_context
from keys.models import ApiKey
from keys.services import api_key_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_request(django_user_model):
    request = RequestFactory().post("/admin/keys/apikey/")
    request.user = django_user_model.objects.create_superuser(
        "root", "root@example.com", "a-long-enough-password"
    )
    request._messages = type("Messages", (), {"add": lambda *args, **kw: None})()
    return request


def test_keys_cannot_be_deleted_from_the_admin(admin_request):
    assert site._registry[ApiKey].has_delete_permission(admin_request) is False


def test_admin_revoke_action_revokes_the_selected_keys(admin_request):
    organization = organization_create(slug="admin-org")
    project = project_create(organization=organization, slug="default")
    api_key, _ = api_key_create(project=project, name="to revoke")
    kept, _ = api_key_create(project=project, name="to keep")

    # The admin's requests run in a platform transaction (PlatformAdminMiddleware).
    with platform_context():
        site._registry[ApiKey].revoke(
            admin_request, ApiKey.objects.filter(pk=api_key.pk)
        )
        api_key.refresh_from_db()
        kept.refresh_from_db()
    assert api_key.revoked_at is not None
    assert kept.revoked_at is None
