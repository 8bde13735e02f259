"""The person's management tokens: made after a fresh check (the value shown
once), listed by name, revoked."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from allauth.account.decorators import reauthentication_required

from accounts.models import ManagementToken
from accounts.tokens import token_create, token_revoke
from accounts.views import _person


class TokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    days = forms.IntegerField(
        label="Works for (days)", min_value=1, max_value=365, initial=90
    )


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create(request)
    return _page(request, TokenForm())


@reauthentication_required
def _create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    token, value = token_create(
        user=request.user,
        name=form.cleaned_data["name"],
        days=form.cleaned_data["days"],
    )
    response = render(
        request,
        "account/token_created.html",
        {"token": token, "value": value},
        status=201,
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    token = ManagementToken.objects.filter(
        user=_person(request), public_id=public_id
    ).first()
    if token is None:
        raise Http404("No such token.")
    token_revoke(token)
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("tokens")


def _page(request: HttpRequest, form: TokenForm, status: int = 200) -> HttpResponse:
    mine = ManagementToken.objects.filter(user=_person(request)).order_by("-pk")
    return render(
        request, "account/tokens.html", {"tokens": mine, "form": form}, status=status
    )
