from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"

    def ready(self) -> None:
        from django.contrib.auth import signals

        from audit import admin  # noqa: F401  (registers the audited-admin check)
        from audit import signals as receivers

        signals.user_logged_in.connect(receivers.signed_in, dispatch_uid="audit-in")
        signals.user_logged_out.connect(receivers.signed_out, dispatch_uid="audit-out")
        signals.user_login_failed.connect(
            receivers.sign_in_failed, dispatch_uid="audit-failed"
        )
