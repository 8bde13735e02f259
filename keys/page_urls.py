"""The API key pages of one organisation."""

from django.urls import path

from keys import pages

urlpatterns = [
    path("", pages.key_list, name="keys"),
    path("new/", pages.key_new, name="key_new"),
    path("<slug:public_id>/rotate/", pages.key_rotate, name="key_rotate"),
    path("<slug:public_id>/revoke/", pages.key_revoke, name="key_revoke"),
]
