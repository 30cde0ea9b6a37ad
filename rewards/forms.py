"""Portal forms for money. Amounts are typed in major units and stored in minor units."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from members.currency import to_major, to_minor
from members.forms import set_choices
from members.models import Community, Membership
from rewards.models import Payment


class OfflinePaymentForm(forms.Form):
    member = forms.ChoiceField(label=_("Member"))
    kind = forms.ChoiceField(
        label=_("For"),
        choices=[
            (Payment.Kind.ENTRANCE, Payment.Kind.ENTRANCE.label),
            (Payment.Kind.MONTHLY, Payment.Kind.MONTHLY.label),
        ],
    )
    amount = forms.CharField(label=_("Amount"), max_length=20, help_text=_("e.g. 200.00"))
    received_at = forms.DateTimeField(
        label=_("Received at"),
        help_text=_("In the community's time zone, e.g. 2026-11-27 10:00."),
    )
    method = forms.ChoiceField(
        label=_("How"),
        choices=[
            (Payment.Method.BANK_TRANSFER, Payment.Method.BANK_TRANSFER.label),
            (Payment.Method.CASH, Payment.Method.CASH.label),
        ],
    )
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)

    def __init__(self, *args: Any, community: Community, members: list[Membership], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.community = community
        set_choices(self, "member", [(str(m.pk), m.profile.handle) for m in members])

    def clean_amount(self) -> int:
        try:
            return to_minor(
                self.cleaned_data["amount"].replace(",", "").strip(), self.community.currency
            )
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class ReverseForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount to reverse"),
        max_length=20,
        required=False,
        help_text=_("Leave empty to reverse all that is left."),
    )
    note = forms.CharField(label=_("Why"), max_length=500)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int | None:
        raw = self.cleaned_data["amount"].replace(",", "").strip()
        if not raw:
            return None
        try:
            return to_minor(raw, self.currency)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class LedgerFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    week = forms.CharField(label=_("Week"), max_length=10, required=False)
    # A handle or, for those who may see it (members.privacy), a real name; resolved by
    # rewards.selectors.ledger_member. A number still finds a member by id, as links did.
    member = forms.CharField(label=_("Member"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from rewards.models import Transaction

        super().__init__(*args, **kwargs)
        set_choices(self, "kind", [("", _("Any")), *Transaction.Kind.choices])
        self.fields["week"].widget.attrs["placeholder"] = "2026-W48"
        self.fields["member"].widget.attrs["placeholder"] = _("handle or name")


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this win voided?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the audit log, e.g. “a ring of accounts voting for each other”."),
    )


class PayoutBatchForm(forms.Form):
    """Pay the members ticked, each the amount typed (in major units; what can be paid out
    now is filled in), by one method with one reference."""

    method = forms.ChoiceField(label=_("Paid by"))
    reference = forms.CharField(
        label=_("Reference"),
        max_length=200,
        required=False,
        help_text=_("The bank transfer's or the Alipay / WeChat Pay transaction's reference."),
    )

    def __init__(
        self,
        *args: Any,
        payables: list[Any],
        methods: list[tuple[str, str]],
        currency: str,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.payables = [p for p in payables if p.balance > 0]
        set_choices(self, "method", methods)
        for payable in self.payables:
            pk = payable.membership.pk
            self.fields[f"pay_{pk}"] = forms.BooleanField(
                label=payable.membership.profile.handle, required=False
            )
            self.fields[f"amount_{pk}"] = forms.CharField(
                label=_("Amount"),
                max_length=20,
                required=False,
                initial=to_major(payable.available, currency) if payable.available else "",
            )

    @property
    def rows(self) -> list[tuple[Any, forms.BoundField, forms.BoundField]]:
        return [
            (p, self[f"pay_{p.membership.pk}"], self[f"amount_{p.membership.pk}"])
            for p in self.payables
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = []
        for payable in self.payables:
            pk = payable.membership.pk
            if not data.get(f"pay_{pk}"):
                continue
            typed = (data.get(f"amount_{pk}") or "").replace(",", "").strip()
            try:
                amount = to_minor(typed, self.currency)
            except ValidationError as exc:
                self.add_error(f"amount_{pk}", exc.messages)
                continue
            chosen.append((pk, amount))
        if not chosen and not self.errors:
            raise ValidationError(_("Tick at least one member to pay."))
        data["items"] = chosen
        return data

    def items(self) -> list[tuple[int, int]]:
        return list(self.cleaned_data["items"])
