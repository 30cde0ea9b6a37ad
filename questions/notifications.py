"""Notifications: a row per event for the portal's list, and an e-mail sent in the background.

E-mails name people by handle only (members.privacy.display_name), whatever the phase.

Each person chooses, per kind, how they are told (NotificationPreference): in the portal and by
e-mail (the default), in the portal only, or not at all. This module is the one place that
enforces it: ``notify`` writes no row for "off" and queues no e-mail for "portal only", and
``email`` checks again at send time, so a choice made while the e-mail waited is honoured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from members import mail, outbox, privacy
from members.models import Membership, User
from questions.models import Answer, Comment, Notification, NotificationPreference, Question

Kind = Notification.Kind
Channel = NotificationPreference.Channel
DEFAULT_CHANNEL = Channel.PORTAL_AND_EMAIL


def channel_for(*, user_id: int, kind: str) -> str:
    """How the user wants to be told of ``kind`` (one query)."""
    chosen = (
        NotificationPreference.objects.filter(user_id=user_id, kind=kind)
        .values_list("channel", flat=True)
        .first()
    )
    return chosen or DEFAULT_CHANNEL


def preferences_of(*, user: User) -> dict[str, str]:
    """Every kind with the user's channel for it, in the kinds' order (one query)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "channel"))
    return {kind: chosen.get(kind, DEFAULT_CHANNEL) for kind in Kind.values}


def preferences_set(*, user: User, channels: Mapping[str, str]) -> dict[str, str]:
    """Set the user's channel for the kinds given (others unchanged); returns them all.

    Raises ValidationError, writing nothing, for an unknown kind or channel."""
    errors: dict[str, str] = {}
    for kind, channel in channels.items():
        if kind not in Kind.values:
            errors[kind] = _("There is no notification of the kind “%(kind)s”.") % {"kind": kind}
        elif channel not in Channel.values:
            errors[kind] = _("Choose in the portal and by e-mail, in the portal only, or off.")
    if errors:
        raise ValidationError(errors)
    if channels:
        rows = [
            NotificationPreference(user=user, kind=kind, channel=channel)
            for kind, channel in channels.items()
        ]
        # One statement, safe against a second request doing the same at once.
        NotificationPreference.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["user", "kind"],
            update_fields=["channel", "changed_at"],
        )
    return preferences_of(user=user)


def settings_save(
    *,
    user: User,
    channels: Mapping[str, str],
    digest_emails: Sequence[tuple[Membership, bool]] = (),
) -> None:
    """The preferences page's one write: the channels, and each community's digest e-mails
    (through the digest's own service), all or nothing. The memberships must be the user's
    own, of communities whose digest they may read."""
    from questions.digests import access as digest_access
    from questions.digests import services as digest_services

    for membership, _on in digest_emails:
        if membership.user_id != user.pk or not digest_access.may_read_archive(membership):
            raise PermissionDenied(_("You do not receive that community's digest."))
    with transaction.atomic():
        preferences_set(user=user, channels=channels)
        for membership, on in digest_emails:
            digest_services.digest_emails_set(membership=membership, on=on)


def notify(
    *,
    recipient: User,
    kind: str,
    question: Question,
    answer: Answer | None = None,
    comment: Comment | None = None,
    data: dict[str, object] | None = None,
) -> Notification | None:
    """Record a notification and e-mail it once the transaction commits (members.outbox), as
    far as the recipient's preference for the kind allows: none is recorded when it is off
    (returns None), and no e-mail is queued for one in the portal only."""
    from questions import tasks

    channel = channel_for(user_id=recipient.pk, kind=kind)
    if channel == Channel.OFF:
        return None
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
        if channel == Channel.PORTAL_AND_EMAIL:
            outbox.enqueue(tasks.send_notification_email, notification.pk)
    return notification


def email(notification_id: int) -> bool:
    """Send one notification's e-mail; idempotent (a sent one is not sent again). Not sent
    when the recipient has since chosen the portal only, or off, for its kind."""
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
        wanted = channel_for(user_id=notification.recipient_id, kind=notification.kind)
        if wanted != Channel.PORTAL_AND_EMAIL:
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
