"""Payments in and money going back, posted through the ledger (rewards.ledger).

A payment — Stripe or offline, an entrance fee or a monthly fee — is one row and one
balanced transaction: cash in, the fund credited. A refund, a lost dispute or an organiser's
correction is a Refund row and a reversing transaction; nothing is deleted. Every change
writes an audit row in the same database transaction.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members import services as member_services
from members.currency import format_amount, max_minor
from members.models import Community, Membership, User
from rewards import ledger, locks, standing, subscriptions
from rewards.audit import Event as MoneyEvent
from rewards.models import Account, Payment, Prize, Refund, Transaction

Kind = Payment.Kind
Method = Payment.Method
# A clock a few minutes fast at the payer's bank should not make a payment "in the future".
CLOCK_SKEW = datetime.timedelta(minutes=5)
OLDEST = datetime.timedelta(days=3650)


def check_amount(
    amount: object, currency: str, field: str = "amount", *, most: int | None = None
) -> int:
    """An amount of money as given: a positive integer of minor units, at most ``most``
    (by default the guard against typing errors, 10 million major units)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError(
            {field: _("Give the amount as a whole number of minor units (fen), e.g. 20000.")},
            code="not_integer",
        )
    if amount <= 0:
        raise ValidationError({field: _("The amount must be more than zero.")}, code="min")
    if amount > (max_minor(currency) if most is None else most):
        raise ValidationError({field: _("This amount is too large.")}, code="too_large")
    return amount


def check_time(moment: object, field: str) -> datetime.datetime:
    if not isinstance(moment, datetime.datetime) or timezone.is_naive(moment):
        raise ValidationError({field: _("Give a date and time with its time zone.")})
    now = timezone.now()
    if moment > now + CLOCK_SKEW:
        raise ValidationError({field: _("This cannot be in the future.")}, code="future")
    if moment < now - OLDEST:
        raise ValidationError({field: _("This is too long ago.")}, code="too_old")
    return moment


def _paid_from(community: Community, method: str, payer: Membership) -> Account:
    """Where a payment's money came from: Stripe's or the offline cash account, or — for an
    entrance fee paid from a prize — the payer's own payable balance."""
    if method == Method.WINNINGS:
        return ledger.account(
            community=community, kind=Account.Kind.MEMBER_PAYABLE, membership=payer
        )
    kind = Account.Kind.PROVIDER_CASH if method == Method.STRIPE else Account.Kind.OFFLINE_CASH
    return ledger.account(community=community, kind=kind)


def payment_record(
    *,
    community: Community,
    membership: Membership,
    kind: object,
    amount: object,
    received_at: object,
    method: object,
    recorded_by: User | None = None,
    reference: str = "",
    stripe_id: str = "",
    prize: Prize | None = None,
) -> Payment:
    """Record an entrance or monthly fee (Stripe, bank transfer or cash — or, for a challenge
    winner, from their ``prize``: method "winnings", taken from their payable balance): it
    enters the ledger and, through its date, the fund's schedule. A pending, lapsed or
    candidate payer becomes an active member. With a Stripe id or a prize, recording twice
    returns the first payment."""
    if membership.community_id != community.pk:
        raise ValidationError({"member": _("Choose a member of this community.")})
    if kind not in (Kind.ENTRANCE, Kind.MONTHLY):
        raise ValidationError({"kind": _("Choose entrance or monthly.")}, code="invalid")
    if method not in Method.values:
        raise ValidationError({"method": _("Choose how it was paid.")}, code="invalid")
    kind, method = str(kind), str(method)
    from_winnings = method == Method.WINNINGS
    if (
        (prize is not None and not from_winnings)
        or (from_winnings and prize is None and not stripe_id)
        or (from_winnings and kind != Kind.ENTRANCE)
        or (prize is not None and prize.membership_id != membership.pk)
    ):
        # From winnings: a challenge winner's entrance fee, taken at the close (``prize``) or
        # as part of their joining checkout (``stripe_id``).
        raise ValidationError({"method": _("Only an entrance fee is paid from a prize.")})
    value = check_amount(amount, community.currency)
    when = check_time(received_at, "received_at")
    with transaction.atomic():
        locked = locks.membership(membership.pk)
        if stripe_id:
            existing = Payment.objects.filter(stripe_id=stripe_id).first()
            if existing is not None:
                return existing
        if prize is not None:
            existing = Payment.objects.filter(prize=prize).first()
            if existing is not None:
                return existing
        payment = Payment.objects.create(
            community=community,
            membership=locked,
            kind=kind,
            method=method,
            amount=value,
            currency=community.currency,
            received_at=when,
            reference=reference[:200],
            stripe_id=stripe_id,
            prize=prize,
            recorded_by=recorded_by,
        )
        fund = Account.Kind.REWARD_FUND if kind == Kind.ENTRANCE else Account.Kind.OPERATIONS_FUND
        ledger.transaction_post(
            community=community,
            kind=Transaction.Kind.PAYMENT,
            idempotency_key=f"payment:{payment.pk}",
            description=ledger.describe(Kind(payment.kind).label, locked.profile.handle),
            occurred_at=when,
            lines=[
                (_paid_from(community, method, locked), value),
                (ledger.account(community=community, kind=fund), -value),
            ],
            payment=payment,
            posted_by=recorded_by,
        )
        member_services.audit(
            community=community,
            event=MoneyEvent.PAYMENT_RECORDED,
            actor=recorded_by,
            membership=locked,
            data={"payment": payment.pk, "kind": kind, "amount": value, "method": method},
        )
        member_services.membership_paid(
            membership=locked, entrance=kind == Kind.ENTRANCE, actor=recorded_by
        )
    return payment


def refundable(payment: Payment) -> int:
    returned = payment.refunds.aggregate(total=Sum("amount", default=0))["total"]
    return payment.amount - int(returned)


def payment_reverse(
    *,
    payment: Payment,
    reason: str,
    amount: object = None,
    at: datetime.datetime | None = None,
    recorded_by: User | None = None,
    stripe_id: str = "",
    note: str = "",
) -> Refund:
    """Money goes back — all of it by default, or ``amount`` of it: a Refund row and the
    reversing ledger entries. A refunded or disputed entrance fee ends the membership. With a
    Stripe id, recording twice returns the first refund.

    Locks in the order of rewards.locks: the payer's membership, then — when money taken back
    may stop their subscriptions below — their live subscriptions, then the payment. Stripe
    is told of a stop by a task after the commit."""
    if reason not in Refund.Reason.values:
        raise ValidationError({"reason": _("Choose refund, dispute or correction.")})
    when = check_time(at or timezone.now(), "at")
    money_taken_back = reason in (Refund.Reason.REFUND, Refund.Reason.DISPUTE)
    with transaction.atomic():
        payer = locks.membership(payment.membership_id)  # a payment's payer never changes
        if money_taken_back and payment.kind in (Kind.ENTRANCE, Kind.MONTHLY):
            locks.checkouts(subscriptions.live_subscriptions(payer))
        locked = locks.payment(payment.pk)
        if stripe_id:
            existing = Refund.objects.filter(stripe_id=stripe_id).first()
            if existing is not None:
                return existing
        if locked.method == Payment.Method.STRIPE and reason == Refund.Reason.CORRECTION:
            # Stripe still holds that money: it goes back as a refund at Stripe, and the
            # ledger follows the webhook (rewards.stripe.events).
            raise ValidationError(
                {
                    "payment": _(
                        "A payment through Stripe is refunded at Stripe, not corrected by "
                        "hand; the ledger follows Stripe's notice."
                    )
                },
                code="stripe",
            )
        remaining = refundable(locked)
        value = remaining if amount is None else check_amount(amount, locked.currency)
        if value <= 0 or value > remaining:
            raise ValidationError(
                {
                    "amount": _("At most %(left)s can still go back.")
                    % {"left": format_amount(remaining, locked.currency)}
                },
                code="too_much",
            )
        refund = Refund.objects.create(
            payment=locked,
            reason=reason,
            amount=value,
            received_at=when,
            note=note[:500],
            stripe_id=stripe_id,
            recorded_by=recorded_by,
        )
        original = locked.transactions.filter(reverses__isnull=True, refund__isnull=True).get()
        whole = value == locked.amount
        ledger.transaction_post(
            community=locked.community,
            kind=Transaction.Kind.REFUND,
            idempotency_key=f"refund:{refund.pk}",
            description=ledger.describe(Refund.Reason(refund.reason).label, original.description),
            occurred_at=when,
            lines=ledger.reversal_lines(original, None if whole else value),
            refund=refund,
            reverses=original if whole else None,
            posted_by=recorded_by,
        )
        member_services.audit(
            community=locked.community,
            event=MoneyEvent.PAYMENT_REVERSED,
            actor=recorded_by,
            membership=locked.membership,
            data={"payment": locked.pk, "refund": refund.pk, "reason": reason, "amount": value},
        )
        if locked.kind == Kind.ENTRANCE and money_taken_back:
            member_services.membership_end(membership=payer, reason=reason, actor=recorded_by)
            subscriptions.subscriptions_stop(membership=payer, at_period_end=False)
        elif (
            locked.kind == Kind.MONTHLY
            and money_taken_back
            and locked.method == Payment.Method.STRIPE
            and refundable(locked) == 0
        ):
            # The month paid for came back whole: the member is no longer paid up, and the
            # subscription stops (they may resume by paying again).
            _lapse_for_money_back(membership_id=locked.membership_id, reason=reason)
    return refund


def _lapse_for_money_back(*, membership_id: int, reason: str) -> None:
    """Call in payment_reverse's transaction (the membership and its subscriptions locked)."""
    membership = locks.membership(membership_id)
    if membership.status == Membership.Status.ACTIVE and (
        membership.role != Membership.Role.ORGANISER
    ):
        standing.member_lapse(membership=membership, reason=f"monthly_{reason}")
    subscriptions.subscriptions_stop(membership=membership, at_period_end=False)
