"""Sign-in (django-allauth) and the person's own account pages."""

from django.db.transaction import atomic
from django.urls import include, path

from allauth.account import views as allauth_views

from accounts import token_pages, views

urlpatterns = [
    # In one transaction each: a sign-in and its audit record land together.
    path("login/", atomic(allauth_views.LoginView.as_view()), name="account_login"),
    path("logout/", atomic(allauth_views.LogoutView.as_view()), name="account_logout"),
    path("me/", views.my_data, name="my_data"),
    path("me/export/", views.my_data_export, name="my_data_export"),
    path("me/delete/", views.account_delete, name="account_delete"),
    path("tokens/", token_pages.tokens, name="tokens"),
    path(
        "tokens/<slug:public_id>/revoke/", token_pages.token_delete, name="token_delete"
    ),
    path("", include("allauth.urls")),
]
