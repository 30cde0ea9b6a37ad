"""Django admin for the platform's staff: money is read-only here. Payments are recorded and
reversed through the services (the portal, the API, the webhooks), which post the ledger and
write the audit row; the ledger is append-only. The one action is processing a failed Stripe
event again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from rewards import webhooks
from rewards.models import (
    Account,
    BudgetAdjustment,
    CheckoutSession,
    ConnectedAccount,
    Entry,
    Payment,
    Payout,
    PayoutBatch,
    Prize,
    Refund,
    StripeEvent,
    Subscription,
    Transaction,
    WeekClose,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ("account", "amount")
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("reason", "amount", "received_at", "stripe_id", "note", "recorded_by")
    readonly_fields = fields


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("community", "kind", "membership")
    list_filter = ("kind", "community")
    list_select_related = ("community", "membership")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "community",
        "kind",
        "method",
        "amount",
        "currency",
        "membership",
        "stripe_id",
    )
    list_filter = ("kind", "method", "community")
    search_fields = ("stripe_id", "reference", "membership__profile__handle")
    list_select_related = ("community", "membership")
    date_hierarchy = "received_at"
    inlines = [RefundInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "reason", "amount", "payment", "stripe_id")
    list_filter = ("reason",)
    search_fields = ("stripe_id", "payment__stripe_id")
    list_select_related = ("payment",)


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "community", "kind", "description", "payment", "refund")
    list_filter = ("kind", "community")
    search_fields = ("description", "idempotency_key")
    list_select_related = ("community", "payment", "refund")
    date_hierarchy = "occurred_at"
    inlines = [EntryInline]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("transaction", "account", "amount")
    list_filter = ("account__kind",)
    list_select_related = ("transaction", "account")


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "community",
        "kind",
        "status",
        "membership",
        "amount_due",
        "subscription_status",
        "stripe_session_id",
    )
    list_filter = ("kind", "status", "subscription_status", "community")
    search_fields = (
        "stripe_session_id",
        "stripe_subscription_id",
        "stripe_invoice_id",
        "stripe_payment_intent_id",
        "stripe_customer_id",
    )
    list_select_related = ("community", "membership")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    """Members' monthly subscriptions (the join checkouts that started them) and their
    standing, as the webhooks reported it."""

    list_display = (
        "stripe_subscription_id",
        "community",
        "membership",
        "subscription_status",
        "latest_invoice_paid",
        "grace_until",
        "period_end",
        "cancel_requested_at",
        "ended_at",
    )
    list_filter = ("subscription_status", "cancel_at_period_end", "community")
    search_fields = ("stripe_subscription_id", "stripe_customer_id", "latest_invoice_id")
    list_select_related = ("community", "membership")
    fields = (
        "community",
        "membership",
        "stripe_subscription_id",
        "stripe_customer_id",
        "monthly_amount",
        "currency",
        "subscription_status",
        "latest_invoice_id",
        "latest_invoice_created",
        "latest_invoice_paid",
        "grace_until",
        "period_end",
        "cancel_requested_at",
        "cancel_at_period_end",
        "ended_at",
        "created_at",
    )


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "type", "event_id", "status", "processed_at", "error")
    list_filter = ("status", "type")
    search_fields = ("event_id", "type")
    actions = ["process_again"]

    @admin.action(description=_("Process failed events again"))
    def process_again(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> None:
        failed = list(queryset.filter(status=StripeEvent.Status.FAILED))
        for event in failed:
            webhooks.event_retry(event=event)
        self.message_user(
            request,
            ngettext("%(n)d event queued again.", "%(n)d events queued again.", len(failed))
            % {"n": len(failed)},
            messages.SUCCESS,
        )


# --- The weekly cycle: closes, prizes, adjustments, payouts (written by the services) ---------


class PrizeInline(ReadOnlyInline):
    model = Prize
    fields = ("place", "membership", "answer", "votes", "amount", "voided_at", "void_reason")
    readonly_fields = fields


@admin.register(WeekClose)
class WeekCloseAdmin(ReadOnlyAdmin):
    list_display = (
        "week",
        "community",
        "reward_scheduled",
        "reward_rollover_in",
        "reward_paid",
        "reward_rollover_out",
        "operations_paid",
        "operations_rollover_out",
        "closed_at",
    )
    list_filter = ("community",)
    list_select_related = ("community",)
    date_hierarchy = "week"
    inlines = [PrizeInline]


@admin.register(Prize)
class PrizeAdmin(ReadOnlyAdmin):
    list_display = ("week_close", "place", "membership", "votes", "amount", "voided_at")
    list_filter = ("place", "week_close__community")
    list_select_related = ("week_close", "membership")


@admin.register(BudgetAdjustment)
class BudgetAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "community", "week", "fund", "amount", "reason")
    list_filter = ("fund", "community")
    list_select_related = ("community",)


class PayoutInline(ReadOnlyInline):
    model = Payout
    fields = ("membership", "amount", "currency", "method", "status", "reference")
    readonly_fields = fields


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "community", "method", "reference", "created_by")
    list_filter = ("method", "community")
    list_select_related = ("community", "created_by")
    inlines = [PayoutInline]


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "community",
        "membership",
        "amount",
        "currency",
        "method",
        "status",
        "reference",
        "stripe_transfer_id",
    )
    list_filter = ("status", "method", "community")
    search_fields = ("reference", "stripe_transfer_id", "membership__profile__handle")
    list_select_related = ("community", "membership")
    date_hierarchy = "created_at"


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "stripe_account_id", "details_submitted", "transfers_enabled")
    list_filter = ("transfers_enabled",)
    search_fields = ("stripe_account_id", "user__email")
    list_select_related = ("user",)
