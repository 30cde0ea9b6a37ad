"""Starting a payment through Stripe Checkout: a visitor joining a community (entrance fee
plus the monthly subscription), a lapsed member resuming (the monthly fee only), a member
tipping an answer.

Each start writes our own CheckoutSession row first, in a short transaction with the payer's
membership locked (through rewards.locks, before any checkout row is read or made: the
documented order), and only then calls Stripe, after the commit (never holding a lock over
the network), with the row's id as idempotency key. A second start within the session's
lifetime — a double click, a second tab — reuses the row, so Stripe returns the same session
and nobody pays twice. Nothing here makes anyone a member: only the webhook that says "paid"
does (rewards.stripe.events).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from members import services as member_services
from members.audit import Event as MemberEvent
from members.currency import max_minor
from members.models import Community, Membership, User
from members.services.profiles import profile_create
from questions.models import Answer
from rewards import locks, services
from rewards.models import CheckoutSession, Payment
from rewards.stripe import gateway as stripe_gateway

Kind = CheckoutSession.Kind
Status = CheckoutSession.Status
# A row is reused while its Stripe session has at least this long left to be paid.
REUSE_WITHIN = stripe_gateway.CHECKOUT_LIFETIME * 3 // 4
# A row whose Stripe session was never made is tried again only while its expiry is still
# far enough ahead for Stripe (which wants at least 30 minutes).
RETRY_WITHIN = stripe_gateway.CHECKOUT_LIFETIME - datetime.timedelta(minutes=35)

UrlsFor = Callable[[CheckoutSession], tuple[str, str]]


def winnings_credit(*, community: Community, membership: Membership | None) -> int:
    """What of the entrance fee a candidate who won prizes pays from them (SPEC §2.5: a
    winner whose prize does not cover the fee may pay the difference): their balance that
    is out of the payout hold, up to the fee. Nothing for anyone else."""
    if membership is None or membership.role != Membership.Role.CANDIDATE:
        return 0
    from rewards import payouts

    payable = payouts.payable_of(membership=membership)
    # Not counting what their own open checkout set aside: a second click reuses that one.
    available = payable.balance - payable.held
    return max(min(available, community.entrance_fee), 0)


def join_amounts(*, community: Community, membership: Membership | None) -> tuple[int, int]:
    """(entrance fee, monthly fee) a person pays at Stripe to join now. A lapsed member paid
    the entrance fee already and resumes with the monthly fee alone; a candidate who won
    prizes pays the difference (``winnings_credit`` comes from their prizes)."""
    resuming = membership is not None and membership.status == Membership.Status.LAPSED
    if resuming:
        return 0, community.monthly_fee
    credit = winnings_credit(community=community, membership=membership)
    return community.entrance_fee - credit, community.monthly_fee


def may_join(membership: Membership | None) -> bool:
    """Visitors, pending and former members, candidates and lapsed members may pay to join
    (or resume); active members, moderators and organisers already belong."""
    if membership is None:
        return True
    return membership.role == Membership.Role.CANDIDATE or membership.status in (
        Membership.Status.PENDING,
        Membership.Status.LAPSED,
        Membership.Status.LEFT,
    )


def _membership_id(*, user: User, community: Community) -> int | None:
    return (
        Membership.objects.filter(community=community, user=user)
        .values_list("pk", flat=True)
        .first()
    )


def _membership_for(*, user: User, community: Community) -> Membership:
    """The person's membership, locked; a pending one is made if they have none (a pending
    member sees nothing until the payment arrives)."""
    found = _membership_id(user=user, community=community)
    if found is not None:
        return locks.membership(found)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                community=community,
                user=user,
                role=Membership.Role.MEMBER,
                status=Membership.Status.PENDING,
                joined_via=Membership.JoinedVia.PAID,
            )
            profile_create(membership=membership)
    except IntegrityError:  # a concurrent start made it a moment ago
        made = _membership_id(user=user, community=community)
        if made is None:
            raise
        return locks.membership(made)
    member_services.audit(
        community=community,
        event=MemberEvent.MEMBER_ADDED,
        actor=user,
        membership=membership,
        data={"role": membership.role, "status": membership.status, "joined_via": "paid"},
    )
    return membership


def _already_a_member() -> ValidationError:
    return ValidationError(
        {"membership": _("You are already a member of this community.")}, code="member"
    )


def _joining_membership(*, user: User, community: Community) -> Membership:
    """The membership ``user`` joins ``community`` with, locked (made pending if they have
    none), inside the caller's transaction. Raises ValidationError for someone who belongs
    already (also where that changed while we looked) and where there is no fee to pay."""
    current = Membership.objects.filter(community=community, user=user).first()
    if not may_join(current):
        raise _already_a_member()
    entrance, monthly = join_amounts(community=community, membership=current)
    if entrance <= 0 and monthly <= 0:
        raise ValidationError(
            {"membership": _("This community has no fees: ask an organiser to add you.")},
            code="free",
        )
    membership = _membership_for(user=user, community=community)
    if not may_join(membership):  # changed while we looked
        raise _already_a_member()
    return membership


def _reused_or_new(membership: Membership, **fields: Any) -> CheckoutSession:
    """The payer's still-open checkout for the same thing (a double click, a second tab), or
    a new row. Called with the membership locked."""
    now = timezone.now()
    reusable = (
        CheckoutSession.objects.filter(
            membership=membership,
            status__in=[Status.CREATED, Status.OPEN],
            created_at__gte=now - REUSE_WITHIN,
            **fields,
        )
        .filter(~Q(stripe_session_id="") | Q(created_at__gte=now - RETRY_WITHIN))
        .order_by("-pk")
        .first()
    )
    if reusable is not None:
        return reusable
    return CheckoutSession.objects.create(
        community_id=membership.community_id, membership=membership, **fields
    )


def _open(*, checkout: CheckoutSession, urls: UrlsFor, email: str) -> CheckoutSession:
    """Make sure our row has its Stripe session (idempotent: the key is the row's id)."""
    if checkout.stripe_session_id:
        return checkout
    params = checkout.stripe_params
    if not params:
        community = checkout.community
        success_url, cancel_url = urls(checkout)
        names = {
            "entrance": _("Entrance fee · %(community)s") % {"community": community.name},
            "monthly": _("Monthly fee · %(community)s") % {"community": community.name},
            "tip": _("Tip for an answer · %(community)s") % {"community": community.name},
        }
        params = stripe_gateway.checkout_params(
            checkout=checkout,
            success_url=success_url,
            cancel_url=cancel_url,
            email=email,
            product_names=names,
        )
        CheckoutSession.objects.filter(pk=checkout.pk).update(stripe_params=params)
    session_id, url = stripe_gateway.checkout_create(checkout=checkout, params=params)
    CheckoutSession.objects.filter(pk=checkout.pk, stripe_session_id="").update(
        stripe_session_id=session_id, url=url, status=Status.OPEN
    )
    checkout.refresh_from_db()
    return checkout


def join_start(*, user: User, community: Community, urls: UrlsFor) -> CheckoutSession:
    """Start (or resume) paying to join ``community``; returns our row with the address of
    Stripe's payment page. Raises ValidationError (nothing written) or
    StripeUnavailableError (the row is kept and reused by the next try)."""
    stripe_gateway.ensure_configured()
    with transaction.atomic():
        membership = _joining_membership(user=user, community=community)
        # A challenge winner's prize pays part of the fee: counted with the member locked
        # (and set aside from their balance while the checkout is open: payouts).
        credit = winnings_credit(community=community, membership=membership)
        entrance, monthly = join_amounts(community=community, membership=membership)
        checkout = _reused_or_new(
            membership,
            kind=Kind.JOIN,
            entrance_amount=entrance,
            monthly_amount=monthly,
            winnings_amount=credit,
            currency=community.currency,
        )
    return _open(checkout=checkout, urls=urls, email=user.email)


def demo_payments_offered() -> bool:
    """Whether the join page offers the demo's way in: a "demo payment" that records the
    fees as an offline payment, with no money moving. Only on a site that cannot take money
    at all (no Stripe key) and runs in debug mode with DEMO_PAYMENTS on (the embedded
    default, ``make run``): never in production."""
    return bool(settings.DEMO_PAYMENTS and settings.DEBUG and not stripe_gateway.configured())


def join_demo(*, user: User, community: Community) -> list[Payment]:
    """Join ``community`` (or resume) by a demo payment: the entrance and monthly fees that
    Stripe would have charged are recorded as an offline payment (through the organisers'
    service, services.payment_record), which makes the payer an active member. Raises
    PermissionDenied where demo payments are not offered, ValidationError (nothing written)
    for someone who belongs already — so a second press pays nothing twice."""
    if not demo_payments_offered():
        raise PermissionDenied(_("Demo payments are not available on this site."))
    with transaction.atomic():
        # a second press, or another tab, that got here first finds a member: refused
        membership = _joining_membership(user=user, community=community)
        entrance, monthly = join_amounts(community=community, membership=membership)
        now = timezone.now()
        reference = _("Demo payment: no money moved")
        return [
            services.payment_record(
                community=community,
                membership=membership,
                kind=kind,
                amount=amount,
                received_at=now,
                method=Payment.Method.CASH,
                recorded_by=user,
                reference=reference,
            )
            for kind, amount in ((Payment.Kind.ENTRANCE, entrance), (Payment.Kind.MONTHLY, monthly))
            if amount > 0
        ]


def check_tip(*, tipper: Membership | None, answer: Answer) -> Membership:
    """Who may tip: an active member of the answer's community (PermissionDenied otherwise),
    not its author (ValidationError)."""
    if (
        tipper is None
        or not tipper.is_writer
        or tipper.community_id != answer.question.community_id
    ):
        raise PermissionDenied(_("Only active members can tip answers."))
    if answer.author_id == tipper.pk:
        raise ValidationError({"answer": _("You cannot tip your own answer.")}, code="own")
    return tipper


def tip_start(
    *, tipper: Membership | None, answer: Answer, amount: object, urls: UrlsFor
) -> CheckoutSession:
    """Start paying a tip of ``amount`` (minor units) to an answer's author."""
    tipper = check_tip(tipper=tipper, answer=answer)
    community = tipper.community
    # 100,000 major units at most: far beyond any tip
    value = services.check_amount(
        amount, community.currency, most=max_minor(community.currency) // 100
    )
    stripe_gateway.ensure_configured()
    with transaction.atomic():
        locked = locks.membership(tipper.pk)
        checkout = _reused_or_new(
            locked,
            kind=Kind.TIP,
            answer=answer,
            tip_amount=value,
            tip_fee_percent=community.tip_fee_percent,
            currency=community.currency,
        )
    return _open(checkout=checkout, urls=urls, email=tipper.user.email)


def checkout_for(*, user: User, checkout_id: int, slug: str | None = None) -> CheckoutSession:
    """One's own checkout row (for the "thank you" page and the API); None → 404 upstream."""
    qs = CheckoutSession.objects.select_related(
        "community", "membership", "answer__question", "answer__author__profile"
    )
    if slug is not None:
        qs = qs.filter(community__slug=slug)
    return qs.get(pk=checkout_id, membership__user=user)
