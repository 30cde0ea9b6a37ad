"""Notifications: a row per event for the portal's list, and an e-mail sent in the background.

E-mails name people by handle only (members.privacy.display_name), whatever the phase.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from members import mail, outbox, privacy
from members.models import User
from questions.models import Answer, Comment, Notification, Question

Kind = Notification.Kind


def notify(
    *,
    recipient: User,
    kind: str,
    question: Question,
    answer: Answer | None = None,
    comment: Comment | None = None,
    data: dict[str, object] | None = None,
) -> Notification:
    """Record a notification and e-mail it once the transaction commits (members.outbox)."""
    from questions import tasks

    with transaction.atomic(savepoint=False):  # the row and its e-mail's task, together
        notification = Notification.objects.create(
            recipient=recipient,
            community_id=question.community_id,
            kind=kind,
            question=question,
            answer=answer,
            comment=comment,
            data=data or {},
        )
        outbox.enqueue(tasks.send_notification_email, notification.pk)
    return notification


def email(notification_id: int) -> bool:
    """Send one notification's e-mail; idempotent (a sent one is not sent again)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related(
                "recipient", "community", "question", "answer__author__profile",
                "comment__author__profile",
            )
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )  # fmt: skip
        if notification is None or not notification.recipient.email:
            return False
        actor = None
        if notification.comment is not None:
            actor = privacy.display_name(notification.comment.author.profile)
        elif notification.answer is not None:
            actor = privacy.display_name(notification.answer.author.profile)
        context = {
            "n": notification,
            "actor": actor,
            "url": settings.SITE_URL + notification.question.get_absolute_url(),
        }
        mail.send_to(
            notification.recipient,
            subject="questions/email/notification_subject.txt",
            body="questions/email/notification_body.txt",
            context=context,
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (the given ones, or all); returns how many."""
    unread: QuerySet[Notification] = Notification.objects.filter(
        recipient=user, read_at__isnull=True
    )
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
