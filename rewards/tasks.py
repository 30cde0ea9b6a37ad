"""Background jobs of the money app. Tasks take ids, tolerate missing rows, are idempotent."""

from __future__ import annotations

from celery import shared_task

from rewards import standing, stripe_gateway, webhooks


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
    standing.subscription_stop_send(checkout_id=checkout_id)


@shared_task(ignore_result=True)
def stripe_lapse_due() -> None:
    """Beat: lapse members whose grace period ran out or whose subscription ended."""
    standing.lapse_due()


@shared_task(ignore_result=True)
def stripe_leavers_subscriptions_stop() -> None:
    """Beat: stop charging members whose membership an organiser ended by hand."""
    standing.leavers_subscriptions_stop()
