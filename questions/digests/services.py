"""Every write to digests: the draft (the week close's step), curation, publishing, members'
digest settings and the one-click unsubscribe. E-mail delivery is in ``delivery``.

Who may curate and publish: that week's moderator (the member the rotation fixed for the week,
while they are an active member) and the community's organisers (``access.may_curate``). The
services check it themselves, so the portal, the admin and the API cannot differ.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from members import outbox
from members import services as member_services
from members.models import Community, Membership
from questions import markdown
from questions.audit import Event as QuestionEvent
from questions.digests import access
from questions.digests.models import (
    Digest,
    DigestItem,
    DigestRevision,
    DigestSubscription,
    new_secret,
)
from questions.models import Answer, Question

State = Question.State
PUBLISHED_QUESTIONS = (State.SCHEDULED, State.OPEN, State.CLOSED)
EXCERPT_LENGTH = 300
SUMMARY_MAX = 20_000
EXCERPT_MAX = 2_000
WEEK = datetime.timedelta(days=7)


# --- The draft (a step of the week close) ------------------------------------------------------


@dataclass(frozen=True)
class Winner:
    place: int
    answer_id: int
    amount: int


@dataclass(frozen=True)
class CloseFacts:
    """What the other apps know of the closed week, gathered by the weekly pipeline
    (community/weekly.py): the digest cannot import rewards or rotation."""

    votes: dict[int, int]  # answer id → votes at the close
    winners: Sequence[Winner] = ()
    fund: dict[str, int | None] = field(default_factory=dict)
    kpis: dict[str, Any] | None = None
    moderator_id: int | None = None


def digest_draft(*, community: Community, week: datetime.date, facts: CloseFacts) -> Digest:
    """The week's draft: its questions' answers ranked by votes (ties to the earlier answer)
    with excerpts, and the close's winners, fund statement, KPIs and next week's scheduled
    questions. Idempotent: a digest already drafted (or curated, or published) is returned
    as it is."""
    found = Digest.objects.filter(community=community, week=week).first()
    if found is not None:
        return found
    questions = list(
        Question.objects.filter(
            community=community, session__week=week, state__in=PUBLISHED_QUESTIONS
        ).order_by("scheduled_at", "pk")
    )
    order = {q.pk: i for i, q in enumerate(questions)}
    answers = sorted(
        Answer.objects.filter(question__in=questions).only(
            "pk", "question_id", "body", "created_at"
        ),
        key=lambda a: (order[a.question_id], -facts.votes.get(a.pk, 0), a.created_at, a.pk),
    )
    next_week = list(
        Question.objects.filter(
            community=community, session__week=week + WEEK, state__in=PUBLISHED_QUESTIONS
        )
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)
    )
    content = {
        "currency": community.currency,
        "questions": [q.pk for q in questions],
        "winners": [
            {"place": w.place, "answer": w.answer_id, "amount": w.amount} for w in facts.winners
        ],
        "fund": facts.fund,
        "kpis": facts.kpis,
        "next_week": next_week,
    }
    try:
        with transaction.atomic():
            digest = Digest.objects.create(
                community=community, week=week, content=content, moderator_id=facts.moderator_id
            )
            DigestItem.objects.bulk_create(
                DigestItem(
                    digest=digest,
                    answer=a,
                    position=i,
                    votes=facts.votes.get(a.pk, 0),
                    excerpt=markdown.excerpt(a.body, EXCERPT_LENGTH),
                )
                for i, a in enumerate(answers, start=1)
            )
            if digest.moderator_id is not None:
                from questions.digests import tasks

                outbox.enqueue(tasks.draft_tell_moderator, digest.pk)
    except IntegrityError:  # drafted a moment ago by another worker
        return Digest.objects.get(community=community, week=week)
    return digest


def draft_tell_moderator(digest_id: int) -> bool:
    """E-mail the week's moderator that the draft waits for them; once."""
    from members import mail, weeks

    with transaction.atomic():
        digest = (
            Digest.objects.select_for_update(of=("self",))
            .select_related("community", "moderator__user")
            .filter(pk=digest_id, moderator_told_at__isnull=True, state=Digest.State.DRAFT)
            .first()
        )
        if digest is None or digest.moderator is None or not digest.moderator.user.email:
            return False
        due = weeks.ends_at(digest.community, digest.week) + datetime.timedelta(
            days=settings.DIGEST_DUE_DAYS
        )
        url = settings.SITE_URL + reverse(
            "digests:curate", kwargs={"slug": digest.community.slug, "label": digest.label}
        )
        mail.send_to(
            digest.moderator.user,
            subject="digests/email/draft_subject.txt",
            body="digests/email/draft_body.txt",
            context={"digest": digest, "community": digest.community, "due": due, "url": url},
        )
        digest.moderator_told_at = timezone.now()
        digest.save(update_fields=["moderator_told_at"])
    return True


# --- Curation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemChange:
    item_id: int
    position: int
    excerpt: str
    hidden: bool
    featured: bool


def _check_curator(editor: Membership, digest: Digest) -> None:
    if not access.may_curate(editor, digest):
        raise PermissionDenied(
            _("Only that week's moderator and the community's organisers may curate its digest.")
        )


def _summary(value: object) -> str:
    """The summary as the questions' other texts are cleaned (questions.services._text)."""
    from questions.services import _text

    return _text(value, "summary", required=False, max_length=SUMMARY_MAX)


def _snapshot(digest: Digest) -> list[dict[str, Any]]:
    return [
        {"answer": i.answer_id, "position": i.position, "excerpt": i.excerpt, "hidden": i.hidden}
        for i in digest.items.order_by("position", "pk")
    ]


def _locked(digest: Digest) -> Digest:
    return Digest.objects.select_for_update().select_related("community").get(pk=digest.pk)


def digest_curate(
    *,
    digest: Digest,
    editor: Membership,
    summary: object = None,
    items: Iterable[ItemChange] | None = None,
) -> Digest:
    """Change the summary (``None``: unchanged) and the answers' order, excerpts, hiding and
    featured flags. After publishing, the digest as it stood is kept as a revision and the
    digest shows as updated; the e-mails already sent are not sent again."""
    _check_curator(editor, digest)
    text = None if summary is None else _summary(summary)
    changes = list(items or [])
    for change in changes:
        if "\x00" in change.excerpt:
            raise ValidationError({"items": _("Null characters are not allowed.")}, code="null")
        if len(change.excerpt) > EXCERPT_MAX:
            raise ValidationError(
                {"items": _("An excerpt has at most %(max)d characters.") % {"max": EXCERPT_MAX}},
                code="max_length",
            )
    with transaction.atomic():
        digest = _locked(digest)
        by_id = {i.pk: i for i in digest.items.select_related("answer")}
        if any(c.item_id not in by_id for c in changes):
            raise ValidationError({"items": _("That answer is not in this digest.")}, "unknown")
        before_summary, before_items = digest.summary, _snapshot(digest)
        if text is not None:
            digest.summary, digest.summary_html = text, markdown.render(text)
        for change in changes:
            item = by_id[change.item_id]
            item.position, item.excerpt, item.hidden = (
                change.position,
                change.excerpt,
                change.hidden,
            )
        if changes:
            DigestItem.objects.bulk_update(
                [by_id[c.item_id] for c in changes], ["position", "excerpt", "hidden"]
            )
            featured = {c.item_id for c in changes if c.featured}
            on = [by_id[i].answer_id for i in featured]
            off = [by_id[c.item_id].answer_id for c in changes if c.item_id not in featured]
            Answer.objects.filter(pk__in=on, featured=False).update(featured=True)
            Answer.objects.filter(pk__in=off, featured=True).update(featured=False)
        changed = digest.summary != before_summary or _snapshot(digest) != before_items
        if digest.is_published and changed:
            digest.revision += 1
            DigestRevision.objects.create(
                digest=digest,
                number=digest.revision,
                summary=before_summary,
                items=before_items,
                edited_by=editor,
            )
            digest.edited_at = timezone.now()
            member_services.audit(
                community=digest.community,
                actor=editor.user,
                event=QuestionEvent.DIGEST_EDITED,
                membership=editor,
                data={"week": digest.label, "revision": digest.revision},
            )
        digest.save()
    return digest


def digest_publish(
    *, digest: Digest, publisher: Membership, now: datetime.datetime | None = None
) -> Digest:
    """Publish to the archive and queue one e-mail per eligible member (delivery, once the
    transaction commits). Publishing a published digest changes nothing and sends nothing."""
    from questions.digests import tasks

    _check_curator(publisher, digest)
    with transaction.atomic():
        digest = _locked(digest)
        if digest.is_published:
            return digest
        if not digest.summary.strip():
            raise ValidationError(
                {"summary": _("Write the summary before publishing: it is what members read.")},
                code="required",
            )
        digest.state = Digest.State.PUBLISHED
        digest.published_at = now or timezone.now()
        digest.published_by = publisher
        digest.save(update_fields=["state", "published_at", "published_by"])
        member_services.audit(
            community=digest.community,
            actor=publisher.user,
            event=QuestionEvent.DIGEST_PUBLISHED,
            membership=publisher,
            data={"week": digest.label},
        )
        outbox.enqueue(tasks.deliveries_queue, digest.pk)
    return digest


def on_time(digest: Digest) -> bool | None:
    """The moderator's "digest on time" KPI: published within DIGEST_DUE_DAYS of the week's
    end; ``None`` while it is a draft that is not late yet."""
    from members import weeks

    due = weeks.ends_at(digest.community, digest.week) + datetime.timedelta(
        days=settings.DIGEST_DUE_DAYS
    )
    if digest.published_at is not None:
        return digest.published_at <= due
    return False if timezone.now() > due else None


# --- Members' digest settings --------------------------------------------------------------------


def subscription_of(membership: Membership) -> DigestSubscription:
    found = DigestSubscription.objects.filter(membership=membership).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return DigestSubscription.objects.create(membership=membership)
    except IntegrityError:
        return DigestSubscription.objects.get(membership=membership)


def digest_emails_set(*, membership: Membership, on: bool) -> DigestSubscription:
    subscription = subscription_of(membership)
    if subscription.emails != on:
        subscription.emails = on
        subscription.save(update_fields=["emails", "changed_at"])
    return subscription


def feed_secret_renew(*, membership: Membership) -> DigestSubscription:
    """A new secret for the member's feed: the old URL stops working at once."""
    subscription = subscription_of(membership)
    subscription.feed_secret = new_secret()
    subscription.save(update_fields=["feed_secret", "changed_at"])
    return subscription


def feed_secret_revoke(*, membership: Membership) -> DigestSubscription:
    subscription = subscription_of(membership)
    subscription.feed_secret = None
    subscription.save(update_fields=["feed_secret", "changed_at"])
    return subscription


# --- One-click unsubscribe (RFC 8058) ----------------------------------------------------------

UNSUBSCRIBE_SALT = "questions.digests.unsubscribe"


def unsubscribe_token(membership_id: int) -> str:
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(str(membership_id))


class UnsubscribeError(Exception):
    def __init__(self, message: str, *, expired: bool) -> None:
        super().__init__(message)
        self.expired = expired


def membership_for_token(token: str) -> Membership:
    """The member an unsubscribe link was made for; UnsubscribeError when it was forged,
    altered or has expired."""
    signer = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT)
    max_age = datetime.timedelta(days=settings.DIGEST_UNSUBSCRIBE_MAX_AGE_DAYS)
    try:
        value = signer.unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise UnsubscribeError(
            _("This unsubscribe link has expired. Turn digest e-mails off in your settings."),
            expired=True,
        ) from None
    except (signing.BadSignature, ValueError):  # ValueError: signed, but not with a time
        raise UnsubscribeError(_("This unsubscribe link is not valid."), expired=False) from None
    found = (
        Membership.objects.select_related("community", "user").filter(pk=int(value)).first()
        if value.isdigit()
        else None
    )
    if found is None:
        raise UnsubscribeError(_("This unsubscribe link is not valid."), expired=False)
    return found


def unsubscribe(*, token: str) -> Membership:
    """Turn digest e-mails off for the member the link was made for (no sign-in needed)."""
    membership = membership_for_token(token)
    digest_emails_set(membership=membership, on=False)
    return membership
