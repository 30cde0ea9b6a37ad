"""API shapes for payments, weeks and the ledger. Amounts are integer minor units."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from members.serializers import MinorUnitsField, StrictPayloadMixin
from rewards.models import CheckoutSession, Entry, Payment, Payout, Refund, Transaction
from rewards.selectors import account_key


class StrictDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its offset; a time without one is refused, not guessed."""

    default_error_messages = {
        "no_offset": _("Give the time with its offset, e.g. 2026-11-27T10:00:00+08:00."),
    }

    def to_internal_value(self, value: Any) -> Any:
        parsed = super().to_internal_value(value)
        if isinstance(value, str) and not any(c in value[10:] for c in "+-Z"):
            self.fail("no_offset")
        return parsed


class PaymentInputSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    member = serializers.IntegerField(min_value=1, help_text=_("The member's id."))
    kind = serializers.ChoiceField(choices=[Payment.Kind.ENTRANCE, Payment.Kind.MONTHLY])
    amount = MinorUnitsField()
    received_at = StrictDateTimeField()
    method = serializers.ChoiceField(
        choices=[Payment.Method.BANK_TRANSFER, Payment.Method.CASH],
        default=Payment.Method.BANK_TRANSFER,
    )
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ReverseInputSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    amount = MinorUnitsField(required=False)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


def refund_data(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.pk,
        "reason": refund.reason,
        "amount": refund.amount,
        "at": refund.received_at,
        "note": refund.note,
    }


def payment_data(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.pk,
        "member": payment.membership_id,
        "kind": payment.kind,
        "method": payment.method,
        "amount": payment.amount,
        "currency": payment.currency,
        "received_at": payment.received_at,
        "reference": payment.reference,
        "refunds": [refund_data(r) for r in payment.refunds.all()],
    }


def entry_data(entry: Entry) -> dict[str, Any]:
    return {"account": account_key(entry.account), "amount": entry.amount}


def transaction_data(t: Transaction) -> dict[str, Any]:
    return {
        "id": t.pk,
        "kind": t.kind,
        "description": t.description,
        "occurred_at": t.occurred_at,
        "posted_at": t.posted_at,
        "payment": t.payment_id,
        "refund": t.refund_id,
        "reverses": t.reverses_id,
        "entries": [entry_data(e) for e in t.entries.all()],
    }


class PayoutInputSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    member = serializers.IntegerField(min_value=1, help_text=_("The member's id."))
    amount = MinorUnitsField(min_value=1)
    method = serializers.ChoiceField(choices=Payout.Method.choices)
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)


class VoidInputSerializer(StrictPayloadMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


def payout_data(payout: Payout) -> dict[str, Any]:
    return {
        "id": payout.pk,
        "member": payout.membership_id,
        "handle": payout.membership.profile.handle,
        "amount": payout.amount,
        "currency": payout.currency,
        "method": payout.method,
        "reference": payout.reference,
        "status": payout.status,
        "batch": payout.batch_id,
        "stripe_transfer": payout.stripe_transfer_id or None,
        "created_at": payout.created_at,
        "paid_at": payout.paid_at,
        "error": payout.error,
    }


# --- Output shapes, for the schema (the data itself comes from the functions above and the
# views). Amounts are integer minor units, signed where they can be negative. ---------------


class RefundOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=Refund.Reason.choices)
    amount = serializers.IntegerField()
    at = serializers.DateTimeField()
    note = serializers.CharField(allow_blank=True)


class PaymentOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    member = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Payment.Kind.choices)
    method = serializers.ChoiceField(choices=Payment.Method.choices)
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    received_at = serializers.DateTimeField()
    reference = serializers.CharField(allow_blank=True)
    refunds = RefundOutputSerializer(many=True)


class EntryOutputSerializer(serializers.Serializer[Any]):
    account = serializers.CharField()
    amount = serializers.IntegerField(help_text=_("Debit positive, credit negative."))


class TransactionOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Transaction.Kind.choices)
    description = serializers.CharField(allow_blank=True)
    occurred_at = serializers.DateTimeField()
    posted_at = serializers.DateTimeField()
    payment = serializers.IntegerField(allow_null=True)
    refund = serializers.IntegerField(allow_null=True)
    reverses = serializers.IntegerField(allow_null=True)
    entries = EntryOutputSerializer(many=True)


class BalanceSerializer(serializers.Serializer[Any]):
    account = serializers.CharField()
    balance = serializers.IntegerField(help_text=_("Debit positive, credit negative."))


class FundPairSerializer(serializers.Serializer[Any]):
    reward = serializers.IntegerField()
    operations = serializers.IntegerField()


class WinnerSerializer(serializers.Serializer[Any]):
    place = serializers.IntegerField()
    answer = serializers.IntegerField()
    member = serializers.IntegerField()
    handle = serializers.CharField()
    votes = serializers.IntegerField()
    amount = serializers.IntegerField()
    voided = serializers.BooleanField()


class WeekWinnerSerializer(WinnerSerializer):
    question = serializers.IntegerField()


class WeekModeratorSerializer(serializers.Serializer[Any]):
    member = serializers.IntegerField()
    handle = serializers.CharField(allow_blank=True)


class WeekKpisSerializer(serializers.Serializer[Any]):
    """Empty until the week is closed."""

    answerers = serializers.IntegerField(required=False)
    answers = serializers.IntegerField(required=False)
    quality = serializers.FloatField(required=False, help_text=_("Average stars, 0 to 5."))


class WeekSerializer(serializers.Serializer[Any]):
    """A week (SPEC §5): budgets and rollover; once closed, also the winners, the rollover
    out, what was paid and the moderator's pay and KPIs."""

    week = serializers.CharField(help_text=_("2026-W48"))
    begins_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    currency = serializers.CharField()
    closed = serializers.BooleanField()
    reward_budget = serializers.IntegerField()
    operations_budget = serializers.IntegerField()
    reward_scheduled = serializers.IntegerField()
    operations_scheduled = serializers.IntegerField()
    rollover_in = FundPairSerializer()
    late_shares = FundPairSerializer()
    adjustments = FundPairSerializer()
    rollover_out = FundPairSerializer(allow_null=True)
    paid = FundPairSerializer(required=False, help_text=_("Once closed."))
    closed_at = serializers.DateTimeField(required=False, help_text=_("Once closed."))
    winners = WeekWinnerSerializer(many=True)
    moderator = WeekModeratorSerializer(allow_null=True)
    moderator_pay = serializers.IntegerField(allow_null=True)
    kpis = WeekKpisSerializer()


class ClosedWeekSerializer(serializers.Serializer[Any]):
    week = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    reward_budget = serializers.IntegerField()
    reward_paid = serializers.IntegerField()
    rollover_out = FundPairSerializer()
    winners = WinnerSerializer(many=True)


class LeaderboardRowSerializer(serializers.Serializer[Any]):
    rank = serializers.IntegerField()
    member = serializers.IntegerField()
    handle = serializers.CharField()
    wins = serializers.IntegerField()
    first_places = serializers.IntegerField()
    votes = serializers.IntegerField()
    amount = serializers.IntegerField()


class LeaderboardSerializer(serializers.Serializer[Any]):
    period = serializers.CharField()
    currency = serializers.CharField()
    results = LeaderboardRowSerializer(many=True)


class FairPlayPersonSerializer(serializers.Serializer[Any]):
    member = serializers.IntegerField()
    handle = serializers.CharField()


class MutualPairSerializer(serializers.Serializer[Any]):
    members = FairPlayPersonSerializer(many=True)
    votes = serializers.ListField(child=serializers.IntegerField())


class OneAuthorVoterSerializer(serializers.Serializer[Any]):
    voter = FairPlayPersonSerializer()
    author = FairPlayPersonSerializer()
    votes = serializers.IntegerField()


class NewVoterSerializer(serializers.Serializer[Any]):
    voter = FairPlayPersonSerializer()
    activated_at = serializers.DateTimeField(allow_null=True)
    votes = serializers.IntegerField()


class FairPlaySerializer(serializers.Serializer[Any]):
    week = serializers.CharField()
    votes = serializers.IntegerField()
    voters = serializers.IntegerField()
    mutual_pairs = MutualPairSerializer(many=True)
    one_author_voters = OneAuthorVoterSerializer(many=True)
    new_voters = NewVoterSerializer(many=True)


class PrizeVoidedSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    voided = serializers.BooleanField()
    voided_at = serializers.DateTimeField()
    reason = serializers.CharField()
    amount = serializers.IntegerField()


class PayoutOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    member = serializers.IntegerField()
    handle = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    method = serializers.ChoiceField(choices=Payout.Method.choices)
    reference = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Payout.Status.choices)
    batch = serializers.IntegerField(allow_null=True)
    stripe_transfer = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True)


class PayableSerializer(serializers.Serializer[Any]):
    member = serializers.IntegerField()
    handle = serializers.CharField()
    balance = serializers.IntegerField()
    held = serializers.IntegerField()
    held_until = serializers.DateTimeField(allow_null=True)
    available = serializers.IntegerField()


class PayoutListSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField()
    hold_hours = serializers.IntegerField()
    payables = PayableSerializer(many=True)
    payouts = PayoutOutputSerializer(many=True)


class EarningsSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField()
    won = serializers.IntegerField()
    tips = serializers.IntegerField()
    moderator_pay = serializers.IntegerField()
    used_to_join = serializers.IntegerField()
    paid_out = serializers.IntegerField()
    owed = serializers.IntegerField()
    held = serializers.IntegerField()
    available = serializers.IntegerField()
    payouts = PayoutOutputSerializer(many=True)


class CheckoutOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CheckoutSession.Kind.choices)
    status = serializers.ChoiceField(choices=CheckoutSession.Status.choices)
    currency = serializers.CharField()
    entrance_amount = serializers.IntegerField()
    monthly_amount = serializers.IntegerField()
    tip_amount = serializers.IntegerField()
    amount_due = serializers.IntegerField()
    answer = serializers.IntegerField(allow_null=True)
    url = serializers.CharField(
        allow_blank=True, help_text=_("Stripe's payment page while the checkout is open.")
    )
    membership_status = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class SubscriptionCancelledSerializer(serializers.Serializer[Any]):
    cancel_at_period_end = serializers.BooleanField()
    cancel_requested_at = serializers.DateTimeField(allow_null=True)
    membership_status = serializers.CharField()


class PaymentMethodPageSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(help_text=_("Stripe's page that saves a new payment method."))
