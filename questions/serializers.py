"""API shapes for questions, answers and discussion."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from members import weeks
from members.serializers import StrictPayloadMixin
from questions.models import Answer, Comment, Notification, Question


def handle(membership: Any) -> str:
    from members import privacy

    return privacy.display_name(membership.profile)


class WeekLabelField(serializers.CharField):
    """A week written ``2026-W48``; cleaned by the view against the community's weeks."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=8, **kwargs)


class QuestionInputSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200)
    background = serializers.CharField(max_length=20000)
    wanted = serializers.CharField(max_length=5000)
    needs = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=10
    )
    preferred_week = WeekLabelField(required=False, allow_blank=True)
    attachment = serializers.UUIDField(required=False, allow_null=True)
    draft = serializers.BooleanField(
        required=False, default=False, help_text=_("Save as a draft instead of submitting.")
    )


class QuestionUpdateSerializer(QuestionInputSerializer):
    title = serializers.CharField(max_length=200, required=False)
    background = serializers.CharField(max_length=20000, required=False)
    wanted = serializers.CharField(max_length=5000, required=False)
    draft = None  # type: ignore[assignment]
    submit = serializers.BooleanField(required=False, default=False)


class ScheduleSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    week = WeekLabelField()


class ChallengeSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    is_challenge = serializers.BooleanField()


class InviteSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    members = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=100)


class AnswerInputSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    body = serializers.CharField(max_length=100_000, trim_whitespace=False)
    attachment = serializers.UUIDField(required=False, allow_null=True)


class CommentInputSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    body = serializers.CharField(max_length=5000)
    parent = serializers.IntegerField(  # type: ignore[assignment]
        required=False, allow_null=True, min_value=1
    )


class CommentEditSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    body = serializers.CharField(max_length=5000)


class RemoveSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


class RatingSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    stars = serializers.IntegerField(min_value=1, max_value=5)

    def to_internal_value(self, data: Any) -> Any:
        value = data.get("stars") if hasattr(data, "get") else None
        if isinstance(value, bool) or (value is not None and not isinstance(value, int)):
            raise serializers.ValidationError({"stars": [_("Give 1 to 5 stars.")]})
        return super().to_internal_value(data)


class PreviewSerializer(serializers.Serializer[Any]):
    body = serializers.CharField(max_length=100_000, allow_blank=True, trim_whitespace=False)


def question_data(question: Question, *, answer_count: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": question.pk,
        "community": question.community.slug,
        "title": question.title,
        "background": question.background,
        "background_html": question.background_html,
        "wanted": question.wanted,
        "wanted_html": question.wanted_html,
        "needs": [t.name for t in question.needs.all()],
        "state": question.state,
        "is_challenge": question.is_challenge,
        "week": weeks.label(question.session.week) if question.session else None,
        "preferred_week": weeks.label(question.preferred_week) if question.preferred_week else None,
        "asker": {"id": question.asker_id, "handle": handle(question.asker)},
        "attachment": attachment_data(question.attachment),
        "submitted_at": question.submitted_at,
        "scheduled_at": question.scheduled_at,
        "created_at": question.created_at,
    }
    if answer_count is not None:
        data["answer_count"] = answer_count
    return data


def attachment_data(attachment: Any) -> dict[str, Any] | None:
    if attachment is None:
        return None
    return {
        "id": str(attachment.pk),
        "name": attachment.name,
        "kind": attachment.kind,
        "size": attachment.size,
        "url": attachment.get_absolute_url(),
    }


def comment_data(comment: Comment) -> dict[str, Any]:
    if comment.is_removed:
        return {
            "id": comment.pk,
            "parent": comment.parent_id,
            "removed": True,
            "removal_reason": comment.removal_reason,
            "created_at": comment.created_at,
        }
    return {
        "id": comment.pk,
        "parent": comment.parent_id,
        "removed": False,
        "author": {"id": comment.author_id, "handle": handle(comment.author)},
        "body": comment.body,
        "body_html": comment.body_html,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
    }


def answer_data(answer: Answer, *, comments: list[Comment] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": answer.pk,
        "question": answer.question_id,
        "author": {"id": answer.author_id, "handle": handle(answer.author)},
        "body": answer.body,
        "body_html": answer.body_html,
        "revision": answer.revision,
        "attachment": attachment_data(answer.attachment),
        "created_at": answer.created_at,
        "updated_at": answer.updated_at,
    }
    if hasattr(answer, "rating_count"):
        avg = answer.rating_avg  # type: ignore[attr-defined]
        data["rating"] = {
            "average": round(float(avg), 2) if avg is not None else None,
            "count": answer.rating_count,
        }
    if comments is not None:
        data["comments"] = [comment_data(c) for c in comments]
    return data


def notification_data(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "kind": n.kind,
        "community": n.community.slug,
        "question": {"id": n.question_id, "title": n.question.title},
        "answer": n.answer_id,
        "comment": n.comment_id,
        "created_at": n.created_at,
        "read": n.read_at is not None,
    }


# --- Output shapes, for the schema (the data itself comes from the functions above) -----------


class PersonSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text=_("The member's id."))
    handle = serializers.CharField()


class AttachmentOutputSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField()


class QuestionOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    community = serializers.CharField(help_text=_("The community's slug."))
    title = serializers.CharField()
    background = serializers.CharField()
    background_html = serializers.CharField()
    wanted = serializers.CharField()
    wanted_html = serializers.CharField()
    needs = serializers.ListField(child=serializers.CharField())
    state = serializers.ChoiceField(choices=Question.State.choices)
    is_challenge = serializers.BooleanField()
    week = serializers.CharField(allow_null=True, help_text=_("2026-W48, once scheduled."))
    preferred_week = serializers.CharField(allow_null=True)
    asker = PersonSerializer()
    attachment = AttachmentOutputSerializer(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    scheduled_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class QuestionListItemSerializer(QuestionOutputSerializer):
    answer_count = serializers.IntegerField()


class CommentOutputSerializer(serializers.Serializer[Any]):
    """A comment; a removed one keeps only its id, parent, time and the removal's reason."""

    id = serializers.IntegerField()
    parent = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]
    removed = serializers.BooleanField()
    removal_reason = serializers.CharField(required=False, help_text=_("Removed ones only."))
    author = PersonSerializer(required=False, help_text=_("Not on removed ones."))
    body = serializers.CharField(required=False)
    body_html = serializers.CharField(required=False)
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(required=False, allow_null=True)


class RatingSummarySerializer(serializers.Serializer[Any]):
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class AnswerOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    question = serializers.IntegerField()
    author = PersonSerializer()
    body = serializers.CharField(allow_blank=True, help_text=_("Markdown, as written."))
    body_html = serializers.CharField(allow_blank=True, help_text=_("Sanitised HTML."))
    revision = serializers.IntegerField()
    attachment = AttachmentOutputSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    rating = RatingSummarySerializer(required=False)


class QuestionAnswerSerializer(AnswerOutputSerializer):
    comments = CommentOutputSerializer(
        many=True, help_text=_("The first few comments; all of them at comments_url.")
    )
    comment_count = serializers.IntegerField()
    comments_url = serializers.URLField(help_text=_("The answer's comments, in pages."))
    votes = serializers.IntegerField(
        allow_null=True, help_text=_("Votes received, once the week is closed (null before).")
    )
    voted = serializers.BooleanField()
    can_vote = serializers.BooleanField()
    can_rate = serializers.BooleanField()
    can_tip = serializers.BooleanField()


class QuestionDetailSerializer(QuestionOutputSerializer):
    answers = QuestionAnswerSerializer(
        many=True, help_text=_("The first page of answers (top first); all at answers_url.")
    )
    answer_count = serializers.IntegerField()
    answers_url = serializers.URLField(
        help_text=_("The answers, in pages: ?order=top|newest|oldest&page=")
    )
    answers_hidden = serializers.BooleanField()
    phase = serializers.CharField()
    can_answer = serializers.BooleanField()
    can_revise = serializers.BooleanField()
    voting_opens_at = serializers.DateTimeField(allow_null=True)
    voting_closes_at = serializers.DateTimeField(allow_null=True)
    voting_open = serializers.BooleanField()
    votes_left = serializers.IntegerField()
    can_edit_brief = serializers.BooleanField()
    can_schedule = serializers.BooleanField()
    can_invite = serializers.BooleanField()
    can_mark_challenge = serializers.BooleanField()
    can_comment = serializers.BooleanField()
    can_remove_comments = serializers.BooleanField()


class InvitedSerializer(serializers.Serializer[Any]):
    invited = serializers.ListField(
        child=serializers.IntegerField(), help_text=_("The members invited now.")
    )


class RevisionSerializer(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    body = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class RatingOutputSerializer(serializers.Serializer[Any]):
    answer = serializers.IntegerField()
    stars = serializers.IntegerField(min_value=1, max_value=5)


class VotesLeftSerializer(serializers.Serializer[Any]):
    votes_left = serializers.IntegerField()


class BallotAnswerSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    author = PersonSerializer()
    created_at = serializers.DateTimeField()
    mine = serializers.BooleanField()
    voted = serializers.BooleanField()


class BallotQuestionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    answers = BallotAnswerSerializer(many=True)


class BallotSerializer(serializers.Serializer[Any]):
    week = serializers.CharField()
    phase = serializers.CharField()
    voting_opens_at = serializers.DateTimeField()
    voting_closes_at = serializers.DateTimeField()
    votes_per_member = serializers.IntegerField()
    votes_left = serializers.IntegerField()
    questions = BallotQuestionSerializer(many=True)


class SessionOutputSerializer(serializers.Serializer[Any]):
    week = serializers.CharField()
    begins_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    announcement_html = serializers.CharField(allow_blank=True)
    questions = QuestionListItemSerializer(many=True)


class NotificationQuestionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()


class NotificationOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    community = serializers.CharField()
    question = NotificationQuestionSerializer()
    answer = serializers.IntegerField(allow_null=True)
    comment = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()


class NotificationListSerializer(serializers.Serializer[Any]):
    unread = serializers.IntegerField()
    results = NotificationOutputSerializer(many=True)


class MarkedSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField(help_text=_("How many were marked read."))


class PreviewOutputSerializer(serializers.Serializer[Any]):
    html = serializers.CharField(allow_blank=True)
