#!/usr/bin/env bash
# Run the test suite against PostgreSQL and Redis on 127.0.0.1 when they answer,
# otherwise on SQLite and local memory with the service-bound tests skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

db_url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/warden}
redis_url=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}

if .venv/bin/python scripts/check_services.py "$db_url" "$redis_url"; then
  export DATABASE_URL=$db_url REDIS_URL=$redis_url
else
  echo "PostgreSQL or Redis is not reachable: running on SQLite and local memory, service tests skipped"
  unset DATABASE_URL REDIS_URL
fi
exec .venv/bin/python -m pytest "$@"
