"""PostgreSQL objects that make the audit trail append-only.

The application role may only read and insert audit rows (accounts.database
revokes the rest). A trigger refuses UPDATE and DELETE from anyone, the
tables' owner included, except inside two functions that run as the owner:
the retention purge, which removes only what the organisation's plan no
longer keeps, and the erasure of a deleted person's email snapshot.

``FORWARD`` is migration 0002's (the guard and the pseudonymisation);
``RETENTION_FORWARD`` (migration 0005) adds the purge, which trusts nothing the
application role writes: it goes by the time the database itself stamped on
each record (``recorded_at``), and by a history of retention changes that only
the owner writes, in which a shorter retention waits 30 days.
"""

# The retention days below are kept in step with
# accounts.models.Organization.retention_days; a test checks that they agree.
PLATFORM_RETENTION_DAYS = 365

FORWARD = [
    """
CREATE OR REPLACE FUNCTION warden_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('warden.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE'
       AND current_setting('warden.audit_pseudonymise', true) = 'on'
       AND (to_jsonb(NEW) - 'actor_email') = (to_jsonb(OLD) - 'actor_email') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit records are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
""",
    """
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON "audit_auditevent"
FOR EACH ROW EXECUTE FUNCTION warden_audit_guard()
""",
    """
CREATE OR REPLACE FUNCTION warden_audit_pseudonymise(actor text, pseudonym text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    changed bigint;
    previous_platform text := current_setting('warden.cross_tenant', true);
BEGIN
    -- Only a deleted account, and only to a pseudonym: the application role
    -- cannot use this to rewrite who did what.
    IF pseudonym !~ '^deleted-user-[0-9a-f]{12}$' THEN
        RAISE EXCEPTION 'not a pseudonym' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM accounts_user u
         WHERE u.id::text = actor AND u.email IS NULL AND NOT u.is_active
           AND u.username = 'deleted-' || actor
    ) THEN
        RAISE EXCEPTION 'only a deleted account is pseudonymised'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('warden.cross_tenant', 'on', true);
    PERFORM set_config('warden.audit_pseudonymise', 'on', true);
    UPDATE "audit_auditevent" SET actor_email = pseudonym
     WHERE actor_type = 'user' AND actor_id = actor AND actor_email <> pseudonym;
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM set_config('warden.audit_pseudonymise', '', true);
    PERFORM set_config('warden.cross_tenant', COALESCE(previous_platform, ''), true);
    RETURN changed;
END;
$$
""",
    "REVOKE ALL ON FUNCTION warden_audit_pseudonymise(text, text) FROM PUBLIC",
]

BACKWARD = [
    'DROP TRIGGER IF EXISTS audit_append_only ON "audit_auditevent"',
    "DROP FUNCTION IF EXISTS warden_audit_pseudonymise(text, text)",
    "DROP FUNCTION IF EXISTS warden_audit_purge(bigint)",
    "DROP FUNCTION IF EXISTS warden_audit_guard()",
]

# How long an organisation's records are kept, for every purge (audit records
# here, guardrail events in guardrails/sql.py): the longest retention in force
# at any time in the last 30 days, from the owner-only history, so a shortened
# retention takes effect only after 30 days.
EFFECTIVE_RETENTION = """
CREATE OR REPLACE FUNCTION warden_effective_retention(org bigint)
RETURNS integer LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
    days integer;
BEGIN
    SELECT warden_retention_days(o.plan, o.audit_retention_days)
      INTO days FROM accounts_organization o WHERE o.id = org;
    IF days IS NULL THEN
        RAISE EXCEPTION 'no organisation %', org;
    END IF;
    RETURN GREATEST(days,
        (SELECT max(h.days) FROM warden_private.retention_history h
          WHERE h.organization_id = org
            AND h.changed_at > now() - interval '30 days'),
        (SELECT h.days FROM warden_private.retention_history h
          WHERE h.organization_id = org
            AND h.changed_at <= now() - interval '30 days'
          ORDER BY h.changed_at DESC LIMIT 1));
END;
$$
"""

PURGE = """
CREATE OR REPLACE FUNCTION warden_audit_purge(org bigint)
RETURNS TABLE(removed bigint, through_seq bigint, through_hash text, days integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    previous_org text := current_setting('warden.organization_id', true);
    previous_platform text := current_setting('warden.cross_tenant', true);
BEGIN
    IF org IS NULL THEN
        days := 365;
        PERFORM set_config('warden.cross_tenant', 'on', true);
    ELSE
        days := warden_effective_retention(org);
        PERFORM set_config('warden.organization_id', org::text, true);
    END IF;
    -- recorded_at, stamped by the database: the application cannot backdate.
    SELECT max(e.seq) INTO through_seq FROM "audit_auditevent" e
     WHERE e.organization_id IS NOT DISTINCT FROM org
       AND e.recorded_at < now() - make_interval(days => warden_audit_purge.days);
    removed := 0;
    IF through_seq IS NOT NULL THEN
        SELECT e.hash INTO through_hash FROM "audit_auditevent" e
         WHERE e.organization_id IS NOT DISTINCT FROM org AND e.seq = through_seq;
        PERFORM set_config('warden.audit_purge', 'on', true);
        DELETE FROM "audit_auditevent" e
         WHERE e.organization_id IS NOT DISTINCT FROM org AND e.seq <= through_seq;
        GET DIAGNOSTICS removed = ROW_COUNT;
        PERFORM set_config('warden.audit_purge', '', true);
    END IF;
    PERFORM set_config('warden.organization_id', COALESCE(previous_org, ''), true);
    PERFORM set_config('warden.cross_tenant', COALESCE(previous_platform, ''), true);
    RETURN NEXT;
END;
$$
"""


RETENTION_FORWARD = [
    """
CREATE OR REPLACE FUNCTION warden_audit_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.recorded_at := clock_timestamp();
    RETURN NEW;
END;
$$
""",
    """
CREATE TRIGGER audit_stamp BEFORE INSERT ON "audit_auditevent"
FOR EACH ROW EXECUTE FUNCTION warden_audit_stamp()
""",
    "CREATE SCHEMA IF NOT EXISTS warden_private",
    "REVOKE ALL ON SCHEMA warden_private FROM PUBLIC",
    """
CREATE TABLE warden_private.retention_history (
    organization_id bigint NOT NULL,
    days integer NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
)
""",
    """
CREATE INDEX retention_history_by_org
    ON warden_private.retention_history (organization_id, changed_at)
""",
    """
CREATE OR REPLACE FUNCTION warden_retention_days(plan text, custom integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE plan WHEN 'free' THEN 30 WHEN 'pro' THEN 90
                     ELSE COALESCE(custom, 365) END
$$
""",
    """
CREATE OR REPLACE FUNCTION warden_retention_noted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT'
       OR warden_retention_days(NEW.plan, NEW.audit_retention_days)
          IS DISTINCT FROM warden_retention_days(OLD.plan, OLD.audit_retention_days)
    THEN
        INSERT INTO warden_private.retention_history (organization_id, days)
        VALUES (NEW.id, warden_retention_days(NEW.plan, NEW.audit_retention_days));
    END IF;
    RETURN NEW;
END;
$$
""",
    """
CREATE TRIGGER organization_retention_noted
AFTER INSERT OR UPDATE OF plan, audit_retention_days ON accounts_organization
FOR EACH ROW EXECUTE FUNCTION warden_retention_noted()
""",
    """
INSERT INTO warden_private.retention_history (organization_id, days, changed_at)
SELECT id, warden_retention_days(plan, audit_retention_days), created_at
  FROM accounts_organization
""",
    EFFECTIVE_RETENTION,
    "REVOKE ALL ON FUNCTION warden_effective_retention(bigint) FROM PUBLIC",
    PURGE,
    "REVOKE ALL ON FUNCTION warden_audit_purge(bigint) FROM PUBLIC",
]

RETENTION_BACKWARD = [
    "DROP FUNCTION IF EXISTS warden_effective_retention(bigint)",
    'DROP TRIGGER IF EXISTS audit_stamp ON "audit_auditevent"',
    "DROP FUNCTION IF EXISTS warden_audit_stamp()",
    "DROP TRIGGER IF EXISTS organization_retention_noted ON accounts_organization",
    "DROP FUNCTION IF EXISTS warden_retention_noted()",
    "DROP SCHEMA IF EXISTS warden_private CASCADE",
    "DROP FUNCTION IF EXISTS warden_retention_days(text, integer)",
    "DROP FUNCTION IF EXISTS warden_audit_purge(bigint)",
]

# For databases migrated before the rule became its own function (0006).
SHARED_RETENTION_FORWARD = [
    EFFECTIVE_RETENTION,
    "REVOKE ALL ON FUNCTION warden_effective_retention(bigint) FROM PUBLIC",
    PURGE,
]
