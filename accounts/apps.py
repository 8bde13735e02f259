from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        post_migrate.connect(_grant_app_role, sender=self)


def _grant_app_role(sender, using: str = "default", **kwargs) -> None:
    from accounts.database import grant_app_role, grant_gateway_role

    grant_app_role(using)
    grant_gateway_role(using)
