from django.urls import path

from members import tag_views, views

app_name = "members"

urlpatterns = [
    path("communities/new/", views.community_create, name="community_create"),
    path("c/<slug:slug>/", views.landing, name="landing"),
    path("c/<slug:slug>/members/", views.directory, name="directory"),
    path("c/<slug:slug>/members/add/", views.member_add, name="member_add"),
    path("c/<slug:slug>/members/import/", views.member_import, name="member_import"),
    path("c/<slug:slug>/members/export.csv", views.member_export, name="member_export"),
    path("c/<slug:slug>/members/<int:membership_id>/", views.profile_detail, name="profile"),
    path("c/<slug:slug>/me/", views.my_profile, name="my_profile"),
    path("c/<slug:slug>/me/handle/", views.my_profile_handle, name="my_profile_handle"),
    path("c/<slug:slug>/tags/", views.tag_create, name="tag_create"),
    path("c/<slug:slug>/tags/manage/", tag_views.tag_manage, name="tag_manage"),
    path("c/<slug:slug>/matcher/", views.matcher, name="matcher"),
    path("c/<slug:slug>/settings/", views.community_settings, name="settings"),
    path("c/<slug:slug>/settings/growth/", views.enter_growth, name="enter_growth"),
    path("c/<slug:slug>/members/invites/", views.invite_links, name="invite_links"),
    path(
        "c/<slug:slug>/members/invites/<int:invite_id>/revoke/",
        views.invite_revoke,
        name="invite_revoke",
    ),
    path("c/<slug:slug>/invite/<str:token>/", views.invite_accept, name="invite_accept"),
]
