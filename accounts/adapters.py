"""How django-allauth fits this project: client addresses, the relying
party of passkeys, and which social sign-ups may link to an account."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter

from gateway_project.clientaddr import request_address
from providers.crypto import open_text, seal_text

MFA_PURPOSE = "mfa-secret"


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's rate limits count per this address.
        address = request_address(request)
        if not address:
            raise PermissionDenied("Unable to determine the client address.")
        return address


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        # TOTP keys and recovery-code seeds are stored sealed, never in clear.
        return seal_text(text, MFA_PURPOSE)

    def decrypt(self, encrypted_text: str) -> str:
        return open_text(encrypted_text, MFA_PURPOSE)

    def get_public_key_credential_rp_entity(self) -> dict[str, str]:
        # From settings, never from the request's Host header: a passkey is
        # bound to the domain it was made for.
        return {"id": settings.WEBAUTHN_RP_ID, "name": settings.WEBAUTHN_RP_NAME}


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest | None, provider: Any = None, client_id: Any = None
    ) -> list[Any]:
        # GitHub and Google come from settings and secrets only: a row in the
        # database (an admin's SocialApp) is never a second source of truth.
        apps = super().list_apps(request, provider=provider, client_id=client_id)
        return [app for app in apps if app.pk is None]
