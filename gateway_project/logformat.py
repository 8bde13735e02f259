"""Log lines as JSON objects (``LOG_FORMAT=json``) or as plain text.

Both formats carry the request id and, on ``/v1``, the organisation, project
and key id of the caller (see ``logcontext``). ``logging_config`` is the one
logging configuration, used by Django's settings and by gunicorn's own lines
(``gunicorn.conf.py``); nothing here needs Django.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from gateway_project import logcontext

FORMATS = ("json", "plain")
PLAIN = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class ContextFilter(logging.Filter):
    """Put the current request's id and caller on the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = logcontext.current()
        record.request_id = context.request_id or "-"
        record.organization = context.organization
        record.project = context.project
        record.key = context.key
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields without a value are left out."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "organization", "project", "key"):
            value = getattr(record, name, None)
            if value not in (None, "", "-"):
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return orjson.dumps(entry).decode()


def _timestamp(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def logging_config(log_format: str, level: str, *, access: bool) -> dict[str, Any]:
    """Return the ``dictConfig`` for every line this process writes.

    The servers' own loggers (uvicorn's, gunicorn's) lose the handlers their
    servers gave them and propagate to the root's, so their lines get the
    same format and the same masking. Their access lines, one per request,
    are written only with ``access``: uvicorn skips the work of an access
    logger that has nowhere to write.
    """
    servers: dict[str, dict[str, Any]] = {
        name: {"handlers": [], "propagate": True}
        for name in ("uvicorn", "uvicorn.error", "gunicorn.error")
    }
    for name in ("uvicorn.access", "gunicorn.access"):
        servers[name] = {"handlers": [], "propagate": access}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": "gateway_project.logformat.JsonFormatter"},
            "plain": {"format": PLAIN},
        },
        "filters": {
            "context": {"()": "gateway_project.logformat.ContextFilter"},
            "quiet_refusals": {"()": "gateway_project.logfilters.QuietRefusals"},
            "secret_paths": {"()": "gateway_project.logfilters.SecretPathFilter"},
            "key_mask": {"()": "gateway_project.logfilters.KeyMaskFilter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                # Masking last: it sees the message as it will be written.
                "filters": ["context", "quiet_refusals", "secret_paths", "key_mask"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # One line per upstream request is noise at INFO; errors still show.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            # The Azure SDK logs every request and response at INFO.
            "azure": {"level": "WARNING"},
            # Through the root's handler only (Django's own would print each
            # line twice, unfiltered).
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            **servers,
        },
    }
