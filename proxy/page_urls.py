"""The usage page of one organisation."""

from django.urls import path

from proxy import pages

urlpatterns = [path("", pages.usage, name="usage")]
