"""Communities (the tenant and its rules), memberships, profiles, tags and the audit log."""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from members import audit
from members.currency import Currency
from members.search import SearchDocumentField


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # reads the disk: once per process


def validate_time_zone(value: str) -> None:
    if value not in _time_zones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone, e.g. Asia/Shanghai."),
            code="invalid",
            params={"value": value},
        )


def default_prize_split() -> list[int]:
    return [50, 30, 20]


def validate_prize_split(value: object) -> None:
    if (
        not isinstance(value, list)
        or not value
        or len(value) > 10
        or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in value)
    ):
        raise ValidationError(
            _("Give the prize split as whole positive weights, such as 50, 30, 20."),
            code="invalid",
        )


no_control_characters = RegexValidator(
    r"[\x00-\x1f\x7f]",
    _("Line breaks and control characters are not allowed here."),
    inverse_match=True,
)

slug_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{0,48}[a-z0-9]$",
    _("Use 2–50 lowercase letters, digits and hyphens; start and end with a letter or digit."),
)


class User(AbstractUser):
    """A person. Sign-in is by e-mail; ``username`` is kept for the API token endpoint."""

    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_(
            "The language of the e-mails we send you: the one you signed up in or last chose "
            "from the menu (empty: the site's)."
        ),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~Q(email=""), name="members_user_email_ci_unique"
            ),
        ]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Community(models.Model):
    """One paid learning community: the tenant that every member, question and fen belongs to."""

    class Phase(models.TextChoices):
        SEED = "seed", _("Seed")
        GROWTH = "growth", _("Growth")

    slug = models.SlugField(_("address"), max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(_("name"), max_length=120, validators=[no_control_characters])
    description = models.TextField(_("description"), blank=True, max_length=5000)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY
    )
    entrance_fee = models.BigIntegerField(
        _("entrance fee (minor units)"), default=20000, validators=[MinValueValidator(0)]
    )
    monthly_fee = models.BigIntegerField(
        _("monthly fee (minor units)"), default=1000, validators=[MinValueValidator(0)]
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    week_start = models.PositiveSmallIntegerField(
        _("week starts on"), choices=Weekday.choices, default=Weekday.MONDAY
    )
    privacy_threshold = models.PositiveIntegerField(
        _("privacy threshold (active members)"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
    )
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices, default=Phase.SEED)
    phase_changed_at = models.DateTimeField(_("phase changed at"), null=True, blank=True)
    # When a member last changed their handle: the version of every cached fragment that
    # names members (questions.fragments), so a new handle shows at once.
    handles_changed_at = models.DateTimeField(
        _("handles changed at"), null=True, blank=True, editable=False
    )
    votes_per_member = models.PositiveSmallIntegerField(
        _("votes per member per week"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    voting_opens_weekday = models.PositiveSmallIntegerField(
        _("voting opens on"), choices=Weekday.choices, default=Weekday.FRIDAY
    )
    voting_opens_time = models.TimeField(_("voting opens at"), default=datetime.time(0, 0))
    winners_per_week = models.PositiveSmallIntegerField(
        _("winners per week"), default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    prize_split = models.JSONField(
        _("prize split"), default=default_prize_split, validators=[validate_prize_split]
    )
    brief_lead_days = models.PositiveSmallIntegerField(
        _("brief lead time (days)"), default=3, validators=[MaxValueValidator(60)]
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace period for failed payments (days)"),
        default=7,
        validators=[MaxValueValidator(90)],
    )
    tip_fee_percent = models.PositiveSmallIntegerField(
        _("platform fee on tips (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    # Prizes wait this long after the week's close before they can be paid out, so that
    # organisers can review the week's voting (fair play) and void a win.
    payout_hold_hours = models.PositiveSmallIntegerField(
        _("payout hold after the close (hours)"),
        default=48,
        validators=[MaxValueValidator(720)],
    )
    # The moderator rotation's pay rule (SPEC §2.6): full pay at or above both targets.
    moderator_target_answerers = models.PositiveSmallIntegerField(
        _("moderator target: answerers a week"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
    )
    moderator_target_quality = models.DecimalField(
        _("moderator target: average rating"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("4.0"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("5"))],
    )
    # Stripe Checkout always offers cards; these add the two Chinese wallets where the site's
    # Stripe account has them on (STRIPE_PAYMENT_METHODS). WeChat Pay pays one-off amounts
    # only (tips, or joining a community without a monthly fee).
    pay_by_alipay = models.BooleanField(_("accept Alipay"), default=False)
    pay_by_wechat_pay = models.BooleanField(_("accept WeChat Pay"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(entrance_fee__gte=0) & Q(monthly_fee__gte=0),
                name="members_community_fees_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(privacy_threshold__gte=1), name="members_community_threshold_positive"
            ),
            models.CheckConstraint(
                condition=Q(phase__in=["seed", "growth"]), name="members_community_phase_valid"
            ),
            models.CheckConstraint(
                condition=Q(week_start__lte=6) & Q(voting_opens_weekday__lte=6),
                name="members_community_weekdays_valid",
            ),
            models.CheckConstraint(
                condition=Q(votes_per_member__gte=1) & Q(winners_per_week__gte=1),
                name="members_community_votes_and_winners_positive",
            ),
            models.CheckConstraint(
                condition=Q(tip_fee_percent__lte=100), name="members_community_tip_fee_percent"
            ),
            models.CheckConstraint(
                condition=Q(moderator_target_answerers__gte=1)
                & Q(moderator_target_quality__gt=0)
                & Q(moderator_target_quality__lte=5),
                name="members_community_moderator_targets_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("members:landing", kwargs={"slug": self.slug})

    def clean(self) -> None:
        from members.currency import max_minor

        limit = max_minor(self.currency) if self.currency in Currency.values else None
        too_large = {
            name: _("This fee is too large.")
            for name in ("entrance_fee", "monthly_fee")
            if limit is not None
            and isinstance(getattr(self, name), int)
            and getattr(self, name) > limit
        }
        if too_large:
            raise ValidationError(too_large)
        split = self.prize_split
        if isinstance(split, list) and len(split) != self.winners_per_week:
            raise ValidationError(
                {
                    "prize_split": _("Give one weight for each of the %(count)d winners.")
                    % {"count": self.winners_per_week}
                }
            )

    @property
    def is_growth(self) -> bool:
        return self.phase == self.Phase.GROWTH


class Membership(models.Model):
    """A person's place in one community: their role, their standing, how they came in."""

    class Role(models.TextChoices):
        ORGANISER = "organiser", _("Organiser")
        MODERATOR = "moderator", _("Moderator")
        MEMBER = "member", _("Member")
        CANDIDATE = "candidate", _("Candidate")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        LAPSED = "lapsed", _("Lapsed")
        LEFT = "left", _("Left")

    class JoinedVia(models.TextChoices):
        FOUNDED = "founded", _("Founded the community")
        PAID = "paid", _("Paid to join")
        IMPORTED = "imported", _("Added by an organiser")
        CHALLENGE = "challenge", _("Joined by challenge")

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("user")
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("community"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    joined_via = models.CharField(
        _("joined via"), max_length=10, choices=JoinedVia.choices, default=JoinedVia.PAID
    )
    referred_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("referred by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    welcomed_at = models.DateTimeField(_("welcome e-mail sent at"), null=True, blank=True)
    # The week this member is the moderator on duty: granted by the rotation when it fixes the
    # week's shift (rotation.services.shift_fix), read by members.access.on_duty without a
    # query. A past week grants nothing.
    on_duty_week = models.DateField(_("on duty in the week of"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user"], name="members_membership_one_per_community"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["organiser", "moderator", "member", "candidate"]),
                name="members_membership_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "active", "lapsed", "left"]),
                name="members_membership_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["community", "status", "role"])]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.community_id} ({self.role})"

    # The role rules live in members.access (imported late: it imports this module); these
    # are the same rules, for call sites and templates that hold a membership.
    @property
    def is_reader(self) -> bool:
        """Reads the directory, questions and answers (members.access.is_reader)."""
        from members import access

        return access.is_reader(self)

    @property
    def is_writer(self) -> bool:
        """Writes profiles, briefs, answers, comments, ratings (members.access.is_writer)."""
        from members import access

        return access.is_writer(self)

    @property
    def is_organiser(self) -> bool:
        from members import access

        return access.is_organiser(self)

    @property
    def is_moderator(self) -> bool:
        """Moderator powers now: moderators and organisers, and the member on duty this week
        (members.access.has_moderator_powers)."""
        from members import access

        return access.has_moderator_powers(self)


class Tag(models.Model):
    """A word from a community's vocabulary of skills, needs or hobbies."""

    class Kind(models.TextChoices):
        SKILL = "skill", _("Skill")
        NEED = "need", _("Need")
        HOBBY = "hobby", _("Hobby")

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="tags", verbose_name=_("community")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # ``name`` is the canonical name (the API's and the imports'); ``name_en`` / ``name_zh``
    # name the same word in each language. A search, filter or the matcher finds a tag by
    # any of the three; pages show the current language's name (``label``).
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("name in English"), max_length=40, blank=True, default="")
    name_zh = models.CharField(_("name in Chinese"), max_length=40, blank=True, default="")
    created_by = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                "community", "kind", Lower("name"), name="members_tag_unique_name"
            ),
            models.UniqueConstraint(
                "community",
                "kind",
                Lower("name_en"),
                condition=~Q(name_en=""),
                name="members_tag_unique_name_en",
            ),
            models.UniqueConstraint(
                "community",
                "kind",
                Lower("name_zh"),
                condition=~Q(name_zh=""),
                name="members_tag_unique_name_zh",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["skill", "need", "hobby"]), name="members_tag_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def label(self, language: str | None = None) -> str:
        """The tag's name in ``language`` (default: the active one), else the canonical name."""
        language = (language or get_language() or "").lower()
        if language.startswith("zh"):
            return self.name_zh or self.name
        return self.name_en or self.name

    @property
    def names(self) -> list[str]:
        """Every name the tag goes by, canonical first, without repeats (case-insensitive)."""
        seen: dict[str, str] = {}
        for value in (self.name, self.name_en, self.name_zh):
            if value and value.casefold() not in seen:
                seen[value.casefold()] = value
        return list(seen.values())


class Profile(models.Model):
    """What a member tells the community about themselves. ``real_name`` and ``company`` are
    private in the growth phase: read them only through ``members.privacy``."""

    membership = models.OneToOneField(
        Membership,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="profile",
        verbose_name=_("membership"),
    )
    # Denormalised from the membership so that handles are unique per community in the
    # database and the directory filters one table.
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="profiles", verbose_name=_("community")
    )
    handle = models.CharField(_("handle"), max_length=40, validators=[no_control_characters])
    real_name = models.CharField(_("real name"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=120, blank=True)
    role_title = models.CharField(_("role / title"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=80, blank=True)
    career_path = models.TextField(_("career path"), max_length=2000, blank=True)
    city = models.CharField(_("city"), max_length=80, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="profiles", verbose_name=_("tags"))
    # Search documents (members.search): the shared fields, and the shared plus hidden ones.
    search_document = SearchDocumentField(default="", blank=True, editable=False)
    full_search_document = SearchDocumentField(default="", blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        constraints = [
            models.UniqueConstraint(
                "community", Lower("handle"), name="members_profile_handle_unique"
            ),
            models.CheckConstraint(condition=~Q(handle=""), name="members_profile_handle_set"),
        ]
        indexes = [
            models.Index(fields=["community", "handle"], name="members_profile_by_handle"),
        ]

    def __str__(self) -> str:
        return self.handle

    def get_absolute_url(self) -> str:
        return reverse(
            "members:profile",
            kwargs={"slug": self.community.slug, "membership_id": self.membership_id},
        )


class CommunityAuditLog(models.Model):
    """Who changed what in a community, written in the same transaction as the change
    (Zulip's RealmAuditLog). Rows are never updated or deleted. Each app names the events it
    writes in its own ``audit`` module (members.audit keeps the vocabulary)."""

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="audit_log",
        verbose_name=_("community"),
    )
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # The event's value; its name comes from members.audit, where each app registers its own.
    event = models.CharField(_("event"), max_length=audit.MAX_LENGTH)
    membership = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("membership"),
    )
    data = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_event_display()} @ {self.created_at:%Y-%m-%d %H:%M}"

    def get_event_display(self) -> str:
        return str(audit.label(self.event))


class UndeliverableAddress(models.Model):
    """An address the e-mail provider reported as bouncing, rejected or complaining (through
    anymail's tracking webhooks): nothing more is sent to it (members.mail)."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Bounced")
        REJECTED = "rejected", _("Rejected")
        COMPLAINED = "complained", _("Marked as spam")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed at the provider")

    email = models.CharField(_("address (lower case)"), max_length=254, unique=True)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    detail = models.TextField(_("provider's description"), blank=True)
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("undeliverable address")
        verbose_name_plural = _("undeliverable addresses")

    def __str__(self) -> str:
        return self.email


class OutboxTask(models.Model):
    """A Celery task to run, written in the same transaction as the change that calls for it
    (a transactional outbox, members.outbox): the change and its queued work commit together,
    and a broker outage delays the work but loses none. The row is relayed to Celery once the
    transaction commits, and by the beat relay for anything that could not be sent then."""

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    # When a relay may take the row (again): a relay that took it and died lets it go then.
    available_at = models.DateTimeField(_("next try at"), default=timezone.now)
    sent_at = models.DateTimeField(_("handed to the broker at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("queued task")
        verbose_name_plural = _("queued tasks")
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                condition=Q(sent_at__isnull=True),
                name="members_outbox_unsent",
            ),
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="members_outbox_sent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)!r}"


class JoinInvite(models.Model):
    """An organiser's invite link: a signed-in person who opens it becomes an active member
    without paying online (a community that takes its fees offline, or the demo). Usable
    ``max_uses`` times until ``expires_at``, unless revoked first (members.services.invites)."""

    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        related_name="join_invites",
        verbose_name=_("community"),
    )
    # secrets.token_urlsafe: the link's only secret; unique across communities.
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    max_uses = models.PositiveIntegerField(_("uses allowed"))
    uses = models.PositiveIntegerField(_("times used"), default=0)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invite link")
        verbose_name_plural = _("invite links")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__gte=1), name="members_joininvite_max_uses_positive"
            ),
            models.CheckConstraint(
                condition=Q(uses__lte=models.F("max_uses")),
                name="members_joininvite_uses_within_max",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} · {self.created_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse(
            "members:invite_accept", kwargs={"slug": self.community.slug, "token": self.token}
        )
