from django.urls import path

from questions import api, preferences_api

urlpatterns = [
    path(
        "communities/<slug:slug>/questions/",
        api.QuestionListView.as_view(),
        name="api-questions",
    ),
    path(
        "communities/<slug:slug>/sessions/<str:week>/",
        api.SessionView.as_view(),
        name="api-session",
    ),
    path(
        "communities/<slug:slug>/attachments/",
        api.AttachmentUploadView.as_view(),
        name="api-attachments",
    ),
    path("questions/<int:question_id>/", api.QuestionDetailView.as_view(), name="api-question"),
    path("questions/<int:question_id>/schedule/", api.ScheduleView.as_view(), name="api-schedule"),
    path(
        "questions/<int:question_id>/challenge/",
        api.ChallengeView.as_view(),
        name="api-challenge",
    ),
    path(
        "questions/<int:question_id>/invitations/",
        api.InviteView.as_view(),
        name="api-invitations",
    ),
    path(
        "questions/<int:question_id>/answers/",
        api.AnswerCreateView.as_view(),
        name="api-answers",
    ),
    path("answers/<int:answer_id>/", api.AnswerDetailView.as_view(), name="api-answer"),
    path(
        "answers/<int:answer_id>/revisions/",
        api.RevisionListView.as_view(),
        name="api-revisions",
    ),
    path(
        "answers/<int:answer_id>/comments/",
        api.CommentCreateView.as_view(),
        name="api-comments",
    ),
    path("answers/<int:answer_id>/rating/", api.RatingView.as_view(), name="api-rating"),
    path("answers/<int:answer_id>/vote/", api.VoteView.as_view(), name="api-vote"),
    path(
        "communities/<slug:slug>/ballots/<str:week>/",
        api.BallotView.as_view(),
        name="api-ballot",
    ),
    path("comments/<int:comment_id>/", api.CommentDetailView.as_view(), name="api-comment"),
    path(
        "comments/<int:comment_id>/remove/",
        api.CommentRemoveView.as_view(),
        name="api-comment-remove",
    ),
    path("notifications/", api.NotificationListView.as_view(), name="api-notifications"),
    path(
        "notifications/read/",
        api.NotificationReadView.as_view(),
        name="api-notifications-read",
    ),
    path("markdown/preview/", api.PreviewView.as_view(), name="api-preview"),
    path(
        "me/notification-preferences/",
        preferences_api.NotificationPreferencesView.as_view(),
        name="api-notification-preferences",
    ),
]
