#!/bin/sh
# Create Warden's database and its three roles, each with its password read
# from a file: the owner, which migrates; the application role (api, audit
# purge); the gateway role (/v1 only). None is a superuser or bypasses
# row-level security. The postgres image runs this once, on an empty data
# folder; running it again changes nothing.
set -eu
database="${WARDEN_DB_NAME:-warden}"
owner="${WARDEN_DB_OWNER:-warden_owner}"
app="${WARDEN_DB_APP:-warden_app}"
gateway="${WARDEN_DB_GATEWAY:-warden_gateway}"
secrets="${WARDEN_DB_SECRETS:-/run/secrets}"

# Passwords are read by psql itself from the files (backquotes below), so
# none appears on a command line.
psql -v ON_ERROR_STOP=1 -q --no-psqlrc \
  --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v database="$database" -v owner="$owner" -v app="$app" -v gateway="$gateway" \
  -v owner_file="$secrets/db_owner_password" \
  -v app_file="$secrets/db_app_password" \
  -v gateway_file="$secrets/db_gateway_password" <<'SQL'
\set owner_password `cat :'owner_file'`
\set app_password `cat :'app_file'`
\set gateway_password `cat :'gateway_file'`
SELECT format(
    'CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', name
  )
  FROM unnest(ARRAY[:'owner', :'app', :'gateway']) AS name
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', name, password)
  FROM (VALUES (:'owner', :'owner_password'), (:'app', :'app_password'),
               (:'gateway', :'gateway_password')) AS roles (name, password) \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'owner')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I, %I',
              :'database', :'owner', :'app', :'gateway') \gexec
SQL
