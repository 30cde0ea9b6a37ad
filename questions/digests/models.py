"""The digest's data: one ``Digest`` per community and week, its curated ``DigestItem``
answers, the ``DigestRevision`` kept for every edit after publishing, one ``DigestDelivery``
row per recipient, and each member's ``DigestSubscription`` (e-mails on or off, the feed's
secret). Imported by questions.models, so the models belong to the questions app."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from members import weeks


class Digest(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    community = models.ForeignKey(
        "members.Community",
        on_delete=models.PROTECT,
        related_name="digests",
        verbose_name=_("community"),
    )
    week = models.DateField(_("week (first day)"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    summary = models.TextField(_("summary (Markdown)"), blank=True, max_length=20_000)
    summary_html = models.TextField(blank=True, editable=False)
    # What the close knew, frozen with the draft: the fund statement, the winners, the
    # moderator's KPIs and next week's scheduled questions (ids; shown through the privacy
    # module when the digest is rendered).
    content = models.JSONField(_("content at the close"), default=dict, blank=True)
    moderator = models.ForeignKey(
        "members.Membership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moderator of the week"),
    )
    drafted_at = models.DateTimeField(_("drafted at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        "members.Membership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    revision = models.PositiveIntegerField(_("edits since publishing"), default=0)
    edited_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    # The week's moderator is told once that the draft waits for them.
    moderator_told_at = models.DateTimeField(_("moderator told at"), null=True, blank=True)
    # Deliveries: queued once, by the first publish (publishing again queues nothing).
    deliveries_queued_at = models.DateTimeField(_("e-mails queued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        ordering = ["-week"]
        constraints = [
            models.UniqueConstraint(fields=["community", "week"], name="questions_digest_a_week"),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(published_at__isnull=False),
                name="questions_published_digest_has_date",
            ),
        ]

    def __str__(self) -> str:
        return weeks.label(self.week)

    def get_absolute_url(self) -> str:
        return reverse("digests:detail", kwargs={"slug": self.community.slug, "label": self.label})

    @property
    def label(self) -> str:
        return weeks.label(self.week)

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED


class DigestItem(models.Model):
    """One answer of the week in the digest: its place in the digest, the excerpt shown, and
    whether the curator hid it as noise."""

    digest = models.ForeignKey(
        Digest, on_delete=models.CASCADE, related_name="items", verbose_name=_("digest")
    )
    answer = models.ForeignKey(
        "questions.Answer", on_delete=models.CASCADE, related_name="+", verbose_name=_("answer")
    )
    position = models.PositiveIntegerField(_("position"))
    votes = models.PositiveIntegerField(_("votes at the close"), default=0)
    excerpt = models.TextField(_("excerpt"), max_length=2000, blank=True)
    hidden = models.BooleanField(_("hidden"), default=False)

    class Meta:
        verbose_name = _("digest answer")
        verbose_name_plural = _("digest answers")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["digest", "answer"], name="questions_digest_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.digest_id}:{self.answer_id}"


class DigestRevision(models.Model):
    """The digest as it stood before an edit made after publishing."""

    digest = models.ForeignKey(
        Digest, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("digest")
    )
    number = models.PositiveIntegerField(_("revision"))
    summary = models.TextField(_("summary (Markdown)"), blank=True)
    items = models.JSONField(_("answers"), default=list, blank=True)
    edited_by = models.ForeignKey(
        "members.Membership",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("edited by"),
    )
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)

    class Meta:
        verbose_name = _("digest revision")
        verbose_name_plural = _("digest revisions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["digest", "number"], name="questions_digest_revision_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.digest_id} r{self.number}"


class DigestDelivery(models.Model):
    """One recipient's e-mail of one digest. ``queued`` → ``sending`` (claimed by a batch)
    → ``sent`` or ``failed`` (with the error). Unique per digest and member, so publishing
    twice queues nobody twice; a row is sent only by the batch that claimed it."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    digest = models.ForeignKey(
        Digest, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("digest")
    )
    membership = models.ForeignKey(
        "members.Membership",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("recipient"),
    )
    email = models.EmailField(_("address"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    claim = models.UUIDField(_("claimed by batch"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    queued_at = models.DateTimeField(_("queued at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("digest delivery")
        verbose_name_plural = _("digest deliveries")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["digest", "membership"], name="questions_deliver_a_digest_once"
            )
        ]
        indexes = [
            models.Index(fields=["digest", "state"], name="questions_delivery_state"),
            models.Index(
                fields=["claim"], name="questions_delivery_claim", condition=Q(claim__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.digest_id}:{self.membership_id}"


def new_secret() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


class DigestSubscription(models.Model):
    """A member's digest settings in one community. No row: e-mails on, no feed yet."""

    membership = models.OneToOneField(
        "members.Membership",
        on_delete=models.CASCADE,
        related_name="digest_subscription",
        verbose_name=_("member"),
    )
    emails = models.BooleanField(_("digest e-mails"), default=True)
    # The private feed's secret: anyone with the URL reads the feed, so a new secret (which
    # kills the old URL) is one click away.
    feed_secret = models.CharField(
        _("feed secret"), max_length=64, unique=True, null=True, blank=True
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("digest subscription")
        verbose_name_plural = _("digest subscriptions")

    def __str__(self) -> str:
        return str(self.membership_id)
