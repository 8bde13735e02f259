"""An organisation's own model prices, which spend budgets rely on."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.core.management.base import CommandError

import pytest

from accounts.models import Organization
from accounts.services import organization_create
from accounts.tenancy import tenant_context
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_price_is_set_audited_and_removed():
    organization = organization_create(slug="priced")

    run(
        "set_model_price", "--org", "priced", "--model", "vllm/llama",
        "--input-per-mtok", "0.2", "--output-per-mtok", "0.6", "--max-output", "8192",
    )  # fmt: skip

    organization.refresh_from_db()
    assert organization.model_prices == {
        "vllm/llama": {
            "input_per_mtok": "0.2",
            "output_per_mtok": "0.6",
            "max_output": 8192,
        }
    }
    with tenant_context(organization):
        event = AuditEvent.objects.filter(action="organization.updated").last()
    assert event is not None
    run("set_model_price", "--org", "priced", "--model", "vllm/llama", "--remove")
    assert Organization.objects.get(pk=organization.pk).model_prices == {}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--model", "llama", "--input-per-mtok", "1", "--output-per-mtok", "1"],
         "provider/model"),
        (["--model", "a/b", "--input-per-mtok", "-1", "--output-per-mtok", "1"],
         "0 or more"),
        (["--model", "a/b", "--input-per-mtok", "1"], "needed"),
    ],
)  # fmt: skip
def test_bad_prices_are_refused(options, message):
    organization_create(slug="priced")

    with pytest.raises(CommandError, match=message):
        run("set_model_price", "--org", "priced", *options)

    assert Organization.objects.get(slug="priced").model_prices == {}
