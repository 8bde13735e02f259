"""Gunicorn's settings for Warden, read from the folder gunicorn starts in.

The server's own lines get the application's log format and masking, and the
workers share a folder for the metrics, emptied at start; a worker that
exits has its gauges dropped. Command-line options still apply on top.
"""

from gateway_project import env, logformat, metrics

_new_folder = metrics.share_folder(env.string("METRICS_DIR"))
_debug = env.boolean("DEBUG", default=True)
logconfig_dict = logformat.logging_config(
    env.string("LOG_FORMAT", "plain" if _debug else "json").strip().lower(),
    env.string("LOG_LEVEL", "INFO"),
    access=env.boolean("ACCESS_LOG", default=_debug),
)


def on_starting(server):
    metrics.empty_folder()


def child_exit(server, worker):
    metrics.worker_exited(worker.pid)


def on_exit(server):
    if _new_folder:
        metrics.remove_folder()
