"""PostgreSQL statements for guardrail events: a database-stamped time and a
purge the application role may call but not imitate.

The application role can only insert and read guardrail events
(``accounts.database.append_only``). ``warden_guardrail_purge`` runs as the
owner and removes an organisation's events older than its audit retention,
by the rule every purge uses (``warden_effective_retention``, audit/sql.py).
"""

FORWARD = [
    """
CREATE OR REPLACE FUNCTION warden_guardrail_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The age the purge goes by is the database's, not what the app wrote.
    NEW.created_at := now();
    RETURN NEW;
END;
$$
""",
    """
CREATE TRIGGER guardrail_event_stamp BEFORE INSERT ON "guardrails_guardrailevent"
FOR EACH ROW EXECUTE FUNCTION warden_guardrail_stamp()
""",
    """
CREATE FUNCTION warden_guardrail_purge(org bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    days integer;
    removed bigint;
    previous_org text := current_setting('warden.organization_id', true);
BEGIN
    days := warden_effective_retention(org);
    PERFORM set_config('warden.organization_id', org::text, true);
    DELETE FROM "guardrails_guardrailevent" e
     WHERE e.organization_id = org
       AND e.created_at < now() - make_interval(days => days);
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('warden.organization_id', COALESCE(previous_org, ''), true);
    RETURN removed;
END;
$$
""",
    "REVOKE ALL ON FUNCTION warden_guardrail_purge(bigint) FROM PUBLIC",
]

BACKWARD = [
    "DROP FUNCTION IF EXISTS warden_guardrail_purge(bigint)",
    'DROP TRIGGER IF EXISTS guardrail_event_stamp ON "guardrails_guardrailevent"',
    "DROP FUNCTION IF EXISTS warden_guardrail_stamp()",
]
