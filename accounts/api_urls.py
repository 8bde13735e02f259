"""The management API: the person's own data and tokens, organisations,
members and invitations."""

from django.urls import path

from accounts import api_orgs, views

urlpatterns = [
    path("me", views.Me.as_view(), name="api-me"),
    path("me/export", views.MyDataExport.as_view(), name="api-me-export"),
    path("me/tokens/", api_orgs.TokenList.as_view(), name="api-tokens"),
    path(
        "me/tokens/<slug:public_id>/",
        api_orgs.TokenDetail.as_view(),
        name="api-token",
    ),
    path("orgs/", api_orgs.OrganizationList.as_view(), name="api-orgs"),
    path("orgs/<slug:org>/", api_orgs.OrganizationDetail.as_view(), name="api-org"),
    path("orgs/<slug:org>/members/", api_orgs.MemberList.as_view(), name="api-members"),
    path(
        "orgs/<slug:org>/members/<int:member_id>/",
        api_orgs.MemberDetail.as_view(),
        name="api-member",
    ),
    path(
        "orgs/<slug:org>/invitations/",
        api_orgs.InvitationList.as_view(),
        name="api-invitations",
    ),
    path(
        "orgs/<slug:org>/invitations/<int:invitation_id>/",
        api_orgs.InvitationDetail.as_view(),
        name="api-invitation",
    ),
    path(
        "invitations/accept",
        api_orgs.InvitationAccept.as_view(),
        name="api-invitation-accept",
    ),
]
