"""API shapes for payments, weeks and the ledger. Amounts are integer minor units."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from members.serializers import MinorUnitsField, StrictPayloadMixin
from rewards.models import Entry, Payment, Payout, Refund, Transaction
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
