"""What a member, an organiser or the platform does to a monthly subscription: cancel it at
the end of the paid period, stop it at once (the membership ended, a newer subscription
replaced it), change how it is paid. The standing it is in, and the lapse that follows, are
rewards.standing's.

Nothing here calls Stripe while holding a lock: a stop is recorded on our row (in the order
of rewards.locks: the Membership first, then its subscriptions) and sent from a task queued
through the outbox once the transaction commits (``subscription_stop_send``); a new payment
method is set from a task too (``payment_method_saved``).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members import outbox
from members.models import Membership
from rewards import locks
from rewards.models import CheckoutSession, Subscription, SubscriptionQuerySet
from rewards.stripe import gateway as stripe_gateway


def live_subscriptions(membership: Membership) -> SubscriptionQuerySet:
    """The member's subscriptions Stripe may still charge."""
    return Subscription.objects.live().filter(membership=membership)


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


def current_subscription(membership: Membership) -> Subscription | None:
    """The member's subscription Stripe may still charge, newest first (None: none)."""
    return live_subscriptions(membership).order_by("-pk").first()


def subscription_cancel(*, membership: Membership) -> Subscription:
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
    row = Subscription.objects.filter(pk=checkout_id).first()
    if row is None or row.cancel_requested_at is None or row.ended_at is not None:
        return False
    kind = "cancel-at-period-end" if row.cancel_at_period_end else "cancel"
    stripe_gateway.subscription_stop(
        subscription_id=row.stripe_subscription_id,
        key=f"{kind}:{row.pk}",
        at_period_end=row.cancel_at_period_end,
    )
    return True


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
