from django.urls import path

from questions.digests import views
from questions.digests.feeds import digest_feed

app_name = "digests"

urlpatterns = [
    path("c/<slug:slug>/digests/", views.archive, name="archive"),
    path("c/<slug:slug>/digests/settings/", views.digest_settings, name="settings"),
    path("c/<slug:slug>/digests/settings/feed/", views.feed_secret, name="feed_secret"),
    path("c/<slug:slug>/digests/feed/<str:secret>/", digest_feed, name="feed"),
    path("c/<slug:slug>/digests/<str:label>/", views.detail, name="detail"),
    path("c/<slug:slug>/digests/<str:label>/curate/", views.curate, name="curate"),
    path("c/<slug:slug>/digests/<str:label>/email/", views.email_preview, name="email_preview"),
    path("c/<slug:slug>/digests/<str:label>/test/", views.test_send, name="test_send"),
    path("c/<slug:slug>/digests/<str:label>/publish/", views.publish, name="publish"),
    path("digests/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
