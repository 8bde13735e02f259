#!/bin/sh
# The image's entry point. Commands:
#   serve (the default)  gunicorn with uvicorn workers on $LISTEN_ADDRESS:$PORT
#   migrate              migrate the database; run once per release, as the owner
#   manage ARGS...       any manage.py command (audit_purge, create_staff, ...)
#   probe [PATH]         exit 0 if this container's server answers /healthz
#                        (or /readyz) with 200
# Settings come from the environment, secrets from files named by NAME_FILE
# (Docker and Kubernetes secrets); the image holds none.
set -eu
cd "$(dirname "$0")/.."
# Never the development mode, which would invent secrets of its own.
export DEBUG="${DEBUG:-false}"

command="${1:-serve}"
[ "$#" -gt 0 ] && shift
case "$command" in
  serve)
    # gunicorn.conf.py names the worker (forwarded headers only from
    # TRUSTED_PROXIES) and serves https when TLS_CERT_FILE/TLS_KEY_FILE are set.
    exec gunicorn -c gunicorn.conf.py gateway_project.asgi:application \
      --workers "${WORKERS:-2}" \
      --bind "${LISTEN_ADDRESS:-0.0.0.0}:${PORT:-8000}" \
      --no-control-socket ;;
  migrate)
    exec python manage.py migrate --no-input ;;
  manage)
    exec python manage.py "$@" ;;
  probe)
    exec python -m gateway_project.probe "$@" ;;
  *)
    echo "usage: entrypoint.sh [serve | migrate | manage ARGS... | probe [PATH]]" >&2
    exit 64 ;;
esac
