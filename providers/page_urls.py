"""The provider key pages of one organisation."""

from django.urls import path

from providers import pages

urlpatterns = [
    path("", pages.provider_list, name="providers"),
    path("set/", pages.provider_key_set, name="provider_key_set"),
    path(
        "<uuid:credential_id>/test/", pages.provider_key_test, name="provider_key_test"
    ),
    path(
        "<uuid:credential_id>/remove/",
        pages.provider_key_delete,
        name="provider_key_delete",
    ),
]
