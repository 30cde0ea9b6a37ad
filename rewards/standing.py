"""A Stripe subscriber's standing, and the lapse that follows a failed or cancelled
subscription (SPEC §2.2: a failed monthly payment gets a grace period, then the member lapses
— read-only — and paying again restores them).

The webhooks record *facts* on the subscription (``rewards.models.Subscription``, the join's
checkout row) — the newest invoice and
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

Locks go through rewards.locks in its order: the Membership first, then its subscriptions.
What members and organisers do to a subscription (cancel, stop, change how it is paid) is in
rewards.subscriptions; this module only keeps the standing and applies the lapse rules.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from members import services as member_services
from members.audit import Event as MemberEvent
from members.models import Membership
from rewards import locks
from rewards.models import CheckoutSession, Payment, Subscription

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


def _newest_subscription(membership: Membership) -> Subscription | None:
    return (
        Subscription.objects.filter(membership=membership)
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
        event=MemberEvent.STATUS_CHANGED,
        actor=None,
        membership=membership,
        data={"from": Membership.Status.ACTIVE, "to": Membership.Status.LAPSED, "reason": reason},
    )
    member_services.profile_refresh_search(membership_id=membership.pk)


def lapse_due(*, now: datetime.datetime | None = None) -> int:
    """The beat job's body: lapse every member who is due. Returns how many lapsed."""
    now = now or timezone.now()
    candidates = (
        Subscription.objects.filter(
            subscription_status__in=[Standing.PAST_DUE, Standing.CANCELLED],
            membership__status=Membership.Status.ACTIVE,
        )
        .values_list("membership_id", flat=True)
        .distinct()
        .order_by("membership_id")
    )
    return sum(standing_enforce(membership_id=m, now=now) for m in list(candidates))
