from django.urls import path

from questions.digests import api

urlpatterns = [
    path("communities/<slug:slug>/digests/", api.DigestListView.as_view(), name="api-digests"),
    path("digests/<int:digest_id>/", api.DigestDetailView.as_view(), name="api-digest"),
    path(
        "digests/<int:digest_id>/publish/",
        api.DigestPublishView.as_view(),
        name="api-digest-publish",
    ),
]
