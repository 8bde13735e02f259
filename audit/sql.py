"""PostgreSQL objects that make the audit trail append-only.

The application role may only read and insert audit rows (accounts.database
revokes the rest). A trigger refuses UPDATE and DELETE from anyone, the
tables' owner included, except inside two functions that run as the owner:
the retention purge, which removes only what the organisation's plan no
longer keeps, and the erasure of a person's email snapshot.
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
CREATE OR REPLACE FUNCTION warden_audit_purge(org bigint)
RETURNS TABLE(removed bigint, through_seq bigint, through_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    days integer;
    previous_org text := current_setting('warden.organization_id', true);
    previous_platform text := current_setting('warden.cross_tenant', true);
BEGIN
    IF org IS NULL THEN
        days := 365;
        PERFORM set_config('warden.cross_tenant', 'on', true);
    ELSE
        SELECT CASE plan WHEN 'free' THEN 30 WHEN 'pro' THEN 90
                         ELSE COALESCE(audit_retention_days, 365) END
          INTO days FROM accounts_organization WHERE id = org;
        IF days IS NULL THEN
            RAISE EXCEPTION 'no organisation %', org;
        END IF;
        PERFORM set_config('warden.organization_id', org::text, true);
    END IF;
    SELECT max(e.seq) INTO through_seq FROM "audit_auditevent" e
     WHERE e.organization_id IS NOT DISTINCT FROM org
       AND e.created_at < now() - make_interval(days => days);
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
    "REVOKE ALL ON FUNCTION warden_audit_purge(bigint) FROM PUBLIC",
    "REVOKE ALL ON FUNCTION warden_audit_pseudonymise(text, text) FROM PUBLIC",
]

BACKWARD = [
    'DROP TRIGGER IF EXISTS audit_append_only ON "audit_auditevent"',
    "DROP FUNCTION IF EXISTS warden_audit_pseudonymise(text, text)",
    "DROP FUNCTION IF EXISTS warden_audit_purge(bigint)",
    "DROP FUNCTION IF EXISTS warden_audit_guard()",
]
