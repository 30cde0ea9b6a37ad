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
