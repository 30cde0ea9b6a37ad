"""Background jobs of the money app. Tasks take ids, tolerate missing rows, are idempotent."""

from __future__ import annotations

from celery import shared_task

from rewards import payouts, standing, subscriptions, webhooks
from rewards.stripe import events as stripe_events
from rewards.stripe import gateway as stripe_gateway


@shared_task(ignore_result=True)
def stripe_event_process(event_id: int) -> None:
    """Act on a stored Stripe webhook event (once: the row is locked and its status checked)."""
    webhooks.event_process(event_id=event_id)


@shared_task(ignore_result=True)
def stripe_events_sweep() -> None:
    """Beat: try waiting events again; queue events whose task was lost."""
    webhooks.events_sweep()


@shared_task(
    ignore_result=True,
    autoretry_for=(stripe_gateway.StripeUnavailableError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=12,
)
def stripe_subscription_stop(checkout_id: int) -> None:
    """Tell Stripe to stop a subscription we recorded as to be stopped (retried while Stripe
    cannot be reached)."""
    subscriptions.subscription_stop_send(checkout_id=checkout_id)


@shared_task(
    ignore_result=True,
    autoretry_for=(stripe_gateway.StripeUnavailableError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=12,
)
def stripe_payment_method_set(stripe_event_id: str) -> None:
    """Tell Stripe to charge a subscription with the card or account its member saved, as a
    processed webhook event says (queued on that event's commit, so no lock is held; retried
    while Stripe cannot be reached)."""
    stripe_events.payment_method_send(stripe_event_id=stripe_event_id)


@shared_task(ignore_result=True)
def stripe_lapse_due() -> None:
    """Beat: lapse members whose grace period ran out or whose subscription ended."""
    standing.lapse_due()


@shared_task(
    ignore_result=True,
    autoretry_for=(stripe_gateway.StripeUnavailableError,),
    dont_autoretry_for=(stripe_gateway.StripeRefusedError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=12,
)
def payout_transfer_send(payout_id: int) -> None:
    """Ask Stripe for a payout's transfer (retried while Stripe cannot be reached)."""
    payouts.transfer_send(payout_id=payout_id)


@shared_task(ignore_result=True)
def payouts_pending_sweep() -> None:
    """Beat: send again Stripe payouts whose task was lost."""
    payouts.pending_sweep()
