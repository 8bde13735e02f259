"""Sign-in and the person's own account pages.

Password sign-in with Django's views until passkeys and OAuth arrive.
"""

from django.contrib.auth import views as auth_views
from django.db.transaction import atomic
from django.urls import path

from accounts import views
from accounts.forms import ThrottledAuthenticationForm

urlpatterns = [
    # In one transaction each: a sign-in and its audit record land together.
    path(
        "login/",
        atomic(
            auth_views.LoginView.as_view(
                authentication_form=ThrottledAuthenticationForm
            )
        ),
        name="login",
    ),
    path("logout/", atomic(auth_views.LogoutView.as_view()), name="logout"),
    path("me/", views.my_data, name="my_data"),
    path("me/export/", views.my_data_export, name="my_data_export"),
    path("me/delete/", views.account_delete, name="account_delete"),
]
