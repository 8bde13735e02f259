from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.middleware import stamp_sign_in

        post_migrate.connect(_grant_app_role, sender=self)
        user_logged_in.connect(stamp_sign_in, dispatch_uid="accounts-signed-in-at")


def _grant_app_role(sender, using: str = "default", **kwargs) -> None:
    from accounts.database import grant_app_role, grant_gateway_role

    grant_app_role(using)
    grant_gateway_role(using)
