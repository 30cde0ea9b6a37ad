from django.urls import path

from rotation import api

urlpatterns = [
    path("communities/<slug:slug>/roster/", api.RosterView.as_view(), name="api-roster"),
    path("communities/<slug:slug>/roster/me/", api.RosterMeView.as_view(), name="api-roster-me"),
    path(
        "communities/<slug:slug>/roster/<int:member_id>/remove/",
        api.RosterRemoveView.as_view(),
        name="api-roster-remove",
    ),
    path("communities/<slug:slug>/swaps/", api.SwapListView.as_view(), name="api-swaps"),
    path(
        "communities/<slug:slug>/swaps/<int:swap_id>/accept/",
        api.SwapAcceptView.as_view(),
        name="api-swap-accept",
    ),
    path(
        "communities/<slug:slug>/swaps/<int:swap_id>/decline/",
        api.SwapDeclineView.as_view(),
        name="api-swap-decline",
    ),
    path("communities/<slug:slug>/shifts/", api.ShiftListView.as_view(), name="api-shifts"),
    path(
        "communities/<slug:slug>/weeks/<str:week>/moderator-pay/",
        api.ShiftPayView.as_view(),
        name="api-moderator-pay",
    ),
]
