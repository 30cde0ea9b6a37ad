"""Tips: a member pays an answer's author through Stripe; the author's payable balance grows
by the tip less the community's platform fee (SPEC §2.2; default fee 0 %).

One tip is one Payment (kind "tip", the tipper as payer, the author as recipient, the
answer) and one balanced transaction: provider cash +amount, the author's payable
−(amount − fee), platform fees −fee. The split goes through the allocation helper, so the
two parts always sum to the tip. A refund or lost dispute of a tip is reversed by
rewards.services.payment_reverse like any payment (in proportion, for a partial one).

Recording a tip locks the tipper's Membership through rewards.locks (the payer, as for every
payment; the author's row is only read), so it fits the webhook's order: event, member,
checkout.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from members import services as member_services
from members.models import Membership
from questions.models import Answer
from rewards import ledger, locks, services
from rewards.audit import Event as MoneyEvent
from rewards.models import Account, Payment, Transaction
from rewards.money import allocate


def tip_split(amount: int, fee_percent: int) -> tuple[int, int]:
    """(the author's part, the platform fee) of a tip: ``allocate`` by weights
    ``[100 − pct, pct]``, so they sum to ``amount`` exactly (the odd fen goes to the larger
    remainder; on a tie, to the author)."""
    if not 0 <= fee_percent <= 100:
        raise ValueError("the fee is a percentage from 0 to 100")
    author, fee = allocate(amount, [100 - fee_percent, fee_percent])
    return author, fee


def tip_record(
    *,
    tipper: Membership,
    answer: Answer,
    amount: object,
    received_at: object,
    stripe_id: str,
    reference: str = "",
    fee_percent: int | None = None,
) -> Payment:
    """Record a tip Stripe has taken. Idempotent by ``stripe_id`` (the Checkout session): a
    second call returns the first payment and writes nothing. The tipper need not be active
    any more (the money was taken); the answer must be of the tipper's community and not
    their own. ``fee_percent``: the platform fee the tipper was shown (the checkout keeps
    it); the community's current one when not given. Locks the tipper's membership
    (rewards.locks): call it before locking any of their checkouts, or with it locked."""
    community = tipper.community
    if not stripe_id:
        raise ValidationError({"stripe_id": _("A tip through Stripe needs its Stripe id.")})
    if answer.question.community_id != community.pk:
        raise ValidationError({"answer": _("No such answer.")}, code="other_community")
    if answer.author_id == tipper.pk:
        raise ValidationError({"answer": _("You cannot tip your own answer.")}, code="own")
    value = services.check_amount(amount, community.currency)
    when = services.check_time(received_at, "received_at")
    percent = community.tip_fee_percent if fee_percent is None else fee_percent
    author_part, fee = tip_split(value, percent)
    with transaction.atomic():
        locked = locks.membership(tipper.pk)
        existing = Payment.objects.filter(stripe_id=stripe_id).first()
        if existing is not None:
            return existing
        author = Membership.objects.select_related("profile").get(pk=answer.author_id)
        payment = Payment.objects.create(
            community=community,
            membership=locked,
            kind=Payment.Kind.TIP,
            method=Payment.Method.STRIPE,
            amount=value,
            currency=community.currency,
            received_at=when,
            recipient=author,
            answer=answer,
            platform_fee=fee,
            reference=reference[:200],
            stripe_id=stripe_id,
        )
        lines = [(ledger.account(community=community, kind=Account.Kind.PROVIDER_CASH), value)]
        if author_part:
            payable = ledger.account(
                community=community, kind=Account.Kind.MEMBER_PAYABLE, membership=author
            )
            lines.append((payable, -author_part))
        if fee:
            lines.append(
                (ledger.account(community=community, kind=Account.Kind.PLATFORM_FEES), -fee)
            )
        ledger.transaction_post(
            community=community,
            kind=Transaction.Kind.TIP,
            idempotency_key=f"payment:{payment.pk}",
            description=ledger.describe(
                Payment.Kind(payment.kind).label,
                f"{locked.profile.handle} → {author.profile.handle}",
            ),
            occurred_at=when,
            lines=lines,
            payment=payment,
        )
        member_services.audit(
            community=community,
            event=MoneyEvent.PAYMENT_RECORDED,
            actor=None,
            membership=locked,
            data={
                "payment": payment.pk,
                "kind": Payment.Kind.TIP,
                "amount": value,
                "method": Payment.Method.STRIPE,
                "recipient": author.pk,
                "answer": answer.pk,
                "platform_fee": fee,
            },
        )
    return payment
