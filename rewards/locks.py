"""Every money lock, taken in one documented order (Saleor's ``lock_objects.py``).

Two paths that lock the same rows in opposite orders can deadlock each other (a webhook
locking a checkout then its member, a member cancelling locking their membership then the
checkout). So every money path locks through these functions, in this order, and never
goes back up it:

1. ``StripeEvent`` — the webhook event being processed (rewards.webhooks);
2. ``Membership`` rows, by primary key;
3. ``CheckoutSession`` rows, by primary key;
4. ``Payment`` rows, by primary key;
5. ``WeekClose`` and then ``Prize`` rows;
6. ``Payout`` rows, by primary key;
7. ``ConnectedAccount`` rows.

Each function is ``select_for_update()`` ordered by primary key and evaluated at once; call
it inside ``transaction.atomic()``. Never hold these locks across a network call: write a
row saying what is about to happen, commit, call Stripe with an idempotency key from that
row, and record the result in a new transaction (CONVENTIONS.md, "Locks and the network").
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from members.models import Membership
from rewards.models import CheckoutSession, ConnectedAccount, Payment, Payout, Prize, WeekClose


def memberships(pks: Iterable[int]) -> dict[int, Membership]:
    """Lock these memberships (with their community and profile loaded), by pk."""
    rows = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("community", "profile", "user")
        .filter(pk__in=sorted(set(pks)))
        .order_by("pk")
    )
    return {row.pk: row for row in rows}


def membership(pk: int) -> Membership:
    """Lock one membership; Membership.DoesNotExist if there is none."""
    found = memberships([pk])
    if pk not in found:
        raise Membership.DoesNotExist(pk)
    return found[pk]


def checkout_payer(checkout_pk: int) -> Membership | None:
    """Lock the membership that pays checkout ``checkout_pk`` — before the checkout, as the
    order above wants — finding and locking it in one query (the checkout is only read; its
    payer never changes). None: no such checkout."""
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("community", "profile", "user")
        .filter(checkouts__pk=checkout_pk)
        .first()
    )


def checkouts(queryset: QuerySet[CheckoutSession]) -> list[CheckoutSession]:
    """Lock the checkouts of ``queryset``, by pk (after their members: lock those first)."""
    return list(queryset.select_for_update(of=("self",)).order_by("pk"))


def checkout(pk: int) -> CheckoutSession | None:
    rows = checkouts(
        CheckoutSession.objects.select_related(
            "community", "membership", "answer__question"
        ).filter(pk=pk)
    )
    return rows[0] if rows else None


def payment(pk: int) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("community", "membership")
        .get(pk=pk)
    )


def week_close(pk: int) -> WeekClose:
    return WeekClose.objects.select_for_update(of=("self",)).select_related("community").get(pk=pk)


def prize(pk: int) -> Prize:
    return (
        Prize.objects.select_for_update(of=("self",))
        .select_related("week_close__community", "membership__profile", "answer")
        .get(pk=pk)
    )


def payouts(queryset: QuerySet[Payout]) -> list[Payout]:
    return list(queryset.select_for_update(of=("self",)).order_by("pk"))


def payout(pk: int) -> Payout | None:
    rows = payouts(Payout.objects.select_related("community", "membership").filter(pk=pk))
    return rows[0] if rows else None


def connected_account(pk: int) -> ConnectedAccount:
    return ConnectedAccount.objects.select_for_update().get(pk=pk)
