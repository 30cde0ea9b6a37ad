from django.urls import path

from members import api

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("communities/", api.CommunityListView.as_view(), name="api-communities"),
    path("communities/<slug:slug>/", api.CommunityDetailView.as_view(), name="api-community"),
    path("communities/<slug:slug>/members/", api.MemberListView.as_view(), name="api-members"),
    path("communities/<slug:slug>/members/me/", api.MemberMeView.as_view(), name="api-member-me"),
    path(
        "communities/<slug:slug>/members/import/",
        api.MemberImportView.as_view(),
        name="api-members-import",
    ),
    path(
        "communities/<slug:slug>/members/export/",
        api.MemberExportView.as_view(),
        name="api-members-export",
    ),
    path(
        "communities/<slug:slug>/members/<int:membership_id>/",
        api.MemberDetailView.as_view(),
        name="api-member",
    ),
    path("communities/<slug:slug>/tags/", api.TagListView.as_view(), name="api-tags"),
    path("communities/<slug:slug>/matcher/", api.MatcherView.as_view(), name="api-matcher"),
]
