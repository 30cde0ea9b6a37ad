"""The moderator rotation (SPEC §2.6), modelled the way on-call tools model a rotation:

- ``RosterEntry``: the ordered roster, strictly first come (``signed_up_at``, then id). A
  withdrawal or a removal ends an entry (``left_at``); signing up again makes a new entry at
  the end. Ended entries stay: a fixed shift points at the turn it took.
- ``Override``: a week pinned to a moderator by an accepted swap; it lays over the rotation
  without moving it.
- ``Shift``: a week as fixed when it began — who was on duty and which roster turn the week
  used — and, after the close, its KPIs and pay. The weeks after the last fixed shift are not
  stored: they are a projection computed from the roster, the last fixed turn and the
  overrides (rotation.schedule).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Community, Membership
from rewards.models import Transaction


class RosterEntry(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="roster", verbose_name=_("community")
    )
    membership = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        related_name="roster_entries",
        verbose_name=_("moderator"),
    )
    signed_up_at = models.DateTimeField(_("signed up at"), default=timezone.now)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removed by"),
    )
    removal_reason = models.CharField(_("reason for the removal"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("roster entry")
        verbose_name_plural = _("moderator roster")
        ordering = ["signed_up_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "membership"],
                condition=Q(left_at__isnull=True),
                name="rotation_on_the_roster_once",
            )
        ]
        indexes = [models.Index(fields=["community", "left_at", "signed_up_at"])]

    def __str__(self) -> str:
        return f"{self.community_id}:{self.membership_id} {self.signed_up_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.left_at is None


class SwapRequest(models.Model):
    """One moderator asks another to swap two future shifts."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    requester = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("asked by")
    )
    requester_week = models.DateField(_("their week"))
    responder = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("asked")
    )
    responder_week = models.DateField(_("the other's week"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("shift swap")
        verbose_name_plural = _("shift swaps")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(requester=F("responder")), name="rotation_swap_two_people"
            ),
            models.CheckConstraint(
                condition=~Q(requester_week=F("responder_week")), name="rotation_swap_two_weeks"
            ),
        ]
        indexes = [models.Index(fields=["community", "state"])]

    def __str__(self) -> str:
        return f"swap {self.pk} ({self.state})"


class Override(models.Model):
    """A week pinned to a moderator (by an accepted swap)."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    week = models.DateField(_("week (first day)"))
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("moderator")
    )
    swap = models.ForeignKey(
        SwapRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="overrides",
        verbose_name=_("swap"),
    )
    created_at = models.DateTimeField(_("pinned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("pinned week")
        verbose_name_plural = _("pinned weeks")
        constraints = [
            models.UniqueConstraint(fields=["community", "week"], name="rotation_pin_a_week_once")
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.week} → {self.membership_id}"


class Shift(models.Model):
    """A week's shift, fixed when the week began; KPIs and pay are added at its close."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="shifts", verbose_name=_("community")
    )
    week = models.DateField(_("week (first day)"))
    moderator = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shifts",
        verbose_name=_("moderator"),
    )
    # The roster turn this week used: the rotation goes on from the entry after it, whoever
    # served the week (a pinned week serves someone else on that turn).
    turn = models.ForeignKey(
        RosterEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("roster turn"),
    )
    pinned = models.BooleanField(_("pinned by a swap"), default=False)
    fixed_at = models.DateTimeField(_("fixed at"), default=timezone.now)
    # KPIs (SPEC §2.6), computed at the close.
    answerers = models.PositiveIntegerField(_("answerers"), null=True, blank=True)
    answers = models.PositiveIntegerField(_("answers"), null=True, blank=True)
    rating_sum = models.PositiveIntegerField(_("sum of ratings"), null=True, blank=True)
    rating_count = models.PositiveIntegerField(_("ratings"), null=True, blank=True)
    target_answerers = models.PositiveSmallIntegerField(
        _("target answerers"), null=True, blank=True
    )
    target_quality = models.DecimalField(
        _("target quality"), max_digits=3, decimal_places=2, null=True, blank=True
    )
    operations_budget = models.BigIntegerField(_("operations budget"), null=True, blank=True)
    pay_at_close = models.BigIntegerField(_("pay at the close"), null=True, blank=True)
    pay = models.BigIntegerField(_("pay (after adjustments)"), null=True, blank=True)
    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ledger transaction"),
    )
    computed_at = models.DateTimeField(_("KPIs computed at"), null=True, blank=True)
    # The "digest on time" KPI: the week's digest published within DIGEST_DUE_DAYS of the
    # week's end. Recorded by the rotation's tick once it is published, or once it is late.
    digest_published_at = models.DateTimeField(_("digest published at"), null=True, blank=True)
    digest_on_time = models.BooleanField(_("digest on time"), null=True, blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["-week"]
        constraints = [
            models.UniqueConstraint(fields=["community", "week"], name="rotation_a_shift_a_week"),
            models.CheckConstraint(
                condition=Q(pay__isnull=True) | Q(pay__gte=0), name="rotation_pay_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.week:%Y-%m-%d}"

    @property
    def is_computed(self) -> bool:
        return self.computed_at is not None

    @property
    def quality(self) -> Decimal | None:
        """The average rating to two places, for display (pay uses the exact fraction)."""
        if not self.is_computed:
            return None
        if not self.rating_count:
            return Decimal("0")
        return (Decimal(self.rating_sum or 0) / Decimal(self.rating_count)).quantize(
            Decimal("0.01")
        )


class PayAdjustment(models.Model):
    """An organiser changed a closed week's moderator pay (the audit trail of the review)."""

    shift = models.ForeignKey(
        Shift, on_delete=models.PROTECT, related_name="adjustments", verbose_name=_("shift")
    )
    pay_before = models.BigIntegerField(_("pay before"))
    pay_after = models.BigIntegerField(_("pay after"))
    week = models.DateField(_("entered the budget of the week of"))
    reason = models.CharField(_("reason"), max_length=500)
    transaction = models.OneToOneField(
        Transaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ledger transaction"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("moderator pay adjustment")
        verbose_name_plural = _("moderator pay adjustments")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.shift_id}: {self.pay_before} → {self.pay_after}"


class Notice(models.Model):
    """Something a moderator should know (a reminder, a swap asked or answered): listed on the
    roster page and e-mailed once, in the recipient's language."""

    class Kind(models.TextChoices):
        SHIFT_SOON = "shift_soon", _("Your shift begins soon")
        SHIFT_BEGINS = "shift_begins", _("Your shift begins")
        SWAP_ASKED = "swap_asked", _("A moderator asks to swap shifts")
        SWAP_ACCEPTED = "swap_accepted", _("Your swap was accepted")
        SWAP_DECLINED = "swap_declined", _("Your swap was declined")
        SWAP_UNDONE = "swap_undone", _("Your swap was undone: the roster changed")
        REMOVED = "removed", _("You were removed from the roster")

    REMINDERS = (Kind.SHIFT_SOON, Kind.SHIFT_BEGINS)

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    recipient = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    week = models.DateField(_("week (first day)"))
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rotation notice")
        verbose_name_plural = _("rotation notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A reminder is sent once per person, week and kind.
            models.UniqueConstraint(
                fields=["community", "recipient", "kind", "week"],
                condition=Q(kind__in=["shift_soon", "shift_begins"]),
                name="rotation_remind_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.week}"
