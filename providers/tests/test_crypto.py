"""Envelope encryption of provider credentials, key rotation and the key command."""

from __future__ import annotations

import io
import os
import uuid

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from accounts.services import organization_create, project_by_slug, project_create
from accounts.tenancy import platform_context
from providers import crypto
from providers.crypto import CryptoError
from providers.models import DataKey, ProviderCredential
from providers.services import (
    CredentialError,
    credential_plaintext,
    data_key_for,
    organization_key_rotate,
    provider_credential_set,
)
from proxy import routing

SECRET = "sk-crypto-test-0123456789abcdef"
OTHER_SECRET = "sk-crypto-other-fedcba9876543210"


def make_org(slug: str):
    organization = organization_create(slug=slug)
    project_create(organization=organization, slug="default")
    return organization


def store(organization, provider: str = "openai", secret: str = SECRET):
    return provider_credential_set(
        organization=organization, provider=provider, secret=secret
    )


def run(name: str, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def fresh(credential: ProviderCredential) -> ProviderCredential:
    return all_rows(ProviderCredential, pk=credential.pk)[0]


def all_rows(model, **filters) -> list:
    """Read rows past row-level security, as the test's own check."""
    with platform_context():
        return list(model.objects.filter(**filters))


def tamper(model, filters: dict, **values) -> None:
    with platform_context():
        model.objects.filter(**filters).update(**values)


# --- AES-256-GCM -----------------------------------------------------------------

KEY = bytes(range(32))
AAD = crypto.credential_aad(7, "row-1", ProviderCredential.PURPOSE)


def test_encryption_round_trips():
    blob = crypto.encrypt(KEY, b"hello provider", AAD)
    assert b"hello provider" not in blob
    assert crypto.decrypt(KEY, blob, AAD) == b"hello provider"


def test_each_encryption_uses_a_fresh_nonce():
    first = crypto.encrypt(KEY, b"same plaintext", AAD)
    second = crypto.encrypt(KEY, b"same plaintext", AAD)
    assert first != second
    assert first[: crypto.NONCE_BYTES] != second[: crypto.NONCE_BYTES]


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_keys_that_are_not_32_bytes_are_refused(size):
    key = os.urandom(size)
    with pytest.raises(CryptoError, match="32 bytes"):
        crypto.encrypt(key, b"x", AAD)
    with pytest.raises(CryptoError, match="32 bytes"):
        crypto.decrypt(key, os.urandom(40), AAD)


@pytest.mark.parametrize("position", [0, 5, 12, 20, -1])
def test_tampered_ciphertext_fails(position):
    blob = bytearray(crypto.encrypt(KEY, b"some provider key", AAD))
    blob[position] ^= 0x01
    with pytest.raises(CryptoError):
        crypto.decrypt(KEY, bytes(blob), AAD)


@pytest.mark.parametrize("keep", [0, 11, 27, -1])
def test_truncated_ciphertext_fails(keep):
    blob = crypto.encrypt(KEY, b"some provider key", AAD)
    with pytest.raises(CryptoError):
        crypto.decrypt(KEY, blob[:keep], AAD)


@pytest.mark.parametrize(
    "aad",
    [
        crypto.credential_aad(8, "row-1", ProviderCredential.PURPOSE),
        crypto.credential_aad(7, "row-2", ProviderCredential.PURPOSE),
        crypto.credential_aad(7, "row-1", "another-purpose"),
        crypto.data_key_aad(7),
        b"",
    ],
    ids=["other-org", "other-row", "other-purpose", "data-key", "empty"],
)
def test_ciphertext_under_other_associated_data_fails(aad):
    blob = crypto.encrypt(KEY, b"some provider key", AAD)
    with pytest.raises(CryptoError):
        crypto.decrypt(KEY, blob, aad)


def test_wrong_key_fails():
    blob = crypto.encrypt(KEY, b"some provider key", AAD)
    with pytest.raises(CryptoError):
        crypto.decrypt(bytes(32), blob, AAD)


def test_wrapped_data_key_is_bound_to_its_organisation():
    key_id, wrapped = crypto.wrap(KEY, 1)
    assert crypto.unwrap(key_id, wrapped, 1) == KEY
    with pytest.raises(CryptoError):
        crypto.unwrap(key_id, wrapped, 2)


def test_unknown_master_key_id_fails_loudly():
    _, wrapped = crypto.wrap(KEY, 1)
    with pytest.raises(CryptoError, match="'retired' is not in MASTER_KEYS"):
        crypto.unwrap("retired", wrapped, 1)


# --- stored credentials ----------------------------------------------------------


@pytest.mark.django_db
def test_stored_credential_decrypts_to_the_secret():
    credential = store(make_org("crypto-a"))
    assert bytes(fresh(credential).ciphertext) != SECRET.encode()
    assert credential_plaintext(fresh(credential)) == SECRET


@pytest.mark.django_db
def test_ciphertext_copied_to_another_row_of_the_same_org_fails():
    organization = make_org("crypto-a")
    source = store(organization, "openai", SECRET)
    target = store(organization, "mistral", OTHER_SECRET)
    tamper(
        ProviderCredential,
        {"pk": target.pk},
        ciphertext=bytes(fresh(source).ciphertext),
    )
    with pytest.raises(CryptoError):
        credential_plaintext(fresh(target))


@pytest.mark.django_db
def test_ciphertext_copied_to_another_org_fails():
    source = store(make_org("crypto-a"), "openai", SECRET)
    target = store(make_org("crypto-b"), "openai", OTHER_SECRET)
    tamper(
        ProviderCredential,
        {"pk": target.pk},
        ciphertext=bytes(fresh(source).ciphertext),
    )
    with pytest.raises(CryptoError):
        credential_plaintext(fresh(target))


@pytest.mark.django_db
def test_credential_under_an_unknown_master_key_fails_loudly():
    organization = make_org("crypto-a")
    credential = store(organization)
    tamper(DataKey, {"organization": organization}, master_key_id="gone")
    with pytest.raises(CryptoError, match="'gone' is not in MASTER_KEYS"):
        credential_plaintext(fresh(credential))


@pytest.mark.django_db
def test_credential_fails_when_its_master_key_leaves_the_keyring(settings):
    credential = store(make_org("crypto-a"))
    settings.MASTER_KEYS = [("other", os.urandom(32))]
    with pytest.raises(CryptoError, match="is not in MASTER_KEYS"):
        credential_plaintext(fresh(credential))


# --- rotate_master_key -----------------------------------------------------------


@pytest.mark.django_db
def test_rotate_master_key_rewraps_every_data_key(settings):
    old_id, _ = settings.MASTER_KEYS[0]
    first = store(make_org("crypto-a"), "openai", SECRET)
    second = store(make_org("crypto-b"), "openai", OTHER_SECRET)
    before = {row.pk: bytes(row.wrapped_key) for row in all_rows(DataKey)}
    assert {row.master_key_id for row in all_rows(DataKey)} == {old_id}
    settings.MASTER_KEYS = [("rotated", os.urandom(32)), *settings.MASTER_KEYS]

    output = run("rotate_master_key")

    assert f"rewrapped {len(before)} data keys under master key rotated" in output
    rows = all_rows(DataKey)
    assert {row.master_key_id for row in rows} == {"rotated"}
    assert all(bytes(row.wrapped_key) != before[row.pk] for row in rows)
    assert all(row.rotated_at is not None for row in rows)

    assert "rewrapped 0 data keys" in run("rotate_master_key")
    assert {row.pk: bytes(row.wrapped_key) for row in all_rows(DataKey)} == {
        row.pk: bytes(row.wrapped_key) for row in rows
    }

    settings.MASTER_KEYS = [settings.MASTER_KEYS[0]]
    assert credential_plaintext(fresh(first)) == SECRET
    assert credential_plaintext(fresh(second)) == OTHER_SECRET


@pytest.mark.django_db
def test_rotate_master_key_keeps_the_data_key_itself(settings):
    organization = make_org("crypto-a")
    store(organization)
    data_key = data_key_for(organization.pk)
    settings.MASTER_KEYS = [("rotated", os.urandom(32)), *settings.MASTER_KEYS]
    run("rotate_master_key")
    settings.MASTER_KEYS = [settings.MASTER_KEYS[0]]
    assert data_key_for(organization.pk) == data_key


# --- rotate_org_key --------------------------------------------------------------


@pytest.mark.django_db
def test_rotate_org_key_reencrypts_under_a_fresh_data_key():
    organization = make_org("crypto-a")
    secrets = {"openai": SECRET, "mistral": OTHER_SECRET, "groq": "gsk-" + "g" * 30}
    credentials = [store(organization, p, s) for p, s in secrets.items()]
    bystander = store(make_org("crypto-b"), "openai", "sk-bystander-000000000000")
    bystander_blob = bytes(fresh(bystander).ciphertext)
    old_key = data_key_for(organization.pk)
    old_wrapped = bytes(all_rows(DataKey, organization=organization)[0].wrapped_key)
    old_blobs = {c.pk: bytes(fresh(c).ciphertext) for c in credentials}

    output = run("rotate_org_key", "--org", organization.slug)

    assert f"re-encrypted 3 credentials of {organization.slug}" in output
    row = all_rows(DataKey, organization=organization)[0]
    assert bytes(row.wrapped_key) != old_wrapped
    new_key = data_key_for(organization.pk)
    assert new_key != old_key
    for credential in credentials:
        current = fresh(credential)
        assert credential_plaintext(current) == secrets[current.provider]
        assert bytes(current.ciphertext) != old_blobs[current.pk]
        aad = crypto.credential_aad(
            organization.pk, current.pk, ProviderCredential.PURPOSE
        )
        with pytest.raises(CryptoError):
            crypto.decrypt(new_key, old_blobs[current.pk], aad)
    assert bytes(fresh(bystander).ciphertext) == bystander_blob
    assert credential_plaintext(fresh(bystander)) == "sk-bystander-000000000000"


@pytest.mark.django_db
def test_rotate_org_key_of_an_unknown_org_is_refused():
    with pytest.raises(CommandError, match="no organisation"):
        run("rotate_org_key", "--org", "nobody")


# --- set_provider_key ------------------------------------------------------------


def set_key(monkeypatch, stdin: str, *args: str) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return run("set_provider_key", *args)


def raw_rows(table: str, **where: object) -> list[tuple]:
    column, value = next(iter(where.items()))
    quote = connection.ops.quote_name
    with platform_context(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {quote(table)} WHERE {quote(column)} = %s",  # noqa: S608
            [value],
        )
        return cursor.fetchall()


def contains(value: object, needle: str) -> bool:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes | bytearray):
        return needle.encode() in value
    return needle in str(value)


@pytest.mark.django_db
def test_set_provider_key_reads_stdin_and_prints_only_the_hint(monkeypatch):
    organization = make_org("crypto-a")
    secret = "sk-stdin-" + uuid.uuid4().hex

    output = set_key(
        monkeypatch, secret + "\n", "--org", "crypto-a", "--provider", "openai"
    )

    assert secret not in output
    assert secret[:-4] not in output
    assert output.strip() == f"stored openai key …{secret[-4:]}"
    credential = all_rows(ProviderCredential, organization=organization)[0]
    assert credential_plaintext(credential) == secret

    row_id = ProviderCredential._meta.pk.get_db_prep_value(credential.pk, connection)
    rows = raw_rows(ProviderCredential._meta.db_table, id=row_id)
    assert len(rows) == 1
    assert not any(contains(value, secret) for value in rows[0])
    assert not any(contains(value, secret[:-4]) for value in rows[0])
    key_rows = raw_rows(DataKey._meta.db_table, organization_id=organization.pk)
    data_key = data_key_for(organization.pk)
    assert not any(
        data_key in (v.tobytes() if isinstance(v, memoryview) else b"")
        for v in key_rows[0]
    )


@pytest.mark.django_db
def test_set_provider_key_takes_no_secret_on_the_command_line(monkeypatch):
    make_org("crypto-a")
    secret = "sk-argv-" + uuid.uuid4().hex
    with pytest.raises(CommandError):
        set_key(monkeypatch, "", "--org", "crypto-a", "--provider", "openai", secret)
    for option in ("--key", "--secret", "--api-key"):
        with pytest.raises(CommandError):
            set_key(
                monkeypatch,
                "",
                "--org",
                "crypto-a",
                "--provider",
                "openai",
                f"{option}={secret}",
            )
    assert not all_rows(ProviderCredential)


@pytest.mark.django_db
def test_set_provider_key_with_empty_stdin_is_refused(monkeypatch):
    make_org("crypto-a")
    with pytest.raises(CommandError, match="needs an API key"):
        set_key(monkeypatch, "\n", "--org", "crypto-a", "--provider", "openai")
    assert not all_rows(ProviderCredential)


PRIVATE_BASE_URLS = [
    "http://10.0.0.5/v1",
    "http://169.254.169.254/",
    "http://[::ffff:127.0.0.1]/",
    "http://2130706433/",
    "http://0x7f000001/",
    # https, so the address check itself (not the plain-http rule) refuses them
    "https://10.0.0.5/v1",
    "https://192.168.1.20:8443/v1",
    "https://169.254.169.254/latest",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[::1]/v1",
    "https://[fd12:3456::1]/v1",
    "https://2130706433/",
    "https://0x7f000001/",
    "https://017700000001/",
    "https://127.1/",
    "https://0.0.0.0/",
    "https://localhost/v1",
]


@pytest.mark.django_db
@pytest.mark.parametrize("base_url", PRIVATE_BASE_URLS)
def test_set_provider_key_refuses_private_base_urls(settings, monkeypatch, base_url):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = False
    make_org("crypto-a")
    expected = "plain http" if base_url.startswith("http:") else "not a public address"
    with pytest.raises(CommandError, match=expected):
        set_key(
            monkeypatch,
            SECRET + "\n",
            "--org",
            "crypto-a",
            "--provider",
            "custom",
            "--base-url",
            base_url,
        )
    assert not all_rows(ProviderCredential)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("ftp://files.example.com/v1", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("gopher://127.0.0.1:6379/", "http or https"),
        ("https://user:pass@api.example.com/v1", "credentials"),
        ("https://token@api.example.com/v1", "credentials"),
        ("https://api.example.com/v1?key=1", "query"),
        ("https:///v1", "with a host"),
    ],
)
def test_set_provider_key_refuses_odd_base_urls(
    settings, monkeypatch, base_url, expected
):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = False
    make_org("crypto-a")
    with pytest.raises(CommandError, match=expected):
        set_key(
            monkeypatch,
            SECRET + "\n",
            "--org",
            "crypto-a",
            "--provider",
            "custom",
            "--base-url",
            base_url,
        )
    assert not all_rows(ProviderCredential)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "base_url", ["https://93.184.216.34:99999/v1", "https://[::1/v1"]
)
def test_set_provider_key_refuses_malformed_base_urls_cleanly(monkeypatch, base_url):
    make_org("crypto-a")
    with pytest.raises(CommandError):
        set_key(
            monkeypatch,
            SECRET + "\n",
            "--org",
            "crypto-a",
            "--provider",
            "custom",
            "--base-url",
            base_url,
        )


# --- rotation while the proxy loads routes ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_routes_read_credentials_and_data_key_in_one_statement():
    # One statement is one snapshot: a rotate_org_key committing meanwhile cannot
    # pair old ciphertexts with the new wrapped data key.
    organization = make_org("crypto-race")
    project = project_by_slug(organization, "default")
    store(organization)
    organization_key_rotate(organization=organization)

    with CaptureQueriesContext(connection) as queries:
        loaded = routing._load(organization.pk, project.pk)
    reads = [q for q in queries.captured_queries if "providers_" in q["sql"]]
    assert len(reads) == 1
    _, target = routing.resolve("openai/gpt-4o-mini", loaded)

    assert target.api_key == SECRET


@pytest.mark.django_db
@pytest.mark.parametrize("secret", ["sk-ünicode-key-123456", "sk-with\ttab-123456"])
def test_provider_key_that_cannot_travel_in_a_header_is_refused(secret):
    organization = make_org("crypto-ascii")

    with pytest.raises(CredentialError):
        provider_credential_set(
            organization=organization, provider="openai", secret=secret
        )
