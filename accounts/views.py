"""The person's own account: a copy of their data, and deleting the account."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from allauth.account.decorators import reauthentication_required
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import privacy
from accounts.models import User
from gateway_project.schema import error

# What a mistyped confirmation is told, by the field that confirms.
MISTYPED = {
    "password": "That is not your password.",
    "username": "That is not your username.",
}


class AccountDeleteForm(forms.Form):
    """Deleting the account asks for the password again (or the username)."""

    password = forms.CharField(required=False, strip=False, widget=forms.PasswordInput)
    username = forms.CharField(required=False)

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        for name in set(MISTYPED) - {_confirming_field(user)}:
            del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed = {name: data.get(name) or "" for name in ("password", "username")}
        try:
            confirmed = privacy.deletion_confirmed(self.user, **typed)
        except privacy.TooManyAttempts as exc:
            raise forms.ValidationError(str(exc)) from None
        if not confirmed:
            field = _confirming_field(self.user)
            self.add_error(field, MISTYPED[field])
        return data


@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    return _my_data_page(request, AccountDeleteForm(_person(request)))


@login_required
@require_POST
@reauthentication_required
def my_data_export(request: HttpRequest) -> HttpResponse:
    return _export_response(privacy.user_data_export(_person(request)))


@login_required
@require_POST
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(_person(request), request.POST)
    if not form.is_valid():
        return _my_data_page(request, form, status=400)

    try:
        privacy.user_delete(_person(request))
    except privacy.PrivacyError as exc:
        return _my_data_page(request, form, error=str(exc), status=409)
    _sign_out(request)
    return render(request, "account/deleted.html")


class MyDataExport(APIView):
    """GET: everything held about the signed-in person, as a JSON download."""

    def get(self, request: Request) -> HttpResponse:
        from accounts.api_orgs import require_fresh

        require_fresh(request)
        return _export_response(privacy.user_data_export(request.user))


class Me(APIView):
    """GET: who you are and your organisations. DELETE: delete your account;
    the body carries ``password``, or ``username`` for someone without one.
    """

    def get(self, request: Request) -> Response:
        from accounts.policy import organizations_for, role_in

        return Response(
            {
                "username": request.user.username,
                "email": request.user.email,
                "organisations": [
                    {"slug": o.slug, "name": o.name, "role": role_in(request.user, o)}
                    for o in organizations_for(request.user, "org.view")
                ],
            }
        )

    @extend_schema(
        responses={204: None, 400: error(400), 409: error(409), 429: error(429)}
    )
    def delete(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        typed = {
            name: value
            for name in ("password", "username")
            if isinstance(value := data.get(name), str)
        }
        try:
            confirmed = privacy.deletion_confirmed(request.user, **typed)
        except privacy.TooManyAttempts as exc:
            return Response({"detail": str(exc)}, status=429)
        if not confirmed:
            field = _confirming_field(request.user)
            return Response({field: [MISTYPED[field]]}, status=400)

        try:
            privacy.user_delete(request.user)
        except privacy.PrivacyError as exc:
            return Response({"detail": str(exc)}, status=409)
        _sign_out(request)
        return Response(status=204)


def _my_data_page(
    request: HttpRequest,
    form: AccountDeleteForm,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "plan": privacy.deletion_plan(_person(request)),
        "error": error,
    }
    return render(request, "account/my_data.html", context, status=status)


def _export_response(data: dict[str, Any]) -> HttpResponse:
    response = JsonResponse(data, json_dumps_params={"indent": 2})
    day = timezone.now().date().isoformat()
    filename = f"warden-my-data-{day}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    return response


def _person(request: HttpRequest) -> User:
    # Behind login_required, so never the anonymous user.
    return cast(User, request.user)


def _sign_out(request: Any) -> None:
    # Not logout(): its signal would record a sign-out under the person's
    # email, just after their audit records were pseudonymised. The deletion
    # is recorded, and their other sessions end with their password.
    request.session.flush()
    request.user = AnonymousUser()


def _confirming_field(user: Any) -> str:
    return "password" if user.has_usable_password() else "username"
