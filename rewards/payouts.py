"""Payouts (SPEC §2.5): members' payable balances — prizes, tips, moderator pay — paid out by
the organiser after the hold, one at a time or as a batch.

- *By hand* (bank transfer, Alipay, WeChat Pay, cash — already sent, with the transfer's
  reference): payable → payouts in transit → offline cash, posted at once.
- *Stripe Connect* (the member connected an Express account from their earnings page):
  payable → payouts in transit when recorded; a task then asks Stripe for the transfer with an
  idempotency key from our row (``payout:<id>``), outside any lock, and in transit → Stripe
  cash when Stripe confirms (the call's answer or the ``transfer.created`` webhook, whichever
  comes first). A transfer Stripe refuses puts the money back into the member's payable;
  so does a later ``transfer.reversed``.

Never more than the balance, never within the hold: checked with the member's membership
locked (rewards.locks), so two payouts racing for the same balance cannot both pass. Each
ledger step is keyed by the payout's id, so a retried task or a replayed webhook posts once.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members import outbox, privacy
from members import services as member_services
from members.currency import format_amount, to_major
from members.exports import cell
from members.models import Community, Membership, User
from rewards import ledger, locks, services
from rewards.audit import Event as MoneyEvent
from rewards.models import (
    Account,
    CheckoutSession,
    ConnectedAccount,
    Entry,
    Payout,
    PayoutBatch,
    Prize,
    Transaction,
)
from rewards.stripe import gateway as stripe_gateway

logger = logging.getLogger(__name__)

Method = Payout.Method
Status = Payout.Status
BY_HAND = (Method.BANK_TRANSFER, Method.ALIPAY, Method.WECHAT_PAY, Method.CASH)
MAX_BATCH = 500
# A Stripe payout still "being sent" this long after it was recorded lost its task: the sweep
# sends it again (the idempotency key makes that safe) — but only for RESEND_WITHIN: Stripe
# forgets idempotency keys after 24 hours, and a transfer made whose news was lost must not
# be made twice. Older ones stay "being sent" for staff to settle (the admin lists them).
RESEND_AFTER = datetime.timedelta(minutes=10)
RESEND_WITHIN = datetime.timedelta(hours=23)


@dataclass(frozen=True)
class Payable:
    """What the community owes a member, and how much of it can be paid out now."""

    membership: Membership
    balance: int
    held: int  # prizes in the hold after their week's close
    held_until: datetime.datetime | None
    reserved: int = 0  # promised to an entrance fee a challenge winner is paying at Stripe

    @property
    def available(self) -> int:
        return max(self.balance - self.held - self.reserved, 0)


def _hold(community: Community) -> datetime.timedelta:
    return datetime.timedelta(hours=community.payout_hold_hours)


def payables(
    *, community: Community, now: datetime.datetime | None = None, members: Sequence[int] = ()
) -> list[Payable]:
    """Every member the community owes money (or only ``members``), with what is held, in
    three queries whatever their number; the largest balance first."""
    now = now or timezone.now()
    rows = (
        Entry.objects.filter(
            account__community=community, account__kind=Account.Kind.MEMBER_PAYABLE
        )
        .values("account__membership")
        .annotate(total=Sum("amount"))
    )
    if members:
        rows = rows.filter(account__membership__in=list(members))
    balances = {r["account__membership"]: -int(r["total"]) for r in rows if r["total"]}
    held: dict[int, int] = defaultdict(int)
    until: dict[int, datetime.datetime] = {}
    # Held: prizes of weeks closed less than the hold ago — or still being closed (the prizes
    # are credited before the close's last step; the hold starts once it is done).
    for membership_id, amount, closed_at in Prize.objects.filter(
        Q(week_close__closed_at__isnull=True) | Q(week_close__closed_at__gt=now - _hold(community)),
        membership_id__in=list(balances),
        voided_at__isnull=True,
    ).values_list("membership_id", "amount", "week_close__closed_at"):
        held[membership_id] += amount
        if closed_at is not None:
            release = closed_at + _hold(community)
            until[membership_id] = max(until.get(membership_id, release), release)
    reserved = winnings_reserved(members=list(balances), now=now)
    people = Membership.objects.select_related("profile", "user", "community").in_bulk(
        list(balances)
    )
    found = [
        Payable(
            membership=people[pk],
            balance=balance,
            held=min(held[pk], max(balance, 0)),
            held_until=until.get(pk),
            reserved=reserved.get(pk, 0),
        )
        for pk, balance in balances.items()
        if balance != 0
    ]
    return sorted(found, key=lambda p: (-p.balance, p.membership.pk))


def winnings_reserved(
    *, members: Sequence[int], now: datetime.datetime | None = None
) -> dict[int, int]:
    """Per member, what a challenge winner's open joining checkout will take from their
    balance when Stripe says it is paid (``CheckoutSession.winnings_amount``): set aside, so
    it cannot be paid out or voided meanwhile. One query."""
    now = now or timezone.now()
    rows = (
        CheckoutSession.objects.filter(
            membership_id__in=list(members),
            kind=CheckoutSession.Kind.JOIN,
            status__in=[CheckoutSession.Status.CREATED, CheckoutSession.Status.OPEN],
            winnings_amount__gt=0,
            created_at__gt=now - 2 * stripe_gateway.CHECKOUT_LIFETIME,
        )
        .values("membership")
        .annotate(total=Sum("winnings_amount"))
    )
    return {r["membership"]: int(r["total"]) for r in rows}


def payable_of(*, membership: Membership, now: datetime.datetime | None = None) -> Payable:
    found = payables(community=membership.community, now=now, members=[membership.pk])
    return found[0] if found else Payable(membership, 0, 0, None)


def _method(value: object) -> str:
    if value not in Method.values:
        raise ValidationError(
            {"method": _("Choose bank transfer, Alipay, WeChat Pay, cash or Stripe.")},
            code="invalid",
        )
    return str(value)


def _reference(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise ValidationError({"reference": _("Enter text.")}, code="invalid")
    if len(text) > 200 or "\x00" in text:
        raise ValidationError({"reference": _("At most 200 characters.")}, code="max_length")
    return text


def _check_room(payable: Payable, amount: int, currency: str) -> None:
    if amount > payable.balance:
        raise ValidationError(
            {
                "amount": _("More than the member is owed (%(balance)s).")
                % {"balance": format_amount(max(payable.balance, 0), currency)}
            },
            code="above_balance",
        )
    if amount > payable.available:
        until = payable.held_until
        raise ValidationError(
            {
                "amount": _(
                    "%(held)s of this balance is in the hold after the week's close until "
                    "%(until)s; at most %(available)s can be paid out now."
                )
                % {
                    "held": format_amount(payable.held, currency),
                    "until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M") if until else "",
                    "available": format_amount(payable.available, currency),
                }
            },
            code="held",
        )


def _connected(membership: Membership) -> ConnectedAccount:
    account = ConnectedAccount.objects.filter(user_id=membership.user_id).first()
    if account is None or not account.stripe_account_id or not account.transfers_enabled:
        raise ValidationError(
            {
                "method": _(
                    "This member has not connected a Stripe account that can receive "
                    "transfers; pay them by hand."
                )
            },
            code="not_connected",
        )
    if not stripe_payouts_enabled():
        raise ValidationError(
            {"method": _("Paying through Stripe is not set up on this site.")},
            code="stripe_off",
        )
    return account


def _post_out(payout: Payout, actor: User | None) -> None:
    """payable → in transit."""
    community = payout.community
    ledger.transaction_post(
        community=community,
        kind=Transaction.Kind.PAYOUT,
        idempotency_key=f"payout:{payout.pk}:out",
        description=ledger.describe(
            Transaction.Kind.PAYOUT.label,
            Payout.Method(payout.method).label,
            payout.membership.profile.handle,
        ),
        occurred_at=payout.created_at,
        lines=[
            (
                ledger.account(
                    community=community,
                    kind=Account.Kind.MEMBER_PAYABLE,
                    membership=payout.membership,
                ),
                payout.amount,
            ),
            (
                ledger.account(community=community, kind=Account.Kind.PAYOUTS_IN_TRANSIT),
                -payout.amount,
            ),
        ],
        posted_by=actor,
    )


def _post_paid(payout: Payout, at: datetime.datetime) -> None:
    """in transit → cash (offline cash for payouts by hand, Stripe's for transfers)."""
    community = payout.community
    cash = (
        Account.Kind.PROVIDER_CASH if payout.method == Method.STRIPE else Account.Kind.OFFLINE_CASH
    )
    ledger.transaction_post(
        community=community,
        kind=Transaction.Kind.PAYOUT,
        idempotency_key=f"payout:{payout.pk}:paid",
        description=ledger.describe(
            _("Paid out"), Payout.Method(payout.method).label, payout.membership.profile.handle
        ),
        occurred_at=at,
        lines=[
            (
                ledger.account(community=community, kind=Account.Kind.PAYOUTS_IN_TRANSIT),
                payout.amount,
            ),
            (ledger.account(community=community, kind=cash), -payout.amount),
        ],
    )


def _record(
    *,
    actor: User,
    membership: Membership,
    amount: int,
    method: str,
    reference: str,
    batch: PayoutBatch | None,
    now: datetime.datetime,
    payable: Payable | None = None,
) -> Payout:
    """One payout, with the member's membership locked by the caller (and what they are
    owed read after that lock, when the caller passes ``payable``)."""
    community = membership.community
    account = _connected(membership) if method == Method.STRIPE else None
    if payable is None:
        payable = payable_of(membership=membership, now=now)
    _check_room(payable, amount, community.currency)
    payout = Payout.objects.create(
        community=community,
        membership=membership,
        amount=amount,
        currency=community.currency,
        method=method,
        reference=reference,
        batch=batch,
        stripe_account_id=account.stripe_account_id if account else "",
        created_by=actor,
        status=Status.PENDING if method == Method.STRIPE else Status.PAID,
        paid_at=None if method == Method.STRIPE else now,
    )
    _post_out(payout, actor)
    if method == Method.STRIPE:
        from rewards import tasks

        outbox.enqueue(tasks.payout_transfer_send, payout.pk)
    else:
        _post_paid(payout, now)
    member_services.audit(
        community=community,
        event=MoneyEvent.PAYOUT_RECORDED,
        actor=actor,
        membership=membership,
        data={
            "payout": payout.pk,
            "amount": amount,
            "method": method,
            "reference": reference,
            "batch": batch.pk if batch else None,
        },
    )
    return payout


def _member(community: Community, member: object) -> int:
    if isinstance(member, Membership):
        member = member.pk
    if isinstance(member, bool) or not isinstance(member, int):
        raise ValidationError({"member": _("Give a member's id.")}, code="invalid")
    if not Membership.objects.filter(community=community, pk=member).exists():
        raise ValidationError({"member": _("Choose a member of this community.")}, code="invalid")
    return member


def payout_record(
    *,
    actor: User,
    community: Community,
    member: object,
    amount: object,
    method: object,
    reference: object = "",
    now: datetime.datetime | None = None,
) -> Payout:
    """Pay a member (part of) their balance: by hand (recorded as sent) or through Stripe
    Connect (sent by a task). ValidationError naming the field, nothing written, for an
    unknown member, a bad amount, more than the balance or the held part of it."""
    now = now or timezone.now()
    member_id = _member(community, member)
    value = services.check_amount(amount, community.currency)
    chosen = _method(method)
    text = _reference(reference)
    with transaction.atomic():
        membership = locks.membership(member_id)
        return _record(
            actor=actor,
            membership=membership,
            amount=value,
            method=chosen,
            reference=text,
            batch=None,
            now=now,
        )


def payouts_batch(
    *,
    actor: User,
    community: Community,
    items: Sequence[tuple[object, object]],
    method: object,
    reference: object = "",
    now: datetime.datetime | None = None,
) -> PayoutBatch:
    """Pay several members at once — ``(member, amount)`` pairs — by one method: all of them
    or, if any is refused, none (the error names the member)."""
    now = now or timezone.now()
    chosen = _method(method)
    text = _reference(reference)
    if not items:
        raise ValidationError({"items": _("Choose at least one member to pay.")}, code="empty")
    if len(items) > MAX_BATCH:
        raise ValidationError(
            {"items": _("At most %(n)d payouts at once.") % {"n": MAX_BATCH}}, code="too_many"
        )
    cleaned: list[tuple[int, int]] = []
    for member, amount in items:
        member_id = _member(community, member)
        cleaned.append((member_id, services.check_amount(amount, community.currency)))
    if len({m for m, _a in cleaned}) != len(cleaned):
        raise ValidationError({"items": _("Each member once per batch.")}, code="duplicate")
    with transaction.atomic():
        people = locks.memberships([m for m, _a in cleaned])
        # What each is owed, read once for the batch (not three queries a member).
        owed = {
            p.membership.pk: p for p in payables(community=community, now=now, members=list(people))
        }
        batch = PayoutBatch.objects.create(
            community=community, method=chosen, reference=text, created_by=actor
        )
        for member_id, value in cleaned:
            try:
                _record(
                    actor=actor,
                    membership=people[member_id],
                    amount=value,
                    method=chosen,
                    reference=text,
                    batch=batch,
                    now=now,
                    payable=owed.get(member_id, Payable(people[member_id], 0, 0, None)),
                )
            except ValidationError as exc:
                handle = people[member_id].profile.handle
                raise ValidationError(
                    {"items": [f"{handle}: {message}" for message in exc.messages]},
                    code="refused",
                ) from None
    return batch


def batch_csv(*, batch: PayoutBatch, viewer: Membership) -> str:
    """The batch as CSV for the bank: who (with the real name when the viewer — an
    organiser — may see it, through the privacy module), how much, the reference."""
    out = io.StringIO()
    out.write("\ufeff")  # a BOM, so spreadsheet programs read the names as UTF-8
    writer = csv.writer(out)
    names = [
        c
        for c in privacy.export_columns(viewer=viewer, community=viewer.community)
        if c == "real_name"
    ]
    writer.writerow(
        ["payout", "member", "handle", "name", "amount", "currency", "method", "reference"]
    )
    for payout in (
        batch.payouts.select_related("membership__profile__community", "membership")
        .prefetch_related("membership__profile__tags")
        .order_by("pk")
    ):
        profile = payout.membership.profile
        name = privacy.export_row(viewer=viewer, profile=profile, columns=names) if names else [""]
        writer.writerow(
            [
                payout.pk,
                payout.membership_id,
                cell(profile.handle),
                cell(name[0]),
                to_major(payout.amount, payout.currency),
                payout.currency,
                payout.method,
                cell(payout.reference),
            ]
        )
    return out.getvalue()


# --- Stripe Connect -------------------------------------------------------------------------


def transfer_send(*, payout_id: int) -> bool:
    """The task's body: ask Stripe for the transfer of a payout still being sent (outside any
    lock; the idempotency key names our row), then record what Stripe said. Returns whether
    a call went out. Raises StripeUnavailableError when Stripe could not be reached (the
    task retries)."""
    payout = Payout.objects.select_related("community").filter(pk=payout_id).first()
    if payout is None or payout.status != Status.PENDING or payout.method != Method.STRIPE:
        return False
    try:
        transfer_id = stripe_gateway.transfer_create(
            amount=payout.amount,
            currency=payout.currency,
            destination=payout.stripe_account_id,
            key=f"payout:{payout.pk}",
            metadata={
                "payout": str(payout.pk),
                "community": str(payout.community_id),
                "membership": str(payout.membership_id),
            },
        )
    except stripe_gateway.StripeRefusedError as exc:
        payout_failed(payout_id=payout.pk, error=str(exc))
        return True
    transfer_paid(payout_id=payout.pk, transfer_id=transfer_id, at=timezone.now())
    return True


def transfer_paid(*, payout_id: int, transfer_id: str, at: datetime.datetime) -> Payout | None:
    """Stripe made the transfer: in transit → Stripe cash. Idempotent."""
    with transaction.atomic():
        payout = locks.payout(payout_id)
        if payout is None:
            return None
        if not payout.stripe_transfer_id:
            payout.stripe_transfer_id = transfer_id
        if payout.status == Status.PENDING:
            payout.status, payout.paid_at = Status.PAID, at
            _post_paid(payout, at)
        payout.save(update_fields=["stripe_transfer_id", "status", "paid_at"])
    return payout


def _back_to_payable(payout: Payout, key: str, source: str, at: datetime.datetime) -> None:
    community = payout.community
    ledger.transaction_post(
        community=community,
        kind=Transaction.Kind.PAYOUT,
        idempotency_key=key,
        description=ledger.describe(_("Payout returned"), payout.membership.profile.handle),
        occurred_at=at,
        lines=[
            (ledger.account(community=community, kind=source), payout.amount),
            (
                ledger.account(
                    community=community,
                    kind=Account.Kind.MEMBER_PAYABLE,
                    membership=payout.membership,
                ),
                -payout.amount,
            ),
        ],
    )


def payout_failed(*, payout_id: int, error: str) -> Payout | None:
    """Stripe refused the transfer: the money goes back into the member's payable balance
    (in transit → payable). Idempotent."""
    now = timezone.now()
    with transaction.atomic():
        payout = locks.payout(payout_id)
        if payout is None or payout.status != Status.PENDING:
            return payout
        payout.status, payout.failed_at, payout.error = Status.FAILED, now, error[:2000]
        payout.save(update_fields=["status", "failed_at", "error"])
        _back_to_payable(payout, f"payout:{payout.pk}:failed", Account.Kind.PAYOUTS_IN_TRANSIT, now)
        member_services.audit(
            community=payout.community,
            event=MoneyEvent.PAYOUT_FAILED,
            actor=None,
            membership=payout.membership,
            data={"payout": payout.pk, "error": error[:500]},
        )
    return payout


def transfer_reversed(*, payout_id: int, at: datetime.datetime) -> Payout | None:
    """A transfer was reversed after it was made: Stripe cash → the member's payable.
    Idempotent."""
    with transaction.atomic():
        payout = locks.payout(payout_id)
        if payout is None or payout.status in (Status.REVERSED, Status.FAILED):
            return payout
        if payout.status == Status.PENDING:  # reversed before we heard it was made
            payout.paid_at = at
            _post_paid(payout, at)
        payout.status, payout.failed_at = Status.REVERSED, at
        payout.save(update_fields=["status", "paid_at", "failed_at"])
        _back_to_payable(payout, f"payout:{payout.pk}:reversed", Account.Kind.PROVIDER_CASH, at)
        member_services.audit(
            community=payout.community,
            event=MoneyEvent.PAYOUT_FAILED,
            actor=None,
            membership=payout.membership,
            data={"payout": payout.pk, "reversed": True},
        )
    return payout


def pending_sweep(*, now: datetime.datetime | None = None) -> int:
    """Beat: Stripe payouts still being sent after RESEND_AFTER lost their task; queue them
    again (the idempotency key makes a second call return the first transfer)."""
    from rewards import tasks

    now = now or timezone.now()
    stuck = list(
        Payout.objects.filter(
            method=Method.STRIPE,
            status=Status.PENDING,
            created_at__lt=now - RESEND_AFTER,
            created_at__gt=now - RESEND_WITHIN,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:200]
    )
    for pk in stuck:
        tasks.payout_transfer_send.delay(pk)
    return len(stuck)


def connect_start(*, user: User, return_url: str, refresh_url: str) -> str:
    """Where a member sets up (or finishes setting up) their Stripe Express account to be
    paid: our row is made first (its id keys the account's creation), then Stripe is asked,
    outside any lock. Returns Stripe's onboarding address."""
    stripe_gateway.ensure_configured()
    account, _created = ConnectedAccount.objects.get_or_create(user=user)
    if not account.stripe_account_id:
        stripe_id = stripe_gateway.connect_account_create(
            key=f"connect-account:{account.pk}",
            email=user.email,
            metadata={"user": str(user.pk)},
        )
        ConnectedAccount.objects.filter(pk=account.pk, stripe_account_id="").update(
            stripe_account_id=stripe_id
        )
        account.refresh_from_db()
    return stripe_gateway.account_link_create(
        account_id=account.stripe_account_id, return_url=return_url, refresh_url=refresh_url
    )


def connect_refresh(*, user: User) -> ConnectedAccount | None:
    """Ask Stripe how the member's account stands (on their return from onboarding)."""
    account = ConnectedAccount.objects.filter(user=user).exclude(stripe_account_id="").first()
    if account is None:
        return None
    state = stripe_gateway.account_state(account_id=account.stripe_account_id)
    return account_updated(stripe_account_id=account.stripe_account_id, **state)


def account_updated(
    *, stripe_account_id: str, details_submitted: bool, transfers_enabled: bool
) -> ConnectedAccount | None:
    """What Stripe says of a connected account (``account.updated``, or asked on return)."""
    with transaction.atomic():
        account = (
            ConnectedAccount.objects.select_for_update()
            .filter(stripe_account_id=stripe_account_id)
            .first()
        )
        if account is None:
            return None
        account.details_submitted = details_submitted
        account.transfers_enabled = transfers_enabled
        account.save(update_fields=["details_submitted", "transfers_enabled", "updated_at"])
    return account


# --- Earnings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Earnings:
    """A member's money in a community, as they see it (positive: in their favour)."""

    won: int  # prizes, less voided ones
    tips: int  # tips received, less the platform fee and refunds
    moderator_pay: int
    used_to_join: int  # an entrance fee paid from a prize
    paid_out: int  # sent to them (or being sent)
    owed: int  # the balance: what the community owes them now
    held: int
    held_until: datetime.datetime | None

    @property
    def available(self) -> int:
        return max(self.owed - self.held, 0)


def earnings(*, membership: Membership, now: datetime.datetime | None = None) -> Earnings:
    """The member's earnings by kind, from their payable account's entries (two queries)."""
    by_kind: dict[str, int] = defaultdict(int)
    for kind, total in (
        Entry.objects.filter(
            account__community_id=membership.community_id,
            account__kind=Account.Kind.MEMBER_PAYABLE,
            account__membership=membership,
        )
        .values("transaction__kind")
        .annotate(total=Sum("amount"))
        .values_list("transaction__kind", "total")
    ):
        by_kind[kind] -= int(total)  # credits to the member are negative entries
    payable = payable_of(membership=membership, now=now)
    kinds = Transaction.Kind
    return Earnings(
        won=by_kind[kinds.WEEK_CLOSE] + by_kind[kinds.PRIZE_VOID],
        tips=by_kind[kinds.TIP] + by_kind[kinds.REFUND],
        moderator_pay=by_kind[kinds.MODERATOR_PAY],
        used_to_join=-by_kind[kinds.PAYMENT],
        paid_out=-by_kind[kinds.PAYOUT],
        owed=payable.balance,
        held=payable.held,
        held_until=payable.held_until,
    )


def payouts_of(*, community: Community, membership: Membership | None = None) -> list[Payout]:
    qs = Payout.objects.filter(community=community).select_related("membership__profile", "batch")
    if membership is not None:
        qs = qs.filter(membership=membership)
    return list(qs.order_by("-created_at", "-pk")[:200])


def stripe_payouts_enabled() -> bool:
    """Members can connect a Stripe account to be paid (STRIPE_CONNECT on, Stripe set up)."""
    return stripe_gateway.configured() and bool(settings.STRIPE_CONNECT)
