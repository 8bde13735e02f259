"""The audit chain: append-only, hash-linked, purged by plan, verifiable."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import (
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.utils import timezone

import psycopg
import pytest

from accounts.models import Organization, Project
from accounts.privacy import pseudonym_for
from accounts.services import organization_create, organization_update
from accounts.tenancy import platform_context, tenant_context
from audit import retention, services
from audit.context import Actor, bound
from audit.models import GENESIS, AuditChain, AuditEvent
from audit.services import AuditWriteError, record
from audit.verify import verify

pytestmark = pytest.mark.django_db

GATEWAY_KEY = "wdn_live_abcdefghij012345_" + "Q" * 46


def events(org) -> list[AuditEvent]:
    with platform_context():
        return list(AuditEvent.objects.filter(organization=org).order_by("seq"))


def new_org(plan: str = "free", **fields) -> Organization:
    org = organization_create(slug=f"audit-{Organization.objects.count() + 1}")
    Organization.objects.filter(pk=org.pk).update(plan=plan, **fields)
    org.refresh_from_db()
    return org


def test_records_link_each_to_the_one_before():
    org = new_org()
    with bound(actor=Actor.system("test"), ip_address="10.1.2.3", request_id="r-1"):
        for n in range(3):
            record("thing.done", organization=org, target_type="thing", target_id=n)
    chain = [e for e in events(org) if e.action == "thing.done"]
    assert [e.seq for e in events(org)] == list(range(1, len(events(org)) + 1))
    assert events(org)[0].prev_hash == GENESIS
    for before, after in zip(events(org), events(org)[1:], strict=False):
        assert after.prev_hash == before.hash
    assert chain[0].ip_address == "10.1.2.3" and chain[0].request_id == "r-1"
    assert chain[0].actor_type == "system" and chain[0].actor_id == "test"
    assert verify(org.pk).ok


def test_secrets_are_masked_before_they_are_written():
    org = new_org()
    event = record(
        "provider_key.added",
        organization=org,
        before={"api_key": "sk-live-0123456789abcdef0123", "hint": "0123"},
        after={"note": f"pasted {GATEWAY_KEY} by mistake", "password": "hunter2"},
        detail={"url": "postgres://app:s3cret-pw@db.internal/warden"},
    )
    text = event.before + event.after + event.detail
    for secret in ["sk-live-0123456789abcdef0123", GATEWAY_KEY, "hunter2", "s3cret-pw"]:
        assert secret not in text
    assert '"hint":"0123"' in event.before
    assert "[masked]" in event.after


def test_a_record_rolls_back_with_its_change():
    org = new_org()
    count = len(events(org))
    with pytest.raises(RuntimeError), tenant_context(org):
        Project.objects.create(organization=org, slug="doomed")
        record("project.created", organization=org, target_id="doomed")
        raise RuntimeError("the change fails after its record")
    assert len(events(org)) == count
    with platform_context():
        assert not Project.objects.filter(slug="doomed").exists()
        head = AuditChain.objects.filter(organization=org).first()
        assert (head.seq if head else 0) == count
    assert verify(org.pk).ok


def test_a_failed_audit_write_fails_the_change(monkeypatch):
    org = new_org()

    def broken(event):
        raise DatabaseError("disk full")

    monkeypatch.setattr(services, "_append", broken)
    with pytest.raises(AuditWriteError), tenant_context(org):
        Project.objects.create(organization=org, slug="unrecorded")
        record("project.created", organization=org, target_id="unrecorded")
    with platform_context():
        assert not Project.objects.filter(slug="unrecorded").exists()


def test_platform_events_form_a_chain_of_their_own():
    first = record("master_key.rotated", organization=None, detail={"rewrapped": 2})
    second = record("master_key.rotated", organization=None, detail={"rewrapped": 0})
    assert second.seq == first.seq + 1 and second.prev_hash == first.hash
    if connection.vendor == "postgresql":  # row-level security hides them
        assert not AuditEvent.objects.filter(organization__isnull=True).exists()
    assert verify(None).ok


@pytest.mark.services
def test_the_app_role_cannot_change_or_remove_audit_rows():
    org = new_org()
    record("thing.done", organization=org)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege('audit_auditevent', 'SELECT'), "
            "has_table_privilege('audit_auditevent', 'INSERT'), "
            "has_table_privilege('audit_auditevent', 'UPDATE'), "
            "has_table_privilege('audit_auditevent', 'DELETE')"
        )
        assert cursor.fetchone() == (True, True, False, False)
    # (TRUNCATE is granted to the suite's role only, for the teardown.)
    for statement in [
        "UPDATE audit_auditevent SET action = 'other'",
        "DELETE FROM audit_auditevent",
    ]:
        with pytest.raises(DatabaseError, match="permission denied"):
            with platform_context(), connection.cursor() as cursor:
                cursor.execute(statement)
    assert [e.action for e in events(org)][-1] == "thing.done"


def owner_connection() -> psycopg.Connection:
    """A connection as the tables' owner, behind the application's back."""
    import os

    import dj_database_url

    owner = dj_database_url.parse(os.environ["DATABASE_URL"])["USER"]
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=owner,
        autocommit=True,
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_trigger_refuses_even_the_owner():
    org = new_org()
    record("thing.done", organization=org)
    with owner_connection() as owner:
        for statement in [
            "UPDATE audit_auditevent SET action = 'other'",
            "DELETE FROM audit_auditevent",
        ]:
            with pytest.raises(psycopg.Error, match="append-only"):
                owner.execute(statement)


def tamper(statement: str, *params) -> None:
    with owner_connection() as owner:
        # Triggers off for this session only: a database administrator
        # editing rows directly, which only the chain can reveal.
        owner.execute("SET session_replication_role = replica")
        owner.execute(statement, params)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("statement", "broken_at", "reason"),
    [
        ("UPDATE audit_auditevent SET after = '{}' WHERE seq = 3", 3, "edited"),
        ("UPDATE audit_auditevent SET created_at = created_at - interval '1 day'"
         " WHERE seq = 2", 2, "edited"),
        ("DELETE FROM audit_auditevent WHERE seq = 3", 3, "deleted"),
        ("DELETE FROM audit_auditevent WHERE seq >= 4", 4, "newest records removed"),
        ("DELETE FROM audit_auditevent WHERE seq <= 2", 1, "without a purge"),
    ],
)  # fmt: skip
def test_verify_reports_the_first_broken_link(statement, broken_at, reason):
    org = new_org()
    for n in range(5):
        record("thing.done", organization=org, after={"n": n})
    start = events(org)[0].seq - 1
    assert verify(org.pk).ok
    tamper(
        statement.replace("WHERE", "WHERE organization_id = %s AND").replace(
            "seq ", "seq - " + str(start) + " "
        ),
        org.pk,
    )
    verdict = verify(org.pk)
    assert not verdict.ok
    assert verdict.broken_at == start + broken_at
    assert reason in verdict.reason

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", "--org", org.slug, stdout=out)
    assert f"BROKEN at record {start + broken_at}" in out.getvalue()


def backdated(org, days: float, action: str = "old.thing") -> AuditEvent:
    """A record as if the database had stamped it ``days`` ago.

    Only the owner, behind the application's back, can do that; recorded_at is
    outside the hash, so the chain stays whole.
    """
    event = record(action, organization=org)
    when = timezone.now() - timedelta(days=days)
    as_owner(
        "UPDATE audit_auditevent SET recorded_at = %s WHERE id = %s", when, event.pk
    )
    return event


def settle(org) -> None:
    """As if the organisation had had its plan for over a month."""
    if connection.vendor == "postgresql":
        tamper(
            "UPDATE warden_private.retention_history "
            "SET changed_at = changed_at - interval '31 days' "
            "WHERE organization_id = %s",
            org.pk,
        )


def as_owner(statement: str, *params) -> None:
    if connection.vendor == "postgresql":
        tamper(statement, *params)
    else:  # SQLite: no roles and no triggers
        with connection.cursor() as cursor:
            cursor.execute(statement, list(params))


@pytest.mark.parametrize(
    ("plan", "retention", "kept_age", "purged_age"),
    [
        ("free", {}, 29, 31),
        ("pro", {}, 89, 91),
        ("enterprise", {}, 364, 366),
        ("enterprise", {"audit_retention_days": 10}, 9, 11),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_purge_keeps_exactly_what_the_plan_says(plan, retention, kept_age, purged_age):
    org = new_org(plan, **retention)
    settle(org)
    oldest = backdated(org, purged_age + 5)
    purged = backdated(org, purged_age)
    kept = backdated(org, kept_age)
    record("new.thing", organization=org)

    result = retention_purge(org)

    remaining = events(org)
    assert result.removed >= 2 and result.through_seq == purged.seq
    assert oldest.seq not in {e.seq for e in remaining}
    assert purged.seq not in {e.seq for e in remaining}
    assert remaining[0].seq == kept.seq
    checkpoint = remaining[-1]
    assert checkpoint.action == "audit.purged"
    assert f'"through_hash":"{purged.hash}"' in checkpoint.detail
    assert verify(org.pk).ok

    assert retention_purge(org).removed == 0  # idempotent
    assert verify(org.pk).ok


def retention_purge(org):
    org.refresh_from_db()
    return retention.purge(org)


@pytest.mark.django_db(transaction=True)
def test_purge_of_a_whole_chain_leaves_a_verifiable_checkpoint():
    org = new_org()
    for _ in range(3):
        backdated(org, 40)
    retention_purge(org)
    remaining = events(org)
    assert [e.action for e in remaining] == ["audit.purged"]
    assert verify(org.pk).ok
    record("after.purge", organization=org)
    assert verify(org.pk).ok


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_purge_function_decides_what_is_old_enough():
    org = new_org("pro")
    young = backdated(org, 45)
    # The app role cannot delete; calling the owner's function directly still
    # removes nothing the plan keeps.
    with tenant_context(org), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM warden_audit_purge(%s)", [org.pk])
        assert cursor.fetchone()[0] == 0
    assert young.seq in {e.seq for e in events(org)}


@pytest.mark.django_db(transaction=True)
def test_audit_purge_command_is_safe_to_repeat():
    org = new_org()
    backdated(org, 60)
    out = io.StringIO()
    call_command("audit_purge", stdout=out)
    assert "removed" in out.getvalue()
    again = io.StringIO()
    call_command("audit_purge", stdout=again)
    assert again.getvalue().startswith("removed 0 audit records")
    verified = io.StringIO()
    try:
        call_command("audit_verify", stdout=verified)
    finally:
        print(verified.getvalue())
    assert "BROKEN" not in verified.getvalue()
    assert f"{org.slug}: ok" in verified.getvalue()


def deleted_person(django_user_model):
    user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    record("thing.done", organization=new_org(), actor=Actor.user(user))
    django_user_model.objects.filter(pk=user.pk).update(
        username=f"deleted-{user.pk}", email=None, is_active=False
    )
    return user


def test_pseudonymising_a_person_keeps_the_chain_valid(django_user_model):
    user = deleted_person(django_user_model)
    pseudonym = pseudonym_for(user.pk)
    assert retention.pseudonymise_actor(user.pk, pseudonym) == 1
    with platform_context():
        event = AuditEvent.objects.get(actor_type="user", actor_id=str(user.pk))
    assert event.actor_email == pseudonym
    assert verify(event.organization_id).ok


@pytest.mark.services
def test_only_a_deleted_account_and_only_to_a_pseudonym(django_user_model):
    live = django_user_model.objects.create_user("bo", "bo@example.com", "pw")
    record("thing.done", organization=new_org(), actor=Actor.user(live))
    with pytest.raises(DatabaseError, match="only a deleted account"):
        with transaction.atomic():
            retention.pseudonymise_actor(live.pk, pseudonym_for(live.pk))
    gone = deleted_person(django_user_model)
    with pytest.raises(DatabaseError, match="not a pseudonym"):
        with transaction.atomic():
            retention.pseudonymise_actor(gone.pk, "=HYPERLINK(evil)")
    with platform_context():
        emails = set(AuditEvent.objects.values_list("actor_email", flat=True))
    assert "bo@example.com" in emails and "=HYPERLINK(evil)" not in emails


@pytest.mark.services
def test_pseudonymising_cannot_be_used_to_rewrite_anything_else():
    org = new_org()
    record("thing.done", organization=org, actor=Actor("user", "77", "x@example.com"))
    with pytest.raises(DatabaseError):
        with platform_context(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('warden.audit_pseudonymise', 'on', true)")
            cursor.execute("UPDATE audit_auditevent SET action = 'forged'")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    org = new_org()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                with transaction.atomic():
                    record("thing.done", organization=org, detail={"w": n, "i": i})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = [e.seq for e in events(org)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len([e for e in events(org) if e.action == "thing.done"]) == 60
    assert verify(org.pk).ok


def test_a_retention_of_zero_days_is_refused_by_the_database():
    org = new_org("enterprise")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.filter(pk=org.pk).update(audit_retention_days=0)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_anchor_kept_outside_catches_the_newest_records_removed(tmp_path):
    org = new_org()
    for n in range(4):
        record("thing.done", organization=org, after={"n": n})
    first = io.StringIO()
    call_command("audit_verify", "--org", org.slug, stdout=first)
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(first.getvalue())
    head = events(org)[-1]
    assert f"head {head.seq}:{head.hash}" in first.getvalue()

    # Remove the newest record and wind the head back with it: the chain
    # alone is whole again.
    tamper(
        "DELETE FROM audit_auditevent WHERE organization_id = %s AND seq = %s",
        org.pk,
        head.seq,
    )
    tamper(
        "UPDATE audit_auditchain SET seq = %s, hash = %s WHERE organization_id = %s",
        head.seq - 1,
        head.prev_hash,
        org.pk,
    )
    assert verify(org.pk).ok

    # Renaming the organisation does not shake the anchor off.
    Organization.objects.filter(pk=org.pk).update(slug=f"{org.slug}-renamed")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", "--anchors", str(anchors), stdout=out)
    assert f"BROKEN at record {head.seq}" in out.getvalue()
    assert "anchored" in out.getvalue()

    # New records at the same positions do not pass for the anchored ones.
    record("thing.done", organization=org, after={"n": "forged"})
    with pytest.raises(CommandError):
        call_command("audit_verify", "--anchors", str(anchors), stdout=io.StringIO())


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_backdated_record_is_not_within_the_purge_s_reach(monkeypatch):
    org = new_org()
    long_ago = timezone.now() - timedelta(days=400)
    monkeypatch.setattr(services.timezone, "now", lambda: long_ago)
    forged = record("old.looking", organization=org)
    monkeypatch.undo()

    assert retention_purge(org).removed == 0
    assert forged.seq in {e.seq for e in events(org)}
    with platform_context():
        stored = AuditEvent.objects.get(pk=forged.pk)
    assert stored.recorded_at > timezone.now() - timedelta(minutes=5)
    assert verify(org.pk).ok


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_shorter_retention_waits_thirty_days():
    org = new_org("enterprise")
    old = backdated(org, 100)
    organization_update(organization=org, plan="free")

    assert retention_purge(org).removed == 0  # 365 days still hold
    assert old.seq in {e.seq for e in events(org)}

    settle(org)
    result = retention_purge(org)
    assert result.removed >= 1 and old.seq not in {e.seq for e in events(org)}
    assert '"retention_days":30' in events(org)[-1].detail


@pytest.mark.services
def test_the_app_role_cannot_see_or_touch_the_retention_history():
    for statement in [
        "SELECT * FROM warden_private.retention_history",
        "DELETE FROM warden_private.retention_history",
    ]:
        with pytest.raises(DatabaseError, match="permission denied"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_verify_catches_a_live_account_pseudonymised_behind_its_back(
    django_user_model,
):
    org = new_org()
    alice = django_user_model.objects.create_user("alice", "alice@example.com", "pw")
    record("thing.done", organization=org, actor=Actor.user(alice))
    # The app role erases the row for a moment, pseudonymises, restores it.
    with transaction.atomic():
        django_user_model.objects.filter(pk=alice.pk).update(
            username=f"deleted-{alice.pk}", email=None, is_active=False
        )
        retention.pseudonymise_actor(alice.pk, pseudonym_for(alice.pk))
        django_user_model.objects.filter(pk=alice.pk).update(
            username="alice", email="alice@example.com", is_active=True
        )

    verdict = verify(org.pk)
    assert not verdict.ok
    assert "pseudonymised without being erased" in verdict.reason


def test_an_anchored_chain_that_is_gone_is_reported(tmp_path):
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"org:999999 gone: ok, 3 records, head 3:{'a' * 64}\n")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", "--anchors", str(anchors), stdout=out)
    assert "org:999999: BROKEN: the anchored chain is missing" in out.getvalue()
