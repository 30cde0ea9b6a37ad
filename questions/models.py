"""Question briefs, weekly sessions, answers and their revisions, discussion, ratings,
invitations, attachments and notifications."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.models import Community, Membership, Tag
from members.search import SearchDocumentField


def _attachment_storage() -> Storage:
    return storages["attachments"]


def _attachment_path(instance: Attachment, filename: str) -> str:
    # Never the uploader's file name: it may say too much, and it must not be guessable.
    return f"{instance.community_id}/{instance.pk}"


class WeekSession(models.Model):
    """A community's weekly session: the questions scheduled into one week. (Named for the
    week so that it is not mistaken for Django's or Stripe's sessions.)"""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("community")
    )
    week = models.DateField(_("week (first day)"))
    announcement = models.TextField(_("announcement"), blank=True, max_length=5000)
    announcement_html = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("weekly session")
        verbose_name_plural = _("weekly sessions")
        ordering = ["-week"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "week"], name="questions_one_session_a_week"
            )
        ]

    def __str__(self) -> str:
        from members import weeks

        return f"{self.community.slug} {weeks.label(self.week)}"


class Attachment(models.Model):
    """An uploaded document (docx, pdf, md, txt) or image (png, jpeg, gif, webp), served only
    through an access check."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "Word (docx)"
        MARKDOWN = "md", "Markdown"
        TEXT = "txt", _("Text")
        PNG = "png", "PNG"
        JPEG = "jpeg", "JPEG"
        GIF = "gif", "GIF"
        WEBP = "webp", "WebP"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    uploaded_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    file = models.FileField(_("file"), storage=_attachment_storage, upload_to=_attachment_path)
    name = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    # The answer whose body shows this image (questions.attachments.images_link): it is
    # served to whoever may read that answer.
    shown_in = models.ForeignKey(
        "Answer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="images",
        verbose_name=_("shown in answer"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("questions:attachment", kwargs={"attachment_id": self.pk})


class Question(models.Model):
    """A question brief, written ahead, then scheduled into a week's session."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="questions", verbose_name=_("community")
    )
    asker = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="questions", verbose_name=_("asker")
    )
    title = models.CharField(_("title"), max_length=200)
    background = models.TextField(_("background"), max_length=20000)
    wanted = models.TextField(_("what you want from the answers"), max_length=5000)
    background_html = models.TextField(blank=True, editable=False)
    wanted_html = models.TextField(blank=True, editable=False)
    needs = models.ManyToManyField(
        Tag, blank=True, related_name="questions", verbose_name=_("skills needed")
    )
    attachment = models.ForeignKey(
        Attachment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("attachment"),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    preferred_week = models.DateField(_("preferred week"), null=True, blank=True)
    session = models.ForeignKey(
        WeekSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questions",
        verbose_name=_("session"),
    )
    is_challenge = models.BooleanField(_("challenge question"), default=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled at"), null=True, blank=True)
    scheduled_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scheduled by"),
    )
    search_document = SearchDocumentField(default="", blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["draft", "submitted", "scheduled", "open", "closed"]),
                name="questions_question_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["draft", "submitted"], session__isnull=True)
                | Q(state__in=["scheduled", "open", "closed"], session__isnull=False),
                name="questions_question_session_iff_published",
            ),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(submitted_at__isnull=False),
                name="questions_question_submitted_at",
            ),
        ]
        indexes = [models.Index(fields=["community", "state", "session"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "questions:detail", kwargs={"slug": self.community.slug, "question_id": self.pk}
        )

    @property
    def is_published(self) -> bool:
        return self.state in (self.State.SCHEDULED, self.State.OPEN, self.State.CLOSED)


class Invitation(models.Model):
    """A moderator asked a member to answer a question."""

    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("question")
    )
    invitee = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("invitee")
    )
    invited_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("invited at"), auto_now_add=True)

    class Meta:
        verbose_name = _("invitation to answer")
        verbose_name_plural = _("invitations to answer")
        constraints = [
            models.UniqueConstraint(fields=["question", "invitee"], name="questions_invite_once")
        ]

    def __str__(self) -> str:
        return gettext("Invitation %(id)s") % {"id": self.pk}


class Answer(models.Model):
    """A member's long-form answer to a question; one per member per question, revisable."""

    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", verbose_name=_("question")
    )
    author = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="answers", verbose_name=_("author")
    )
    body = models.TextField(_("answer (Markdown)"), max_length=100_000)
    body_html = models.TextField(editable=False)
    attachment = models.ForeignKey(
        Attachment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("attachment"),
    )
    revision = models.PositiveIntegerField(_("revision"), default=1)
    # Featured (精华): marked by the week's moderator or an organiser while curating the
    # digest; shown on the question page, and what the book collects.
    featured = models.BooleanField(_("featured"), default=False)
    # Raised (in the same transaction) whenever a comment under it is written, edited or
    # removed: the version of its discussion's cached HTML (questions.fragments).
    discussion_version = models.PositiveIntegerField(default=0, editable=False)
    search_document = SearchDocumentField(default="", blank=True, editable=False)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("revised at"), auto_now=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "author"], name="questions_one_answer_per_member"
            )
        ]

    def __str__(self) -> str:
        return gettext("Answer %(id)s to question %(question)s") % {
            "id": self.pk,
            "question": self.question_id,
        }

    def get_absolute_url(self) -> str:
        """Its stable link (the question page at whichever page holds it)."""
        return reverse(
            "questions:answer_link",
            kwargs={"slug": self.question.community.slug, "answer_id": self.pk},
        )


class AnswerRevision(models.Model):
    """Every version of an answer, kept (the first one too)."""

    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("answer")
    )
    number = models.PositiveIntegerField(_("revision"))
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)

    class Meta:
        verbose_name = _("answer revision")
        verbose_name_plural = _("answer revisions")
        ordering = ["answer", "number"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "number"], name="questions_revision_number")
        ]

    def __str__(self) -> str:
        return gettext("Revision %(n)s of answer %(answer)s") % {
            "n": self.number,
            "answer": self.answer_id,
        }


class Comment(models.Model):
    """Discussion under an answer: comments and one level of replies."""

    answer = models.ForeignKey(
        Answer, on_delete=models.PROTECT, related_name="comments", verbose_name=_("answer")
    )
    author = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="comments", verbose_name=_("author")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("reply to"),
    )
    body = models.TextField(_("comment"), max_length=5000)
    body_html = models.TextField(editable=False)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removed by"),
    )
    removal_reason = models.CharField(_("reason for removal"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | ~Q(removal_reason=""),
                name="questions_comment_removal_has_reason",
            )
        ]

    def __str__(self) -> str:
        return gettext("Comment %(id)s on answer %(answer)s") % {
            "id": self.pk,
            "answer": self.answer_id,
        }

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class Rating(models.Model):
    """A member's 1–5 rating of an answer; one per member per answer, changeable."""

    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, related_name="ratings", verbose_name=_("answer")
    )
    rater = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="ratings", verbose_name=_("rated by")
    )
    stars = models.PositiveSmallIntegerField(
        _("stars"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.UniqueConstraint(fields=["answer", "rater"], name="questions_rate_once"),
            models.CheckConstraint(
                condition=Q(stars__gte=1) & Q(stars__lte=5), name="questions_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(stars)s★ for answer %(answer)s") % {
            "stars": self.stars,
            "answer": self.answer_id,
        }


class Vote(models.Model):
    """A member's vote for an answer on a week's ballot: at most one per member per answer
    (a database constraint); the weekly limit is checked under a lock on the voter's
    membership (questions.votes). ``week`` is the first day of the answer's session week."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="votes", verbose_name=_("community")
    )
    week = models.DateField(_("week (first day)"))
    answer = models.ForeignKey(
        Answer, on_delete=models.PROTECT, related_name="votes", verbose_name=_("answer")
    )
    voter = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="votes", verbose_name=_("voter")
    )
    created_at = models.DateTimeField(_("voted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(fields=["answer", "voter"], name="questions_vote_once"),
        ]
        indexes = [
            models.Index(fields=["voter", "week"], name="questions_vote_by_voter_week"),
            models.Index(fields=["community", "week"], name="questions_vote_by_week"),
        ]

    def __str__(self) -> str:
        return f"{self.voter_id} → {self.answer_id}"


class Notification(models.Model):
    """Something a person should know: shown in the portal and sent by e-mail."""

    class Kind(models.TextChoices):
        BRIEF_SCHEDULED = "brief_scheduled", _("Your brief was scheduled")
        INVITED = "invited", _("You were invited to answer")
        NEW_ANSWER = "new_answer", _("Your question got an answer")
        NEW_COMMENT = "new_comment", _("Your answer got a comment")
        PRIZE_WON = "prize_won", _("Your answer won a prize")
        RUNNER_UP = "runner_up", _("Your answer was a runner-up")
        CHALLENGE_JOINED = "challenge_joined", _("You joined by challenge")
        CHALLENGE_SHORT = "challenge_short", _("Your prize can pay part of the entrance fee")
        CHALLENGE_INVITED = "challenge_invited", _("You are invited to join")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", verbose_name=_("question")
    )
    answer = models.ForeignKey(
        Answer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answer"),
    )
    comment = models.ForeignKey(
        Comment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("comment"),
    )
    # What the message needs besides its links: a prize's place, amount and week, say.
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                name="questions_unread_by_recipient",
                condition=Q(read_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class NotificationPreference(models.Model):
    """How a person is told of one kind of notification, in every community. No row: in the
    portal and by e-mail (the default). Enforced in questions.notifications alone."""

    class Channel(models.TextChoices):
        PORTAL_AND_EMAIL = "portal_email", _("In the portal and by e-mail")
        PORTAL = "portal", _("In the portal only")
        OFF = "off", _("Off")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Notification.Kind.choices)
    channel = models.CharField(_("how"), max_length=16, choices=Channel.choices)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="questions_pref_once_per_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=Notification.Kind.values),
                name="questions_pref_known_kind",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["portal_email", "portal", "off"]),
                name="questions_pref_known_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.channel}"


# The weekly digest's models live with its code (questions/digests/); importing them here
# makes them the questions app's.
from questions.digests.models import (  # noqa: E402
    Digest,
    DigestDelivery,
    DigestItem,
    DigestRevision,
    DigestSubscription,
)

__all__ = [
    "Answer",
    "AnswerRevision",
    "Attachment",
    "Comment",
    "Digest",
    "DigestDelivery",
    "DigestItem",
    "DigestRevision",
    "DigestSubscription",
    "Invitation",
    "Notification",
    "NotificationPreference",
    "Question",
    "Rating",
    "Vote",
    "WeekSession",
]
