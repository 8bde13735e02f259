# syntax=docker/dockerfile:1
# Warden's image: one image for every role (gateway, api, migrate, audit purge).
# Secrets are never part of it; they arrive at run time as files named by
# NAME_FILE (see docs/deployment.md).

FROM python:3.11.14-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt /tmp/requirements.txt
# Wheels only: a package that would need compiling fails the build here
# instead of pulling a compiler into the image.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --only-binary=:all: -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall --yes pip

FROM python:3.11.14-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=gateway_project.settings \
    DEBUG=false \
    WARDEN_DATA_DIR=/app/var \
    PORT=8000
RUN groupadd --system --gid 10001 warden \
    && useradd --system --uid 10001 --gid warden --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin warden
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Owned by root and not writable by the server's user.
COPY . /app
# Static files are collected into the image for whitenoise to serve. Settings
# need production secrets to load: throwaway ones made for this command alone
# and gone with it.
RUN AUTH_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    MASTER_KEYS="build:$(python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
    ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --no-input -v 0 \
    && python -m compileall -q /app /opt/venv
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/app/deploy/entrypoint.sh", "probe", "/healthz"]
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["serve"]
