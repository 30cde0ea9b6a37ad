from django.urls import path

from questions import views

app_name = "questions"

urlpatterns = [
    path("c/<slug:slug>/week/", views.week, name="week"),
    path("c/<slug:slug>/week/<str:label>/", views.week, name="week_of"),
    path("c/<slug:slug>/week/<str:label>/announce/", views.announce, name="announce"),
    path("c/<slug:slug>/ballot/", views.ballot, name="ballot"),
    path("c/<slug:slug>/week/<str:label>/ballot/", views.ballot, name="ballot_of"),
    path("c/<slug:slug>/answers/<int:answer_id>/vote/", views.vote, name="vote"),
    path("c/<slug:slug>/questions/", views.question_list, name="list"),
    path("c/<slug:slug>/questions/new/", views.brief_create, name="brief_create"),
    path("c/<slug:slug>/questions/mine/", views.mine, name="mine"),
    path("c/<slug:slug>/briefs/", views.briefs, name="briefs"),
    path("c/<slug:slug>/questions/<int:question_id>/", views.question_detail, name="detail"),
    path("c/<slug:slug>/questions/<int:question_id>/edit/", views.brief_edit, name="brief_edit"),
    path("c/<slug:slug>/questions/<int:question_id>/schedule/", views.schedule, name="schedule"),
    path(
        "c/<slug:slug>/questions/<int:question_id>/challenge/",
        views.set_challenge,
        name="challenge",
    ),
    path("c/<slug:slug>/questions/<int:question_id>/invite/", views.invite, name="invite"),
    path("c/<slug:slug>/questions/<int:question_id>/answer/", views.answer_write, name="answer"),
    path("c/<slug:slug>/answers/<int:answer_id>/", views.answer_link, name="answer_link"),
    path(
        "c/<slug:slug>/answers/<int:answer_id>/discussion/",
        views.discussion,
        name="discussion",
    ),
    path(
        "c/<slug:slug>/answers/<int:answer_id>/revisions/",
        views.answer_revisions,
        name="revisions",
    ),
    path(
        "c/<slug:slug>/answers/<int:answer_id>/comments/",
        views.comment_create,
        name="comment_create",
    ),
    path("c/<slug:slug>/answers/<int:answer_id>/rate/", views.rate, name="rate"),
    path("c/<slug:slug>/comments/<int:comment_id>/edit/", views.comment_edit, name="comment_edit"),
    path(
        "c/<slug:slug>/comments/<int:comment_id>/remove/",
        views.comment_remove,
        name="comment_remove",
    ),
    path("notifications/", views.notifications, name="notifications"),
    path(
        "notifications/settings/",
        views.notification_settings,
        name="notification_settings",
    ),
    path(
        "notifications/<int:notification_id>/",
        views.notification_open,
        name="notification_open",
    ),
    path("attachments/<uuid:attachment_id>/", views.attachment, name="attachment"),
    path("markdown/preview/", views.preview, name="preview"),
    path(
        "c/<slug:slug>/questions/<int:question_id>/answer/image/",
        views.answer_image,
        name="answer_image",
    ),
]
