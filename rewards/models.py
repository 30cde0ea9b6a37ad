"""Money: payments and refunds, the double-entry ledger, Stripe webhook events.

All amounts are integer minor units (fen for CNY) in the community's currency.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Community, Membership


class Account(models.Model):
    """A ledger account of one community. Balances are signed: debit positive, credit
    negative, so all of a community's balances sum to zero."""

    class Kind(models.TextChoices):
        PROVIDER_CASH = "provider_cash", _("Payment provider cash (Stripe)")
        OFFLINE_CASH = "offline_cash", _("Offline cash (bank transfers, cash)")
        REWARD_FUND = "reward_fund", _("Reward fund")
        OPERATIONS_FUND = "operations_fund", _("Operations fund")
        MEMBER_PAYABLE = "member_payable", _("Payable to a member")
        PAYOUTS_IN_TRANSIT = "payouts_in_transit", _("Payouts in transit")
        PLATFORM_FEES = "platform_fees", _("Platform fees")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("community")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    membership = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("member"),
    )

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "kind"],
                condition=Q(membership__isnull=True),
                name="rewards_one_shared_account_per_kind",
            ),
            models.UniqueConstraint(
                fields=["community", "kind", "membership"],
                condition=Q(membership__isnull=False),
                name="rewards_one_member_account_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind="member_payable", membership__isnull=False)
                | (~Q(kind="member_payable") & Q(membership__isnull=True)),
                name="rewards_member_accounts_have_a_member",
            ),
        ]

    def __str__(self) -> str:
        label = str(self.get_kind_display())
        return f"{label} #{self.membership_id}" if self.membership_id else label


class Payment(models.Model):
    """Money a member paid in: an entrance fee, a monthly fee or a tip."""

    class Kind(models.TextChoices):
        ENTRANCE = "entrance", _("Entrance fee")
        MONTHLY = "monthly", _("Monthly fee")
        TIP = "tip", _("Tip")

    class Method(models.TextChoices):
        STRIPE = "stripe", _("Stripe")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CASH = "cash", _("Cash")
        # A challenge winner's entrance fee taken from their prize at the week's close.
        WINNINGS = "winnings", _("From winnings")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="payments", verbose_name=_("community")
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="payments", verbose_name=_("member")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    method = models.CharField(_("method"), max_length=15, choices=Method.choices)
    amount = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    received_at = models.DateTimeField(_("received at"))
    # A tip's recipient: the answer's author.
    recipient = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tips_received",
        verbose_name=_("tip for"),
    )
    answer = models.ForeignKey(
        "questions.Answer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tips",
        verbose_name=_("answer tipped"),
    )
    platform_fee = models.BigIntegerField(_("platform fee (minor units)"), default=0)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    stripe_id = models.CharField(_("Stripe reference"), max_length=255, blank=True)
    # An entrance fee paid from a challenge winner's prize (method "winnings"): one per prize.
    prize = models.OneToOneField(
        "Prize",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entrance_payment",
        verbose_name=_("paid from the prize"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="rewards_payment_positive"),
            models.CheckConstraint(
                condition=Q(platform_fee__gte=0) & Q(platform_fee__lte=models.F("amount")),
                name="rewards_payment_fee_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(kind="tip", recipient__isnull=False)
                | (~Q(kind="tip") & Q(recipient__isnull=True)),
                name="rewards_tips_have_a_recipient",
            ),
            models.UniqueConstraint(
                fields=["stripe_id"],
                condition=~Q(stripe_id=""),
                name="rewards_payment_stripe_id_once",
            ),
        ]
        indexes = [models.Index(fields=["community", "kind", "received_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"


class Refund(models.Model):
    """Money going back: a refund, a lost dispute, or an organiser correcting a mistaken
    offline payment. Enters the schedules as a negative receipt on its own date."""

    class Reason(models.TextChoices):
        REFUND = "refund", _("Refund")
        DISPUTE = "dispute", _("Dispute lost")
        CORRECTION = "correction", _("Correction of a mistaken record")

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    amount = models.BigIntegerField(_("amount (minor units)"))
    received_at = models.DateTimeField(_("at"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    stripe_id = models.CharField(_("Stripe reference"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="rewards_refund_positive"),
            models.UniqueConstraint(
                fields=["stripe_id"],
                condition=~Q(stripe_id=""),
                name="rewards_refund_stripe_id_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.amount}"


class Transaction(models.Model):
    """One movement of money: two or more entries summing to zero. Never updated or
    deleted; a correction is another transaction that reverses it."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment received")
        REFUND = "refund", _("Refund or reversal")
        TIP = "tip", _("Tip")
        WEEK_CLOSE = "week_close", _("Week closed")
        PRIZE_VOID = "prize_void", _("Prize voided")
        MODERATOR_PAY = "moderator_pay", _("Moderator pay")
        PAYOUT = "payout", _("Payout")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="transactions",
        verbose_name=_("community"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    description = models.CharField(_("description"), max_length=300)
    occurred_at = models.DateTimeField(_("occurred at"))
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
        verbose_name=_("payment"),
    )
    refund = models.ForeignKey(
        Refund,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
        verbose_name=_("refund"),
    )
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )
    posted_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["community", "occurred_at"])]

    def __str__(self) -> str:
        return self.description


class Entry(models.Model):
    """One line of a transaction: a signed amount on an account (debit +, credit −)."""

    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="entries", verbose_name=_("transaction")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account")
    )
    amount = models.BigIntegerField(_("amount (minor units)"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="rewards_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount:+d}"


class StripeEvent(models.Model):
    """A webhook delivery from Stripe, stored once by its event id, then processed."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    event_id = models.CharField(_("event id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    error = models.TextField(_("error"), blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class CheckoutSession(models.Model):
    """Our own row for one Stripe Checkout session: a visitor joining (entrance fee plus the
    monthly subscription) or a member tipping an answer. Made before Stripe is called, so
    its id keys the call ("checkout:<id>") and goes into the session's metadata; webhooks
    find their way back to it through that metadata.

    A join row also keeps the standing of the subscription it started (``subscription_*``):
    the facts the webhooks told us, from which the lapse job decides (rewards.standing).
    Seen as a subscription, that row is a ``Subscription`` (the proxy below)."""

    class Kind(models.TextChoices):
        JOIN = "join", _("Joining")
        TIP = "tip", _("Tip")

    class Status(models.TextChoices):
        CREATED = "created", _("Created")  # our row; Stripe not reached yet
        OPEN = "open", _("Waiting for payment")
        COMPLETED = "completed", _("Paid")
        EXPIRED = "expired", _("Expired")

    class SubscriptionStatus(models.TextChoices):
        NONE = "", _("No subscription")
        ACTIVE = "active", _("Paid up")
        PAST_DUE = "past_due", _("Payment failed (grace period)")
        CANCELLED = "cancelled", _("Cancelled")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="checkouts", verbose_name=_("community")
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="checkouts", verbose_name=_("payer")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.CREATED
    )
    currency = models.CharField(_("currency"), max_length=3)
    # What we asked Stripe to charge, in minor units: for a join the entrance fee (0 when a
    # lapsed member resumes) and the monthly fee; for a tip its amount (entrance/monthly 0).
    entrance_amount = models.BigIntegerField(_("entrance fee (minor units)"), default=0)
    monthly_amount = models.BigIntegerField(_("monthly fee (minor units)"), default=0)
    tip_amount = models.BigIntegerField(_("tip (minor units)"), default=0)
    # A challenge winner joining pays part of the entrance fee from their prize: this part is
    # not charged at Stripe; it is taken from their payable balance when the payment succeeds.
    winnings_amount = models.BigIntegerField(
        _("entrance fee paid from winnings (minor units)"), default=0
    )
    # The community's platform fee when the tipper was shown it; the tip is split by this.
    tip_fee_percent = models.PositiveSmallIntegerField(_("platform fee on the tip (%)"), default=0)
    answer = models.ForeignKey(
        "questions.Answer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answer tipped"),
    )
    # What Stripe was asked for, kept from the first try so a retry with the same idempotency
    # key sends the very same parameters (Stripe refuses a key reused with others).
    stripe_params = models.JSONField(_("Stripe request"), default=dict, blank=True)
    stripe_session_id = models.CharField(_("Stripe Checkout session"), max_length=255, blank=True)
    url = models.URLField(_("Stripe Checkout address"), max_length=2000, blank=True)
    stripe_customer_id = models.CharField(_("Stripe customer"), max_length=255, blank=True)
    stripe_payment_intent_id = models.CharField(
        _("Stripe payment intent"), max_length=255, blank=True, db_index=True
    )
    stripe_subscription_id = models.CharField(
        _("Stripe subscription"), max_length=255, blank=True, db_index=True
    )
    stripe_invoice_id = models.CharField(
        _("first Stripe invoice"), max_length=255, blank=True, db_index=True
    )
    subscription_status = models.CharField(
        _("subscription standing"),
        max_length=10,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.NONE,
        blank=True,
    )
    # The newest invoice we heard of, whether it is paid, and (unpaid) when its grace ends.
    latest_invoice_id = models.CharField(_("latest invoice"), max_length=255, blank=True)
    latest_invoice_created = models.DateTimeField(
        _("latest invoice made at"), null=True, blank=True
    )
    latest_invoice_paid = models.BooleanField(_("latest invoice paid"), default=False)
    grace_until = models.DateTimeField(_("grace period ends"), null=True, blank=True)
    period_end = models.DateTimeField(_("paid period ends"), null=True, blank=True)
    # We asked Stripe to stop the subscription: at once (the membership ended or lapsed, or a
    # newer subscription replaced it) or at the end of the paid period (the member cancelled).
    cancel_requested_at = models.DateTimeField(_("cancellation asked at"), null=True, blank=True)
    cancel_at_period_end = models.BooleanField(_("cancel at the end of the period"), default=False)
    ended_at = models.DateTimeField(_("subscription ended at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Stripe checkout")
        verbose_name_plural = _("Stripe checkouts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_session_id"],
                condition=~Q(stripe_session_id=""),
                name="rewards_checkout_session_once",
            ),
            models.CheckConstraint(
                condition=Q(entrance_amount__gte=0)
                & Q(monthly_amount__gte=0)
                & Q(tip_amount__gte=0)
                & Q(winnings_amount__gte=0),
                name="rewards_checkout_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=(Q(kind="tip") & Q(answer__isnull=False) & Q(tip_amount__gt=0))
                | (
                    Q(kind="join")
                    & Q(answer__isnull=True)
                    & (Q(entrance_amount__gt=0) | Q(monthly_amount__gt=0))
                ),
                name="rewards_checkout_kind_fields",
            ),
        ]
        indexes = [models.Index(fields=["membership", "kind", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def amount_due(self) -> int:
        """What the customer pays at checkout."""
        return self.entrance_amount + self.monthly_amount + self.tip_amount


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def live(self) -> SubscriptionQuerySet:
        """The subscriptions Stripe may still charge."""
        return self.filter(ended_at__isnull=True)


class SubscriptionManager(models.Manager["Subscription"]):
    def get_queryset(self) -> SubscriptionQuerySet:
        return (
            SubscriptionQuerySet(self.model, using=self._db)
            .filter(kind=CheckoutSession.Kind.JOIN)
            .exclude(stripe_subscription_id="")
        )

    def live(self) -> SubscriptionQuerySet:
        return self.get_queryset().live()


class Subscription(CheckoutSession):
    """A member's monthly Stripe subscription: the join checkout that started it, seen as
    the subscription it became (a proxy — one row, so a checkout and its subscription can
    never disagree). Its standing (``subscription_status``, the newest invoice, the grace
    deadline, the paid period, the end) is kept by rewards.standing from the webhooks' facts;
    what a member or an organiser does to it (cancel, stop, change how it is paid) is in
    rewards.subscriptions."""

    objects = SubscriptionManager()  # type: ignore[misc]

    class Meta:
        proxy = True
        verbose_name = _("monthly subscription")
        verbose_name_plural = _("monthly subscriptions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} ({self.get_subscription_status_display()})"


# --- The weekly vote and close (SPEC §2.5) -----------------------------------------------------


class WeekClose(models.Model):
    """A community's week as its close froze it: the budgets it had (scheduled shares, late
    shares of weeks already closed, rollover in, adjustments), what it paid and what rolled
    over into the next week. Written by the weekly pipeline's steps (rewards.weekly)."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="week_closes", verbose_name=_("community")
    )
    week = models.DateField(_("week (first day)"))
    # The rules in force when the ballot was frozen.
    winners_per_week = models.PositiveSmallIntegerField(_("winners per week"))
    prize_split = models.JSONField(_("prize split"))
    ballot_answers = models.PositiveIntegerField(_("answers on the ballot"), default=0)
    ballot_votes = models.PositiveIntegerField(_("votes cast"), default=0)
    ballot_voters = models.PositiveIntegerField(_("members who voted"), default=0)
    reward_scheduled = models.BigIntegerField(_("reward fund: scheduled shares"), default=0)
    reward_late = models.BigIntegerField(_("reward fund: late shares"), default=0)
    reward_rollover_in = models.BigIntegerField(_("reward fund: rollover in"), default=0)
    reward_adjustments = models.BigIntegerField(_("reward fund: adjustments"), default=0)
    operations_scheduled = models.BigIntegerField(_("operations fund: scheduled shares"), default=0)
    operations_late = models.BigIntegerField(_("operations fund: late shares"), default=0)
    operations_rollover_in = models.BigIntegerField(_("operations fund: rollover in"), default=0)
    operations_adjustments = models.BigIntegerField(_("operations fund: adjustments"), default=0)
    # Known once the rollover step ran.
    reward_paid = models.BigIntegerField(_("reward fund: paid"), null=True, blank=True)
    operations_paid = models.BigIntegerField(_("operations fund: paid"), null=True, blank=True)
    reward_rollover_out = models.BigIntegerField(
        _("reward fund: rollover out"), null=True, blank=True
    )
    operations_rollover_out = models.BigIntegerField(
        _("operations fund: rollover out"), null=True, blank=True
    )
    # The moderator of the week and their pay (filled by the rotation's step).
    moderator = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moderator"),
    )
    moderator_pay = models.BigIntegerField(_("moderator pay"), null=True, blank=True)
    kpis = models.JSONField(_("KPIs"), default=dict, blank=True)
    frozen_at = models.DateTimeField(_("ballot frozen at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("closed week")
        verbose_name_plural = _("closed weeks")
        ordering = ["-week"]
        constraints = [
            models.UniqueConstraint(fields=["community", "week"], name="rewards_close_a_week_once"),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True)
                | (Q(reward_rollover_out__isnull=False) & Q(operations_rollover_out__isnull=False)),
                name="rewards_closed_week_has_rollover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.week:%Y-%m-%d}"

    @property
    def reward_budget(self) -> int:
        return (
            self.reward_scheduled
            + self.reward_late
            + self.reward_rollover_in
            + self.reward_adjustments
        )

    @property
    def operations_budget(self) -> int:
        return (
            self.operations_scheduled
            + self.operations_late
            + self.operations_rollover_in
            + self.operations_adjustments
        )

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Prize(models.Model):
    """A winning answer of a closed week: its place, its votes and the amount credited to its
    author's payable balance. Voiding it (fair play) returns the amount to the reward fund."""

    week_close = models.ForeignKey(
        WeekClose, on_delete=models.PROTECT, related_name="prizes", verbose_name=_("week")
    )
    place = models.PositiveSmallIntegerField(_("place"))
    answer = models.ForeignKey(
        "questions.Answer",
        on_delete=models.PROTECT,
        related_name="prizes",
        verbose_name=_("answer"),
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="prizes", verbose_name=_("winner")
    )
    votes = models.PositiveIntegerField(_("votes"))
    amount = models.BigIntegerField(_("amount (minor units)"))
    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prizes",
        verbose_name=_("ledger transaction"),
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=500, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("voided by"),
    )
    void_transaction = models.OneToOneField(
        Transaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="voided_prize",
        verbose_name=_("reversing transaction"),
    )

    class Meta:
        verbose_name = _("prize")
        verbose_name_plural = _("prizes")
        ordering = ["week_close", "place"]
        constraints = [
            models.UniqueConstraint(
                fields=["week_close", "place"], name="rewards_prize_place_once"
            ),
            models.UniqueConstraint(
                fields=["week_close", "answer"], name="rewards_prize_answer_once"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="rewards_prize_not_negative"),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                name="rewards_prize_void_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.place} {self.amount}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class BudgetAdjustment(models.Model):
    """Money that enters (or leaves) a fund's budget of a week outside the schedules: a voided
    prize returned to the reward fund, a moderator's pay adjusted. Read by
    ``schedules.budgets``."""

    class Fund(models.TextChoices):
        REWARD = "reward", _("Reward fund")
        OPERATIONS = "operations", _("Operations fund")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    week = models.DateField(_("week (first day)"))
    fund = models.CharField(_("fund"), max_length=10, choices=Fund.choices)
    amount = models.BigIntegerField(_("amount (minor units)"))
    reason = models.CharField(_("reason"), max_length=500)
    transaction = models.OneToOneField(
        Transaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_adjustment",
        verbose_name=_("ledger transaction"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("budget adjustment")
        verbose_name_plural = _("budget adjustments")
        indexes = [models.Index(fields=["community", "week"])]

    def __str__(self) -> str:
        return f"{self.fund} {self.amount:+d}"


# --- Payouts (SPEC §2.5) -----------------------------------------------------------------------


class ConnectedAccount(models.Model):
    """A person's Stripe Connect (Express) account, to which payouts are transferred. Our row
    is made before Stripe is called; its id keys the call."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="connected_account",
        verbose_name=_("user"),
    )
    stripe_account_id = models.CharField(_("Stripe account"), max_length=255, blank=True)
    details_submitted = models.BooleanField(_("details submitted"), default=False)
    transfers_enabled = models.BooleanField(_("can receive transfers"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("connected Stripe account")
        verbose_name_plural = _("connected Stripe accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_account_id"],
                condition=~Q(stripe_account_id=""),
                name="rewards_connected_account_once",
            )
        ]

    def __str__(self) -> str:
        return self.stripe_account_id or f"#{self.pk}"


class PayoutMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ALIPAY = "alipay", _("Alipay")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    CASH = "cash", _("Cash")
    STRIPE = "stripe", _("Stripe Connect")


class PayoutBatch(models.Model):
    """Payouts an organiser made together (one bank file)."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    method = models.CharField(_("method"), max_length=15, choices=PayoutMethod.choices)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("made by"),
    )
    created_at = models.DateTimeField(_("made at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk}"


class Payout(models.Model):
    """Money paid out of a member's payable balance: recorded by hand (already sent by bank
    transfer, Alipay, WeChat Pay or cash) or sent through Stripe Connect. Ledger: payable →
    payouts in transit → cash, each step posted once (keys from this row's id)."""

    Method = PayoutMethod

    class Status(models.TextChoices):
        PENDING = "pending", _("Being sent")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        REVERSED = "reversed", _("Reversed")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="payouts", verbose_name=_("community")
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="payouts", verbose_name=_("member")
    )
    amount = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    method = models.CharField(_("method"), max_length=15, choices=Method.choices)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    batch = models.ForeignKey(
        PayoutBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payouts",
        verbose_name=_("batch"),
    )
    stripe_account_id = models.CharField(_("Stripe account"), max_length=255, blank=True)
    stripe_transfer_id = models.CharField(_("Stripe transfer"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="rewards_payout_positive"),
            models.UniqueConstraint(
                fields=["stripe_transfer_id"],
                condition=~Q(stripe_transfer_id=""),
                name="rewards_payout_transfer_once",
            ),
            models.CheckConstraint(
                condition=~Q(method="stripe") | ~Q(stripe_account_id=""),
                name="rewards_stripe_payout_has_account",
            ),
        ]
        indexes = [models.Index(fields=["community", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount} {self.currency}"
