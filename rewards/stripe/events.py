"""What each Stripe event means for us. Called by rewards.webhooks with the stored event, in a
transaction; every ledger posting goes through services.payment_record / payment_reverse or
tips.tip_record, which are idempotent by Stripe id, so an event handled twice posts once.

Events find our rows through the metadata we put on every Checkout session, subscription and
payment intent (``checkout``: our CheckoutSession id). Events may come in any order:

- ``invoice.paid`` before ``checkout.session.completed``: the monthly fee is recorded from the
  invoice, the entrance fee later from the session; each by its own Stripe id.
- a refund or lost dispute before the payment it reverses: ``WaitingError`` — the event
  stays "received" and is tried again after the next event that succeeds (and by the beat
  sweep), so it lands once its payment is there.
- the subscription's standing is kept as order-independent facts (rewards.standing).

A charge of the first invoice pays both the entrance fee and the first month; a refund of it
is applied to the monthly fee first, then the entrance fee, over the charge's refunds in
Stripe's order — computed afresh every time, so replays post the same split.

Locks and Stripe (CONVENTIONS.md, "Locks and the network"). ``handle`` runs inside the
transaction in which rewards.webhooks holds the StripeEvent row locked, so it never calls
Stripe:

- what an event needs to *read* from Stripe (a charge's refunds, the invoice a payment intent
  paid) is fetched by ``prepare`` before that transaction, and handed to the handler as
  ``Fetched``; when Stripe cannot be asked, the event waits (``WaitingError``);
- what an event needs Stripe to *do* (make a saved card the subscription's) is queued on
  commit as a task (rewards.tasks.stripe_payment_method_set), which reads again from the
  stored event what to send, with an idempotency key naming the SetupIntent.

Rows are locked through rewards.locks in its documented order: the payer's Membership first
(found through the event's checkout, which is only read), then the checkout (``_locked``);
the services called afterwards lock that same membership again, and then only rows further
down the order (the member's other checkouts, payments).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from members import outbox
from rewards import locks, payouts, services, standing, subscriptions, tips
from rewards.models import CheckoutSession, Payment, Refund, StripeEvent
from rewards.stripe import gateway as stripe_gateway

Event = Mapping[str, Any]


class WaitingError(Exception):
    """Something this event needs has not arrived yet (or Stripe could not be asked)."""


class BadEventError(ValueError):
    """The event contradicts what we asked Stripe for; recorded as failed for staff to see."""


@dataclass(frozen=True)
class Fetched:
    """What an event needs to know from Stripe, asked by ``prepare`` before any lock is taken.

    ``invoice_id``: the invoice a charge's payment intent paid, when the charge does not name
    it and the payment intent is not one of our checkouts' ("" otherwise, or if none).
    ``refunds``: every refund of the charge, when the event does not list them all (None:
    not asked)."""

    invoice_id: str = ""
    refunds: tuple[Mapping[str, Any], ...] | None = None


def _time(value: object) -> datetime.datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadEventError(f"expected a Unix time, got {value!r}")
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)


def _id(value: object) -> str:
    """A Stripe id, whether the field is the id or the expanded object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadEventError(f"expected an amount in minor units, got {value!r}")
    return value


def _checkout_ref(metadata: object) -> int | None:
    """The id of our checkout a Stripe object's metadata names (None: not one of ours)."""
    if not isinstance(metadata, Mapping) or not stripe_gateway.ours(metadata):
        return None
    ref = metadata.get("checkout")
    if not isinstance(ref, str) or not ref.isdigit():
        return None
    return int(ref)


def _locked(pk: int | None) -> CheckoutSession | None:
    """Lock a checkout in the documented order (rewards.locks): its payer's Membership first,
    then the checkout itself — never the checkout first, which would deadlock with a member
    cancelling (membership, then their checkouts)."""
    if pk is None or locks.checkout_payer(pk) is None:
        return None
    return locks.checkout(pk)


def _row(metadata: object) -> CheckoutSession | None:
    """Our checkout named by a Stripe object's metadata, locked with its member (None: not
    one of ours)."""
    row = _locked(_checkout_ref(metadata))
    community = metadata.get("community") if isinstance(metadata, Mapping) else None
    if row is not None and community not in (None, str(row.community_id)):
        raise BadEventError("the metadata's community does not match our checkout")
    return row


def _check_currency(row: CheckoutSession, currency: object) -> None:
    if not isinstance(currency, str) or currency.upper() != row.currency:
        raise BadEventError(f"currency {currency!r} is not the checkout's {row.currency}")


# --- Checkout -----------------------------------------------------------------------------


def session_completed(event: Event, session: Mapping[str, Any]) -> bool:
    row = _row(session.get("metadata"))
    if row is None:
        return False
    if session.get("mode") == "setup":
        return _payment_method_saved(event, row, session)
    for field, key in (
        ("stripe_customer_id", "customer"),
        ("stripe_subscription_id", "subscription"),
        ("stripe_payment_intent_id", "payment_intent"),
        ("stripe_invoice_id", "invoice"),
    ):
        if not getattr(row, field) and _id(session.get(key)):
            setattr(row, field, _id(session.get(key)))
    if session.get("payment_status") != "paid":  # paid later: async_payment_succeeded
        row.save()
        return True
    _check_currency(row, session.get("currency"))
    if _amount(session.get("amount_total")) != row.amount_due:
        raise BadEventError(f"paid {session.get('amount_total')}, asked {row.amount_due}")
    paid_at = _time(event.get("created"))
    if row.status != CheckoutSession.Status.COMPLETED:
        row.status, row.completed_at = CheckoutSession.Status.COMPLETED, paid_at
    row.save()
    session_id = _id(session)
    if row.kind == CheckoutSession.Kind.TIP:
        if row.answer is None:  # the table's check constraint rules it out
            raise BadEventError("a tip without its answer")
        tips.tip_record(
            tipper=row.membership,
            answer=row.answer,
            amount=row.tip_amount,
            received_at=paid_at,
            stripe_id=session_id,
            reference=row.stripe_payment_intent_id,
            fee_percent=row.tip_fee_percent,
        )
        return True
    if row.winnings_amount:
        # A challenge winner paid the difference: the rest of the fee comes from the prize.
        services.payment_record(
            community=row.community,
            membership=row.membership,
            kind=Payment.Kind.ENTRANCE,
            amount=row.winnings_amount,
            received_at=paid_at,
            method=Payment.Method.WINNINGS,
            stripe_id=f"{session_id}:winnings",
            reference=f"checkout:{row.pk}",
        )
    if row.entrance_amount:
        services.payment_record(
            community=row.community,
            membership=row.membership,
            kind=Payment.Kind.ENTRANCE,
            amount=row.entrance_amount,
            received_at=paid_at,
            method=Payment.Method.STRIPE,
            stripe_id=session_id,
            reference=row.stripe_invoice_id or row.stripe_payment_intent_id,
        )
    if row.stripe_subscription_id:
        # A lapsed member who resumed: the subscription that failed must not charge again.
        subscriptions.subscriptions_stop(membership=row.membership, at_period_end=False, keep=row)
    standing.standing_enforce(membership_id=row.membership_id)
    return True


def _payment_method_saved(event: Event, row: CheckoutSession, session: Mapping[str, Any]) -> bool:
    """A member saved a new way to pay their subscription (fund page, "Change how I pay"):
    Stripe is told to charge the subscription with it by a task queued on commit (never
    while the event is locked); the task reads what to send from this stored event."""
    metadata = session.get("metadata") or {}
    if metadata.get("purpose") != stripe_gateway.PAYMENT_METHOD_PURPOSE:
        return False
    if row.kind != CheckoutSession.Kind.JOIN or _id(session.get("customer")) not in (
        "",
        row.stripe_customer_id,
    ):
        raise BadEventError("a payment-method setup for another customer's checkout")
    setup_intent = _id(session.get("setup_intent"))
    if session.get("status") != "complete" or not setup_intent:
        return False
    if row.ended_at is not None or not row.stripe_subscription_id:
        return False  # the subscription has ended: nothing to change
    from rewards import tasks

    outbox.enqueue(tasks.stripe_payment_method_set, str(event.get("id")))
    return True


def payment_method_send(*, stripe_event_id: str) -> bool:
    """The body of the task rewards.tasks.stripe_payment_method_set, run once the event's
    transaction committed, holding no lock: tell Stripe to charge the subscription with the
    payment method a processed setup Checkout saved. Everything is read again from the
    stored event, so running it twice sends the very same request (its idempotency key names
    the SetupIntent). Nothing is sent when the subscription has ended since, or when a later
    setup of the same checkout was processed (the newest wins, whatever order the tasks run
    in). Raises StripeUnavailableError (the task tries again). Returns whether Stripe was
    told."""
    stored = StripeEvent.objects.filter(
        event_id=stripe_event_id, status=StripeEvent.Status.PROCESSED
    ).first()
    session = (stored.payload.get("data") or {}).get("object") if stored is not None else None
    if stored is None or not isinstance(session, Mapping) or session.get("mode") != "setup":
        return False
    ref, setup_intent = _checkout_ref(session.get("metadata")), _id(session.get("setup_intent"))
    row = CheckoutSession.objects.filter(pk=ref).first() if ref is not None else None
    if row is None or not setup_intent:
        return False
    created = stored.payload.get("created")
    if isinstance(created, int) and (
        StripeEvent.objects.filter(
            type__in=["checkout.session.completed", "checkout.session.async_payment_succeeded"],
            status=StripeEvent.Status.PROCESSED,
            payload__data__object__mode="setup",
            payload__data__object__metadata__checkout=str(row.pk),
            payload__created__gt=created,
        ).exists()
    ):
        return False
    return subscriptions.payment_method_saved(row=row, setup_intent_id=setup_intent)


def session_expired(event: Event, session: Mapping[str, Any]) -> bool:
    row = _row(session.get("metadata"))
    if row is None:
        return False
    if row.status in (CheckoutSession.Status.CREATED, CheckoutSession.Status.OPEN):
        row.status = CheckoutSession.Status.EXPIRED
        row.save(update_fields=["status"])
    return True


# --- Invoices and the subscription ---------------------------------------------------------


def _invoice_row(invoice: Mapping[str, Any]) -> CheckoutSession | None:
    """The join an invoice belongs to: by the subscription's metadata (in ``parent`` since
    2025, at the top level before), else by the subscription id we stored."""
    details = (invoice.get("parent") or {}).get("subscription_details") or invoice.get(
        "subscription_details"
    )
    details = details if isinstance(details, Mapping) else {}
    row = _row(details.get("metadata"))
    subscription = _id(details.get("subscription")) or _id(invoice.get("subscription"))
    if row is None and subscription:
        row = _locked(_by_subscription(subscription))
    if row is not None and subscription and not row.stripe_subscription_id:
        row.stripe_subscription_id = subscription
        row.save(update_fields=["stripe_subscription_id"])
    return row


def _by_subscription(subscription_id: str) -> int | None:
    """The id of the checkout that started a subscription (not locked)."""
    return (
        CheckoutSession.objects.filter(stripe_subscription_id=subscription_id)
        .values_list("pk", flat=True)
        .first()
    )


def invoice_paid(event: Event, invoice: Mapping[str, Any]) -> bool:
    row = _invoice_row(invoice)
    if row is None:
        return False
    invoice_id = _id(invoice)
    _check_currency(row, invoice.get("currency"))
    monthly = _amount(invoice.get("amount_paid"))
    if invoice.get("billing_reason") == "subscription_create":
        # The first invoice carries the one-off entrance fee too (recorded from the session).
        if not row.stripe_invoice_id:
            row.stripe_invoice_id = invoice_id
            row.save(update_fields=["stripe_invoice_id"])
        monthly -= row.entrance_amount
        if monthly < 0:
            raise BadEventError("the first invoice pays less than the entrance fee")
    transitions = invoice.get("status_transitions") or {}
    paid_at = _time(transitions.get("paid_at") or event.get("created"))
    standing.invoice_paid(row=row, invoice_id=invoice_id, created=_time(invoice.get("created")))
    if monthly:
        services.payment_record(
            community=row.community,
            membership=row.membership,
            kind=Payment.Kind.MONTHLY,
            amount=monthly,
            received_at=paid_at,
            method=Payment.Method.STRIPE,
            stripe_id=invoice_id,
        )
    standing.standing_enforce(membership_id=row.membership_id)
    return True


def invoice_payment_failed(event: Event, invoice: Mapping[str, Any]) -> bool:
    row = _invoice_row(invoice)
    if row is None:
        return False
    standing.invoice_failed(
        row=row,
        invoice_id=_id(invoice),
        created=_time(invoice.get("created")),
        failed_at=_time(event.get("created")),
    )
    standing.standing_enforce(membership_id=row.membership_id)
    return True


def subscription_deleted(event: Event, subscription: Mapping[str, Any]) -> bool:
    row = _row(subscription.get("metadata"))
    if row is None and _id(subscription):
        row = _locked(_by_subscription(_id(subscription)))
    if row is None:
        return False
    if not row.stripe_subscription_id:
        row.stripe_subscription_id = _id(subscription)
        row.save(update_fields=["stripe_subscription_id"])
    items = (subscription.get("items") or {}).get("data") or []
    ends = [i["current_period_end"] for i in items if isinstance(i.get("current_period_end"), int)]
    if isinstance(subscription.get("current_period_end"), int):  # before 2025
        ends.append(subscription["current_period_end"])
    ended = subscription.get("ended_at") or subscription.get("canceled_at") or event.get("created")
    standing.subscription_ended(
        row=row, ended_at=_time(ended), period_end=_time(max(ends)) if ends else None
    )
    standing.standing_enforce(membership_id=row.membership_id)
    return True


# --- Money going back ----------------------------------------------------------------------


def _invoice_fetch(*, payment_intent: str, charge: Mapping[str, Any] | None) -> str:
    """For ``prepare``: the invoice ``payment_intent`` paid, asked of Stripe only when
    ``_payments_for`` will need it — the charge does not name it and no checkout of ours has
    that payment intent (a checkout's payment intent, once set, stays)."""
    if not payment_intent or _id((charge or {}).get("invoice")):
        return ""
    if CheckoutSession.objects.filter(stripe_payment_intent_id=payment_intent).exists():
        return ""
    try:
        return stripe_gateway.invoice_for_payment_intent(payment_intent=payment_intent)
    except stripe_gateway.StripeUnavailableError as exc:
        raise WaitingError(f"could not ask Stripe for the invoice: {exc}") from None


def _payments_for(
    *, payment_intent: str, charge: Mapping[str, Any] | None, fetched: Fetched
) -> list[Payment]:
    """Our payments a charge paid, the monthly fee before the entrance fee. Raises
    WaitingError while they are not all recorded. Reads only; the payments are locked by
    services.payment_reverse (after their payer)."""
    if payment_intent:
        row = CheckoutSession.objects.filter(stripe_payment_intent_id=payment_intent).first()
        if row is not None:
            found = Payment.objects.filter(stripe_id=row.stripe_session_id).first()
            if found is None:
                raise WaitingError(f"the payment of checkout {row.pk} is not recorded yet")
            return [found]
    # charges named their invoice until 2025; since, ``prepare`` asks Stripe
    invoice_id = _id((charge or {}).get("invoice")) or fetched.invoice_id
    if not invoice_id:
        raise WaitingError(f"no payment of ours for {payment_intent or 'this charge'} yet")
    monthly = Payment.objects.filter(stripe_id=invoice_id).first()
    if monthly is None:
        raise WaitingError(f"invoice {invoice_id} is not recorded yet")
    first = CheckoutSession.objects.filter(
        kind=CheckoutSession.Kind.JOIN, stripe_invoice_id=invoice_id
    ).first()
    if first is None or not first.entrance_amount:
        return [monthly]
    entrance = Payment.objects.filter(stripe_id=first.stripe_session_id).first()
    if entrance is None:
        raise WaitingError(f"the entrance fee of checkout {first.pk} is not recorded yet")
    return [monthly, entrance]


def _reverse(
    payments: list[Payment], items: list[tuple[str, int, datetime.datetime]], reason: str
) -> None:
    """Apply money going back (Stripe id, amount, when) — in Stripe's order — to the payments
    in turn, each filling up the first payment before the next. Recomputed from the whole
    list every time, so any replay posts the same split; parts already posted are skipped.

    What other events already took back (a refund, then a lost dispute of the rest of the
    same charge) is not there to take again: each payment's room starts from what those left.
    """

    def ref_of(stripe_id: str, index: int) -> str:
        return stripe_id if index == 0 else f"{stripe_id}:{payments[index].kind}"

    ours = {ref_of(item[0], index) for item in items for index in range(len(payments))}
    taken: dict[int, int] = {}
    for refund in Refund.objects.filter(payment__in=payments).exclude(stripe_id__in=ours):
        taken[refund.payment_id] = taken.get(refund.payment_id, 0) + refund.amount
    room = [p.amount - taken.get(p.pk, 0) for p in payments]
    posted = set(Refund.objects.filter(stripe_id__in=ours).values_list("stripe_id", flat=True))
    for stripe_id, amount, at in sorted(items, key=lambda item: (item[2], item[0])):
        left = amount
        for index, payment in enumerate(payments):
            part = min(left, room[index])
            if part <= 0:
                continue
            room[index] -= part
            left -= part
            ref = ref_of(stripe_id, index)
            if ref in posted:
                continue
            services.payment_reverse(
                payment=payment, reason=reason, amount=part, at=at, stripe_id=ref
            )
        if left > 0:
            raise BadEventError(f"{stripe_id} returns more than the charge paid us")


def _charge_refunds(charge_id: str) -> tuple[Mapping[str, Any], ...]:
    """For ``prepare``: every refund of a charge, asked of Stripe."""
    try:
        return tuple(stripe_gateway.charge_refunds(charge_id=charge_id))
    except stripe_gateway.StripeUnavailableError as exc:
        raise WaitingError(f"could not ask Stripe for the refunds: {exc}") from None


def _refunds_listed(charge: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The refunds a charge lists, if it lists them all (older API versions); else None."""
    listed = charge.get("refunds")
    if isinstance(listed, Mapping) and not listed.get("has_more"):
        return list(listed.get("data") or [])
    return None


def _refunds_fetched(fetched: Fetched) -> Sequence[Mapping[str, Any]]:
    if fetched.refunds is None:  # ``prepare`` asks for them whenever they are needed
        raise WaitingError("the charge's refunds were not fetched from Stripe")
    return fetched.refunds


def _refunds_reverse(payments: list[Payment], refunds: Sequence[Mapping[str, Any]]) -> None:
    """Only refunds that succeeded are money gone back: a pending one (some payment methods
    refund slowly) is posted when ``charge.refund.updated`` says it succeeded, and a failed
    or cancelled one never."""
    items = [
        (_id(r), _amount(r.get("amount")), _time(r.get("created")))
        for r in refunds
        if r.get("status") == "succeeded"
    ]
    _reverse(payments, items, Refund.Reason.REFUND)


def charge_refunded_fetch(charge: Mapping[str, Any]) -> Fetched:
    listed = _refunds_listed(charge)
    return Fetched(
        invoice_id=_invoice_fetch(payment_intent=_id(charge.get("payment_intent")), charge=charge),
        refunds=None if listed is not None else _charge_refunds(_id(charge)),
    )


def charge_refunded(event: Event, charge: Mapping[str, Any], fetched: Fetched) -> bool:
    payments = _payments_for(
        payment_intent=_id(charge.get("payment_intent")), charge=charge, fetched=fetched
    )
    refunds = _refunds_listed(charge)
    _refunds_reverse(payments, refunds if refunds is not None else _refunds_fetched(fetched))
    return True


def refund_updated_fetch(refund: Mapping[str, Any]) -> Fetched:
    charge_id = _id(refund.get("charge"))
    if refund.get("status") != "succeeded" or not charge_id:
        return Fetched()
    return Fetched(
        invoice_id=_invoice_fetch(payment_intent=_id(refund.get("payment_intent")), charge=None),
        refunds=_charge_refunds(charge_id),
    )


def refund_updated(event: Event, refund: Mapping[str, Any], fetched: Fetched) -> bool:
    """A refund that was pending has succeeded (or failed): the charge's refunds, read afresh
    from Stripe (by ``prepare``), are applied like ``charge.refunded``."""
    if refund.get("status") != "succeeded":
        return False
    if not _id(refund.get("charge")):
        raise BadEventError("a refund without its charge")
    payments = _payments_for(
        payment_intent=_id(refund.get("payment_intent")), charge=None, fetched=fetched
    )
    _refunds_reverse(payments, _refunds_fetched(fetched))
    return True


def _disputed(dispute: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | None]:
    """(the payment intent, the charge if expanded) a dispute is about."""
    charge = dispute.get("charge")
    expanded = charge if isinstance(charge, Mapping) else None
    payment_intent = _id(dispute.get("payment_intent")) or _id(
        (expanded or {}).get("payment_intent")
    )
    return payment_intent, expanded


def dispute_closed_fetch(dispute: Mapping[str, Any]) -> Fetched:
    if dispute.get("status") != "lost":
        return Fetched()
    payment_intent, expanded = _disputed(dispute)
    return Fetched(invoice_id=_invoice_fetch(payment_intent=payment_intent, charge=expanded))


def dispute_closed(event: Event, dispute: Mapping[str, Any], fetched: Fetched) -> bool:
    if dispute.get("status") != "lost":
        return False  # won or warning closed: the money stays
    payment_intent, expanded = _disputed(dispute)
    payments = _payments_for(payment_intent=payment_intent, charge=expanded, fetched=fetched)
    item = (_id(dispute), _amount(dispute.get("amount")), _time(event.get("created")))
    _reverse(payments, [item], Refund.Reason.DISPUTE)
    return True


# --- Stripe Connect: transfers to members, their accounts ------------------------------------


def _payout_id(transfer: Mapping[str, Any]) -> int | None:
    metadata = transfer.get("metadata")
    if not isinstance(metadata, Mapping) or not stripe_gateway.ours(metadata):
        return None
    ref = metadata.get("payout")
    return int(ref) if isinstance(ref, str) and ref.isdigit() else None


def transfer_created(event: Event, transfer: Mapping[str, Any]) -> bool:
    payout_id = _payout_id(transfer)
    if payout_id is None:
        return False
    found = payouts.transfer_paid(
        payout_id=payout_id, transfer_id=_id(transfer), at=_time(event.get("created"))
    )
    return found is not None


def transfer_reversed(event: Event, transfer: Mapping[str, Any]) -> bool:
    payout_id = _payout_id(transfer)
    if payout_id is None:
        return False
    if _amount(transfer.get("amount_reversed")) < _amount(transfer.get("amount")):
        return False  # a partial reversal: left for an organiser to settle by hand
    found = payouts.transfer_reversed(payout_id=payout_id, at=_time(event.get("created")))
    return found is not None


def account_updated(event: Event, account: Mapping[str, Any]) -> bool:
    found = payouts.account_updated(
        stripe_account_id=_id(account), **stripe_gateway.account_flags(account)
    )
    return found is not None


HANDLERS: dict[str, Callable[[Event, Mapping[str, Any]], bool]] = {
    "transfer.created": transfer_created,
    "transfer.reversed": transfer_reversed,
    "account.updated": account_updated,
    "checkout.session.completed": session_completed,
    "checkout.session.async_payment_succeeded": session_completed,
    "checkout.session.expired": session_expired,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "customer.subscription.deleted": subscription_deleted,
}

# Events that need to know something from Stripe: ``prepare`` asks with the first function
# (no lock held), ``handle`` acts with the second.
FETCHING_HANDLERS: dict[
    str,
    tuple[
        Callable[[Mapping[str, Any]], Fetched],
        Callable[[Event, Mapping[str, Any], Fetched], bool],
    ],
] = {
    "charge.refunded": (charge_refunded_fetch, charge_refunded),
    "charge.refund.updated": (refund_updated_fetch, refund_updated),
    "charge.dispute.closed": (dispute_closed_fetch, dispute_closed),
}


def _object(event: Event) -> object:
    return (event.get("data") or {}).get("object")


def prepare(event: Event) -> Fetched:
    """Ask Stripe what ``event`` needs to be handled. Called by rewards.webhooks before it
    locks anything (a network call never runs under a database lock); raises WaitingError
    when Stripe cannot be asked — the event waits and is tried again."""
    fetching = FETCHING_HANDLERS.get(str(event.get("type")))
    obj = _object(event)
    if fetching is None or not isinstance(obj, Mapping):
        return Fetched()
    return fetching[0](obj)


def handle(event: Event, fetched: Fetched) -> bool:
    """Act on one event, with what ``prepare`` fetched for it; False when it is not for us
    (unknown type, not our object). Runs in the webhook's locked transaction: calls no
    Stripe (a call it needs goes out from a task queued on commit)."""
    kind = str(event.get("type"))
    handler, fetching = HANDLERS.get(kind), FETCHING_HANDLERS.get(kind)
    if handler is None and fetching is None:
        return False
    obj = _object(event)
    if not isinstance(obj, Mapping):
        raise BadEventError("the event has no object")
    if fetching is not None:
        return fetching[1](event, obj, fetched)
    return handler(event, obj) if handler is not None else False
