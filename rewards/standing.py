"""A Stripe subscriber's standing, and the lapse that follows a failed or cancelled
subscription (SPEC §2.2: a failed monthly payment gets a grace period, then the member lapses
— read-only — and paying again restores them).

The webhooks record *facts* on the join's CheckoutSession row — the newest invoice and
whether it is paid, the earliest failure's grace deadline, when the subscription ended and
the end of the period paid for — each update written so that the facts come out the same
whatever order the events arrive in. The lapse moment is computed from the facts:

- payment failed, not paid since: the end of the grace period (``community.grace_days``
  after the first failure of the newest invoice);
- subscription cancelled (``customer.subscription.deleted``): the end of the period already
  paid for — a member who cancels keeps what they paid for; if the newest invoice was not
  paid, the grace deadline (or the moment it ended).

A member lapses at that moment unless they paid since (an organiser's offline payment, a new
subscription). Cancelling lapses rather than ends the membership: the entrance fee was paid
and stays in the fund; "left" is for a refunded or disputed entrance fee. Organisers never
lapse automatically (a community needs its organisers). ``standing_enforce`` is idempotent;
the beat job ``rewards.tasks.stripe_lapse_due`` runs it for everyone due.

Locks go through rewards.locks in its order: the Membership first, then its CheckoutSession
rows (``subscriptions_stop`` locks the member's subscriptions; call it with the membership
locked). Nothing here calls Stripe while holding a lock: stopping a subscription or setting
its payment method is recorded (or read from the stored webhook event) and sent from a task
after the commit (``subscription_stop_send``, ``payment_method_saved``).
"""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from members import outbox
from members import services as member_services
from members.models import CommunityAuditLog, Membership
from rewards import locks
from rewards.models import CheckoutSession, Payment
from rewards.stripe import gateway as stripe_gateway

Standing = CheckoutSession.SubscriptionStatus
logger = logging.getLogger(__name__)


def _derive(row: CheckoutSession) -> str:
    if row.ended_at is not None:
        return Standing.CANCELLED
    if row.latest_invoice_id and not row.latest_invoice_paid:
        return Standing.PAST_DUE if row.grace_until is not None else Standing.NONE
    return Standing.ACTIVE if row.latest_invoice_paid else Standing.NONE


def _newer(row: CheckoutSession, invoice_id: str, created: datetime.datetime) -> bool:
    if row.latest_invoice_created is None:
        return True
    return (created, invoice_id) > (row.latest_invoice_created, row.latest_invoice_id)


def _save(row: CheckoutSession) -> None:
    row.subscription_status = _derive(row)
    row.save(
        update_fields=[
            "latest_invoice_id",
            "latest_invoice_created",
            "latest_invoice_paid",
            "grace_until",
            "period_end",
            "ended_at",
            "subscription_status",
        ]
    )


def invoice_paid(*, row: CheckoutSession, invoice_id: str, created: datetime.datetime) -> None:
    """An invoice of the subscription is paid. Call with ``row`` locked."""
    if invoice_id == row.latest_invoice_id:
        row.latest_invoice_paid, row.grace_until = True, None
    elif _newer(row, invoice_id, created):
        row.latest_invoice_id, row.latest_invoice_created = invoice_id, created
        row.latest_invoice_paid, row.grace_until = True, None
    _save(row)


def invoice_failed(
    *,
    row: CheckoutSession,
    invoice_id: str,
    created: datetime.datetime,
    failed_at: datetime.datetime,
) -> None:
    """A payment attempt for an invoice failed: its grace period runs from the first failure
    (a failure reported after the invoice was paid, or of an older invoice, changes nothing).
    Call with ``row`` locked."""
    if Payment.objects.filter(stripe_id=invoice_id).exists() or (
        invoice_id == row.latest_invoice_id and row.latest_invoice_paid
    ):
        return
    deadline = failed_at + datetime.timedelta(days=row.community.grace_days)
    if invoice_id == row.latest_invoice_id:
        row.grace_until = min(row.grace_until or deadline, deadline)
    elif _newer(row, invoice_id, created):
        row.latest_invoice_id, row.latest_invoice_created = invoice_id, created
        row.latest_invoice_paid, row.grace_until = False, deadline
    _save(row)


def subscription_ended(
    *,
    row: CheckoutSession,
    ended_at: datetime.datetime,
    period_end: datetime.datetime | None,
) -> None:
    """Stripe deleted the subscription (cancelled by the member, an organiser, or after its
    retries). Call with ``row`` locked."""
    row.ended_at, row.period_end = ended_at, period_end
    _save(row)


def lapse_moment(row: CheckoutSession) -> datetime.datetime | None:
    """When a member whose newest subscription is ``row`` stops being paid up (None: not)."""
    if row.ended_at is not None:
        if row.latest_invoice_paid:
            return row.period_end or row.ended_at
        return row.grace_until or row.ended_at
    if row.latest_invoice_id and not row.latest_invoice_paid:
        return row.grace_until
    return None


def _newest_subscription(membership: Membership) -> CheckoutSession | None:
    return (
        CheckoutSession.objects.filter(membership=membership, kind=CheckoutSession.Kind.JOIN)
        .exclude(stripe_subscription_id="")
        .select_related("community")
        .order_by("-pk")
        .first()
    )


def standing_enforce(*, membership_id: int, now: datetime.datetime | None = None) -> bool:
    """Lapse an active member whose newest subscription's lapse moment has passed and who has
    not paid since. Idempotent; returns whether it lapsed them now. Locks the membership:
    call it before locking any of their checkouts, or with the membership locked already."""
    now = now or timezone.now()
    with transaction.atomic():
        membership = locks.memberships([membership_id]).get(membership_id)
        if (
            membership is None
            or membership.status != Membership.Status.ACTIVE
            or membership.role == Membership.Role.ORGANISER
        ):
            return False
        row = _newest_subscription(membership)
        moment = lapse_moment(row) if row is not None else None
        if row is None or moment is None or moment > now:
            return False
        paid_since = Payment.objects.filter(
            membership=membership,
            kind__in=[Payment.Kind.ENTRANCE, Payment.Kind.MONTHLY],
            received_at__gte=moment,
        ).exists()
        if paid_since:
            return False
        member_lapse(
            membership=membership,
            reason="subscription_cancelled" if row.ended_at else "payment_failed",
        )
    return True


def member_lapse(*, membership: Membership, reason: str) -> None:
    """An active member stops being paid up: lapsed (read-only) until they pay again; an
    audit row says why. Call with ``membership`` locked."""
    membership.status = Membership.Status.LAPSED
    membership.save(update_fields=["status"])
    member_services.audit(
        community=membership.community,
        event=CommunityAuditLog.Event.STATUS_CHANGED,
        actor=None,
        membership=membership,
        data={"from": Membership.Status.ACTIVE, "to": Membership.Status.LAPSED, "reason": reason},
    )
    member_services.profile_refresh_search(membership_id=membership.pk)


def live_subscriptions_all() -> QuerySet[CheckoutSession]:
    """Every subscription Stripe may still charge."""
    return CheckoutSession.objects.filter(
        kind=CheckoutSession.Kind.JOIN, ended_at__isnull=True
    ).exclude(stripe_subscription_id="")


def live_subscriptions(membership: Membership) -> QuerySet[CheckoutSession]:
    """The member's subscriptions Stripe may still charge."""
    return live_subscriptions_all().filter(membership=membership)


def subscriptions_stop(
    *,
    membership: Membership,
    at_period_end: bool,
    keep: CheckoutSession | None = None,
    now: datetime.datetime | None = None,
    paid_only: bool = False,
) -> list[int]:
    """Ask Stripe to stop the member's live subscriptions (all but ``keep``): at once, or at
    the end of the paid period. Recorded on our rows now; the calls go out from a task once
    this transaction commits (never holding a lock over the network). Asking again, or for
    less than was asked, changes nothing. Returns the checkout ids queued. Call in a
    transaction with ``membership`` locked (rewards.locks): its checkouts are locked here,
    after it."""
    from rewards import tasks

    now = now or timezone.now()
    rows = live_subscriptions(membership)
    if keep is not None:
        rows = rows.exclude(pk=keep.pk)
    if paid_only:  # leave a join still being paid alone
        rows = rows.filter(status=CheckoutSession.Status.COMPLETED)
    queued = []
    for row in locks.checkouts(rows):
        already = row.cancel_requested_at is not None
        if already and (at_period_end or not row.cancel_at_period_end):
            continue
        row.cancel_requested_at, row.cancel_at_period_end = now, at_period_end
        row.save(update_fields=["cancel_requested_at", "cancel_at_period_end"])
        queued.append(row.pk)
    for pk in queued:
        outbox.enqueue(tasks.stripe_subscription_stop, pk)
    return queued


def current_subscription(membership: Membership) -> CheckoutSession | None:
    """The member's subscription Stripe may still charge, newest first (None: none)."""
    return live_subscriptions(membership).order_by("-pk").first()


def subscription_cancel(*, membership: Membership) -> CheckoutSession:
    """The member cancels their monthly subscription: it stops at the end of the period paid
    for, and they stay a member until then (then they lapse; paying again resumes). Raises
    ValidationError when there is nothing to cancel. Locks the membership, then its
    subscriptions (the order of rewards.locks); Stripe is told by a task after the commit."""
    with transaction.atomic():
        locked = locks.membership(membership.pk)
        row = current_subscription(locked)
        if row is None:
            raise ValidationError(
                {"subscription": _("You have no monthly subscription to cancel.")},
                code="none",
            )
        subscriptions_stop(membership=locked, at_period_end=True)
        row.refresh_from_db()
    return row


def payment_method_update_url(
    *,
    membership: Membership,
    success_url: str,
    cancel_url: str,
    now: datetime.datetime | None = None,
) -> str:
    """Where the member changes how their monthly subscription is paid (after a failed
    payment, say): a Stripe Checkout page that saves a new card or account, charging
    nothing. Raises ValidationError when there is no subscription to change,
    StripeUnavailableError when Stripe cannot be asked. A second ask within the same minute
    gets the same page (the idempotency key names our row and the minute)."""
    now = now or timezone.now()
    row = current_subscription(membership)
    if row is None or not row.stripe_customer_id or row.cancel_requested_at is not None:
        raise ValidationError(
            {"subscription": _("You have no monthly subscription to change.")}, code="none"
        )
    return stripe_gateway.payment_method_checkout(
        checkout=row,
        success_url=success_url,
        cancel_url=cancel_url,
        key=f"payment-method:{row.pk}:{int(now.timestamp()) // 60}",
    )


def payment_method_saved(*, row: CheckoutSession, setup_intent_id: str) -> bool:
    """Stripe saved the member's new card or account (a setup Checkout of ``row``'s member):
    the subscription is charged with it from now on, its failed invoice included when Stripe
    tries again. Nothing to do for a subscription that has ended. Idempotent (the key names
    the SetupIntent). It calls Stripe: call it holding no lock — it runs in the task
    rewards.tasks.stripe_payment_method_set, queued on commit by the webhook's handler."""
    if row.ended_at is not None or not row.stripe_subscription_id:
        return False
    return bool(
        stripe_gateway.subscription_payment_method_set(
            subscription_id=row.stripe_subscription_id, setup_intent_id=setup_intent_id
        )
    )


def subscription_stop_send(*, checkout_id: int) -> bool:
    """The task's body: tell Stripe what we recorded (idempotent: the key names our row and
    the kind of stop). Returns whether a call went out."""
    row = CheckoutSession.objects.filter(pk=checkout_id).first()
    if row is None or row.cancel_requested_at is None or row.ended_at is not None:
        return False
    kind = "cancel-at-period-end" if row.cancel_at_period_end else "cancel"
    stripe_gateway.subscription_stop(
        subscription_id=row.stripe_subscription_id,
        key=f"{kind}:{row.pk}",
        at_period_end=row.cancel_at_period_end,
    )
    return True


def lapse_due(*, now: datetime.datetime | None = None) -> int:
    """The beat job's body: lapse every member who is due. Returns how many lapsed."""
    now = now or timezone.now()
    candidates = (
        CheckoutSession.objects.filter(
            kind=CheckoutSession.Kind.JOIN,
            subscription_status__in=[Standing.PAST_DUE, Standing.CANCELLED],
            membership__status=Membership.Status.ACTIVE,
        )
        .values_list("membership_id", flat=True)
        .distinct()
        .order_by("membership_id")
    )
    return sum(standing_enforce(membership_id=m, now=now) for m in list(candidates))


def member_left(membership: Membership, *, now: datetime.datetime | None = None) -> list[int]:
    """An organiser ended the membership (members.reactions, wired by community/): their
    live subscriptions are stopped at once, so they are not charged again. The month already
    paid stays in the fund; an organiser who wants to give it back refunds it in Stripe. A
    join still being paid (a former member coming back) is not stopped. Called in the
    change's transaction; returns the checkout ids queued."""
    locked = locks.memberships([membership.pk]).get(membership.pk)
    if locked is None or locked.status != Membership.Status.LEFT:
        return []
    return subscriptions_stop(membership=locked, at_period_end=False, now=now, paid_only=True)
