"""Organisation pages."""

from django.urls import path

from accounts import pages

urlpatterns = [
    path("", pages.organizations, name="organizations"),
    path("<slug:org>/", pages.organization, name="organization"),
    path("<slug:org>/members/", pages.members, name="members"),
    path(
        "<slug:org>/members/<int:member_id>/",
        pages.member_change,
        name="member_change",
    ),
    path(
        "<slug:org>/invitations/<int:invitation_id>/withdraw/",
        pages.invitation_cancel,
        name="invitation_cancel",
    ),
]
